package study

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ConsensusColumns are the columns of a consensus table (Table 1), in order.
var ConsensusColumns = []string{"hash_name", "hash_size_or_binbits", "images", "consensus_t0", "consensus_t1",
	"consensus_t2", "outliers_t0", "outliers_t1", "outliers_t2", "adist", "ms_per_hash"}

// WriteConsensus writes Table 1 rows as format: "text" (right-aligned columns), "tsv" (a
// header of ConsensusColumns, percentages with 2 decimals) or "json" (JSON Lines with the
// same keys, full precision).
func WriteConsensus(w io.Writer, format string, rows []ConsensusRow) error {
	bw := bufio.NewWriter(w)
	if format == "json" {
		enc := json.NewEncoder(bw)
		for _, r := range rows {
			m := map[string]any{"hash_name": r.Spec.Kind.String(), "hash_size_or_binbits": r.Spec.Size, "images": r.Images,
				"adist": r.ADist, "ms_per_hash": r.MsPerHash}
			for i, t := range Tolerances {
				if i < len(r.Consensus) {
					m[fmt.Sprintf("consensus_t%d", t)] = r.Consensus[i]
					m[fmt.Sprintf("outliers_t%d", t)] = r.Outliers[i]
				}
			}
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	table := [][]string{ConsensusColumns}
	for _, r := range rows {
		cells := []string{r.Spec.Kind.String(), fmt.Sprint(r.Spec.Size), fmt.Sprint(r.Images)}
		for i := range Tolerances {
			if i < len(r.Consensus) {
				cells = append(cells, fmt.Sprintf("%.2f", r.Consensus[i]))
			} else {
				cells = append(cells, "")
			}
		}
		for i := range Tolerances {
			if i < len(r.Outliers) {
				cells = append(cells, fmt.Sprint(r.Outliers[i]))
			} else {
				cells = append(cells, "")
			}
		}
		table = append(table, append(cells, fmt.Sprintf("%.3f", r.ADist), fmt.Sprintf("%.4f", r.MsPerHash)))
	}
	if format == "tsv" {
		for _, cells := range table {
			fmt.Fprintln(bw, strings.Join(cells, "\t"))
		}
		return bw.Flush()
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, cells := range table {
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
