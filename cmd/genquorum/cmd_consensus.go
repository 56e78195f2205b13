package main

import (
	"context"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/study"
)

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
	specs, dec, err := o.parse()
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
		groups, err = study.ReadGroups(o.manifest)
	case o.groupBy != "":
		if len(args) == 0 {
			return usagef("consensus: --group-by needs at least one DIR")
		}
		re, rerr := regexp.Compile(o.groupBy)
		if rerr != nil {
			return usagef("--group-by: %v", rerr)
		}
		if re.NumSubexp() < 1 {
			return usagef("--group-by %q: needs a capture group naming the group", o.groupBy)
		}
		var skipped int
		groups, skipped, err = study.GroupByRegexp(re, args)
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
	opts.Progress = progress.Callback(g.stderr, total, "hashing")
	rows, failed, err := study.Consensus(ctx, groups, specs, opts)
	if err != nil {
		return err
	}
	for _, f := range failed {
		fmt.Fprintf(g.stderr, "genquorum consensus: %s: %v\n", f.File, f.Err)
	}
	if err := study.WriteConsensus(g.stdout, o.format, rows); err != nil {
		return err
	}
	if len(failed) > 0 {
		return partialError{failed: len(failed), total: total}
	}
	return nil
}
