package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/study"
	"github.com/genquorum/genquorum/userfile"
)

// maxManifestRows bounds a manifest, so a wrong file cannot exhaust memory.
const maxManifestRows = 10_000_000

type consensusOptions struct {
	hashSpecOptions
	manifest string
	groupBy  string
	workers  int
}

func newConsensusCommand(g *globalOptions) *cobra.Command {
	var o consensusOptions
	cmd := &cobra.Command{
		Use:   "consensus (--manifest M.tsv | --group-by REGEX DIR...)",
		Short: "Table 1: how often outputs of one task hash alike, per hash kind",
		Long: `consensus measures the paper's Table 1 on your images. Outputs of one task (same prompt
and seed, produced on different machines) form a group. For each hash kind and size it
finds each group's mode hash (most frequent value; ties to the smallest), counts outliers
(members farther than t bits from the mode) at t = 0, 1, 2, and pools the counts over all
groups: consensus_t = 100 * (1 - outliers_t / images). adist is the mean Hamming distance
of the t=0 outliers to their mode; ms_per_hash is the mean time of one hash from decoded
pixels, each kind computed on its own.

Groups come from a manifest (TSV with a header naming the columns "group" and "file";
relative paths are read from the manifest's folder) or from --group-by: a regular
expression matched against each image path found under DIR (relative, with '/'), whose
first capture group names the group; images that do not match are skipped and counted.

Columns: hash_name, hash_size_or_binbits, images, consensus_t0, consensus_t1,
consensus_t2, outliers_t0, outliers_t1, outliers_t2, adist, ms_per_hash.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsensus(cmd.Context(), g, o, args)
		},
	}
	o.addFlags(cmd)
	o.format = "text"
	f := cmd.Flags()
	f.Lookup("format").DefValue = "text"
	f.Lookup("format").Usage = "output format: text, tsv or json (JSON Lines)"
	f.StringVar(&o.manifest, "manifest", "", "TSV with columns group and file")
	f.StringVar(&o.groupBy, "group-by", "", "regular expression over paths under DIR; its first capture group names the group")
	f.IntVar(&o.workers, "workers", 0, "files hashed at once (0: GOMAXPROCS)")
	return cmd
}

func runConsensus(ctx context.Context, g *globalOptions, o consensusOptions, args []string) error {
	specs, err := o.specs()
	if err != nil {
		return err
	}
	dec, err := o.decodeOptions()
	if err != nil {
		return err
	}
	if o.format != "text" && o.format != "tsv" && o.format != "json" {
		return usagef("--format %q: want text, tsv or json", o.format)
	}
	var groups []study.Group
	switch {
	case o.manifest != "" && o.groupBy != "":
		return usagef("consensus: give --manifest or --group-by, not both")
	case o.manifest != "":
		if len(args) > 0 {
			return usagef("consensus: --manifest takes no DIR arguments")
		}
		groups, err = readManifest(o.manifest)
	case o.groupBy != "":
		if len(args) == 0 {
			return usagef("consensus: --group-by needs at least one DIR")
		}
		var skipped int
		groups, skipped, err = groupByRegexp(o.groupBy, args)
		if skipped > 0 {
			g.logger.Warn("images not matching --group-by were skipped", "count", skipped)
		}
	default:
		return usagef("consensus: give --manifest M.tsv or --group-by REGEX DIR")
	}
	if err != nil {
		return err
	}
	total := 0
	for _, gr := range groups {
		total += len(gr.Files)
	}
	opts := study.ConsensusOptions{Decode: dec, Workers: o.workers}
	if isTerminal(g.stderr) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(barWriter(g.stderr)),
			progressbar.OptionSetDescription("hashing"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(barWriter(g.stderr)) }))
		opts.Progress = func(done, _ int) { _ = bar.Set(done) }
	}
	rows, failed, err := study.Consensus(ctx, groups, specs, opts)
	if err != nil {
		return err
	}
	for _, f := range failed {
		fmt.Fprintf(g.stderr, "genquorum consensus: %s: %v\n", f.File, f.Err)
	}
	if err := writeConsensus(g.stdout, o.format, rows); err != nil {
		return err
	}
	if len(failed) > 0 {
		return partialError{failed: len(failed), total: total}
	}
	return nil
}

var consensusColumns = []string{"hash_name", "hash_size_or_binbits", "images", "consensus_t0", "consensus_t1",
	"consensus_t2", "outliers_t0", "outliers_t1", "outliers_t2", "adist", "ms_per_hash"}

func writeConsensus(w io.Writer, format string, rows []study.ConsensusRow) error {
	bw := bufio.NewWriter(w)
	if format == "json" {
		enc := json.NewEncoder(bw)
		for _, r := range rows {
			m := map[string]any{"hash_name": r.Spec.Kind.String(), "hash_size_or_binbits": r.Spec.Size, "images": r.Images,
				"adist": r.ADist, "ms_per_hash": r.MsPerHash}
			for i, t := range study.Tolerances {
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
	table := [][]string{consensusColumns}
	for _, r := range rows {
		cells := []string{r.Spec.Kind.String(), fmt.Sprint(r.Spec.Size), fmt.Sprint(r.Images)}
		for i := range study.Tolerances {
			if i < len(r.Consensus) {
				cells = append(cells, fmt.Sprintf("%.2f", r.Consensus[i]))
			} else {
				cells = append(cells, "")
			}
		}
		for i := range study.Tolerances {
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

// readManifest reads a TSV with a header naming "group" and "file" columns (others ignored).
func readManifest(path string) ([]study.Group, error) {
	f, err := userfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("manifest %s: header: %w", path, err)
	}
	gi, fi := slices.Index(header, "group"), slices.Index(header, "file")
	if gi < 0 || fi < 0 {
		return nil, fmt.Errorf("manifest %s: header %q lacks a group or file column", path, strings.Join(header, "\t"))
	}
	dir := filepath.Dir(path)
	index := map[string]int{}
	var groups []study.Group
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", path, err)
		}
		if line > maxManifestRows {
			return nil, fmt.Errorf("manifest %s: more than %d rows", path, maxManifestRows)
		}
		if len(rec) <= max(gi, fi) || rec[gi] == "" || rec[fi] == "" {
			return nil, fmt.Errorf("manifest %s:%d: empty group or file", path, line)
		}
		file := rec[fi]
		if !filepath.IsAbs(file) {
			file = filepath.ToSlash(filepath.Join(dir, file))
		}
		i, ok := index[rec[gi]]
		if !ok {
			i = len(groups)
			index[rec[gi]] = i
			groups = append(groups, study.Group{Name: rec[gi]})
		}
		groups[i].Files = append(groups[i].Files, file)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("manifest %s: no rows", path)
	}
	return groups, nil
}

// groupByRegexp finds the images under dirs and groups them by the first capture group of re,
// matched against each path relative to its directory. It returns how many images matched no group.
func groupByRegexp(expr string, dirs []string) ([]study.Group, int, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, 0, usagef("--group-by: %v", err)
	}
	if re.NumSubexp() < 1 {
		return nil, 0, usagef("--group-by %q: needs a capture group naming the group", expr)
	}
	index := map[string]int{}
	var groups []study.Group
	skipped := 0
	for _, dir := range dirs {
		files, bad := hashscan.Files([]string{dir})
		if len(bad) > 0 {
			return nil, 0, fmt.Errorf("%s: %w", bad[0].File, bad[0].Err)
		}
		for _, file := range files {
			rel, err := filepath.Rel(dir, file)
			if err != nil {
				rel = file
			}
			m := re.FindStringSubmatch(filepath.ToSlash(rel))
			if m == nil || m[1] == "" {
				skipped++
				continue
			}
			i, ok := index[m[1]]
			if !ok {
				i = len(groups)
				index[m[1]] = i
				groups = append(groups, study.Group{Name: m[1]})
			}
			groups[i].Files = append(groups[i].Files, file)
		}
	}
	if len(groups) == 0 {
		return nil, skipped, fmt.Errorf("--group-by %q: no image under %s matched", expr, strings.Join(dirs, ", "))
	}
	return groups, skipped, nil
}
