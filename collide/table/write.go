package table

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Formats are the output formats of Write.
var Formats = []string{"text", "tsv", "json"}

// Write writes results as format: "text" (aligned, for people), "tsv" (one row per result,
// then the listed pairs) or "json" (one object {"results": [...]}).
func Write(w io.Writer, format string, results []Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []Result `json:"results"`
		}{results})
	case "tsv":
		return writeTSV(w, results)
	case "text":
		return writeText(w, results)
	}
	return fmt.Errorf("--format %q: want text, tsv or json", format)
}

func writeTSV(w io.Writer, results []Result) error {
	bw := bufio.NewWriter(w)
	maxT := 0
	for _, r := range results {
		maxT = max(maxT, r.Tolerance)
	}
	fmt.Fprint(bw, "hash_name\thash_size_or_binbits\tbits\thashes\tgroups\tscope\ttolerance\tmethod\tpairs\tcompared")
	for d := 0; d <= maxT; d++ {
		fmt.Fprintf(bw, "\tcollisions_le_%d", d)
	}
	for d := 0; d <= maxT; d++ {
		fmt.Fprintf(bw, "\trate_le_%d", d)
	}
	fmt.Fprint(bw, "\tseconds\tpairs_per_second\n")
	for _, r := range results {
		fmt.Fprintf(bw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t%d\t%d", r.Kind, r.Size, r.Bits, r.Hashes, r.Groups, r.Scope, r.Tolerance, r.Method, r.Pairs, r.Compared)
		for _, c := range r.Collisions {
			fmt.Fprintf(bw, "\t%d", c)
		}
		for _, x := range r.Rates {
			fmt.Fprintf(bw, "\t%.6g", x)
		}
		fmt.Fprintf(bw, "\t%.3f\t%.4g\n", r.Seconds, r.PairsPerSec)
	}
	for _, r := range results {
		if len(r.Listed) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\nhash_name\thash_size_or_binbits\tscope\tline_a\tline_b\tdistance\thex_a\thex_b\tid_a\tid_b\n")
		for _, p := range r.Listed {
			fmt.Fprintf(bw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Kind, r.Size, r.Scope, p.LineA, p.LineB, p.Distance, p.HexA, p.HexB, p.IDA, p.IDB)
		}
	}
	return bw.Flush()
}

func writeText(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		label := "hashes"
		if r.Kind != "" {
			label = r.Kind
			if r.Size != "" {
				label += " (size " + r.Size + ")"
			}
		}
		scope := "all pairs"
		if r.Scope == ScopeGroups {
			scope = fmt.Sprintf("pairs within %d groups", r.Groups)
		}
		fmt.Fprintf(tw, "%s: %d hashes of %d bits, %s\n", label, r.Hashes, r.Bits, scope)
		fmt.Fprintf(tw, "pairs\t%d\n", r.Pairs)
		for d, c := range r.Collisions {
			fmt.Fprintf(tw, "collisions_le_%d\t%d\trate %.6g\n", d, c, r.Rates[d])
		}
		fmt.Fprintf(tw, "method\t%s\t%d pairs compared\n", r.Method, r.Compared)
		fmt.Fprintf(tw, "time\t%.3f s\t%.4g pairs/s\n", r.Seconds, r.PairsPerSec)
		for _, p := range r.Listed {
			fmt.Fprintf(tw, "pair\tlines %d %d\tdistance %d\t%s %s", p.LineA, p.LineB, p.Distance, p.HexA, p.HexB)
			if p.IDA != "" || p.IDB != "" {
				fmt.Fprintf(tw, "\t%s %s", p.IDA, p.IDB)
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}
