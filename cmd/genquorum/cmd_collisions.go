package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/collide/table"
	"github.com/genquorum/genquorum/userfile"
)

// collisionsOptions are the flags of `genquorum collisions`.
type collisionsOptions struct {
	tolerance   int
	kind        string
	size        string
	groupColumn string
	groupBy     string
	idColumn    string
	scope       string // auto, groups, all, both
	method      string
	workers     int
	format      string
	list        int
	maxHashes   int

	synthetic     string // "GROUPSxPERGROUP"
	syntheticBits int
	syntheticFlip float64
	seed          uint64
}

func newCollisionsCommand(g *globalOptions) *cobra.Command {
	opts := collisionsOptions{}
	cmd := &cobra.Command{
		Use:   "collisions [flags] HASHES.tsv",
		Short: "Count pairs of hashes within a Hamming tolerance (the Type II collision rate)",
		Long: `collisions counts, exactly, the pairs of hashes within Hamming distance 0, 1, ..., t of each
other: among all pairs of the input (--scope all), or only among pairs in the same group
(--scope groups, with --group-column or --group-by), as in the paper's intra-class Type II
experiment.

The input is a tab-separated table with a header and a "hex" column (any file such as
"genquorum hash" output; "-" reads standard input). The hex length gives the width (16 digits =
64 bits, 64 digits = 256 bits; any width up to 4096 bits). When a "hash_name" column is present,
each hash kind (hash_name and hash_size_or_binbits) is counted separately; --kind and --size
select kinds. --group-by REGEX groups rows by the first capture group of REGEX matched
against the --id-column (default file) instead, e.g. '/p(\d+)-s' for the prompt index of
"generate image --out-dir" file names; rows that do not match are skipped, with a warning.

--synthetic GROUPSxN replaces the input with GROUPS clusters of N hashes (a random centre per
group, each bit flipped with probability --synthetic-flip, seeded by --seed), the shape used
for the README benchmarks: --synthetic 1000x1300 --scope both reproduces them.

For each kind and scope it prints the pairs in scope, the cumulative collisions_le_d (pairs at
distance <= d) and rate_le_d = collisions_le_d / pairs for d = 0..t, the method and the time.
--list N also prints up to N of the pairs (input line numbers, distance, hex, and the
--id-column values; with --synthetic the "lines" are hash numbers from 1).

Exit statuses: 0 success, 1 error, 2 bad usage, 130 interrupted.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollisions(cmd.Context(), g, opts, args)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.tolerance, "tolerance", "t", 2, "largest Hamming distance counted")
	f.StringVar(&opts.kind, "kind", "", "count only rows whose hash_name is this (e.g. average_hash)")
	f.StringVar(&opts.size, "size", "", "count only rows whose hash_size_or_binbits is this (e.g. 8)")
	f.StringVar(&opts.groupColumn, "group-column", "", "column naming each hash's group (prompt, class) for intra-group counts")
	f.StringVar(&opts.groupBy, "group-by", "", "regular expression over the --id-column whose first capture group names each hash's group")
	f.StringVar(&opts.idColumn, "id-column", "file", "column printed with --list pairs (if present) and read by --group-by")
	f.StringVar(&opts.scope, "scope", "auto", "pairs counted: groups, all, both, or auto (groups when there are groups)")
	f.StringVar(&opts.method, "method", "auto", "algorithm: auto, brute-force or multi-index (all give the same counts)")
	f.IntVar(&opts.workers, "workers", 0, "goroutines (0: one per CPU)")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json")
	f.IntVar(&opts.list, "list", 0, "also print up to this many pairs within the tolerance")
	f.IntVar(&opts.maxHashes, "max-hashes", 100_000_000, "refuse inputs with more hashes than this")
	f.StringVar(&opts.synthetic, "synthetic", "", "use GROUPSxN synthetic clustered hashes instead of a file (e.g. 1000x1300)")
	f.IntVar(&opts.syntheticBits, "synthetic-bits", 64, "width of --synthetic hashes in bits")
	f.Float64Var(&opts.syntheticFlip, "synthetic-flip", 0.1, "probability that a --synthetic hash differs from its group centre in each bit")
	f.Uint64Var(&opts.seed, "seed", 1, "seed of --synthetic")
	return cmd
}

func runCollisions(ctx context.Context, g *globalOptions, opts collisionsOptions, args []string) error {
	method, err := table.ParseMethod(opts.method)
	if err != nil {
		return usageError{err}
	}
	if !slices.Contains(table.Formats, opts.format) {
		return usagef("--format %q: want text, tsv or json", opts.format)
	}
	if !slices.Contains([]string{"auto", "groups", "all", "both"}, opts.scope) {
		return usagef("--scope %q: want groups, all, both or auto", opts.scope)
	}
	if opts.tolerance < 0 {
		return usagef("--tolerance %d: want 0 or more", opts.tolerance)
	}
	if opts.list < 0 {
		return usagef("--list %d: want 0 or more", opts.list)
	}
	ro := table.ReadOptions{Kind: opts.kind, Size: opts.size, GroupColumn: opts.groupColumn, IDColumn: opts.idColumn,
		KeepIDs: opts.list > 0, MaxHashes: opts.maxHashes}
	if opts.groupBy != "" {
		if opts.groupColumn != "" {
			return usagef("give --group-column or --group-by, not both")
		}
		if ro.GroupBy, err = regexp.Compile(opts.groupBy); err != nil {
			return usagef("--group-by: %v", err)
		}
		if ro.GroupBy.NumSubexp() < 1 {
			return usagef("--group-by %q: needs a capture group naming the group", opts.groupBy)
		}
	}
	var kinds []*table.Kind
	switch {
	case opts.synthetic != "":
		if len(args) > 0 {
			return usagef("--synthetic replaces the input file; got %q too", args[0])
		}
		k, err := table.ParseSyntheticKind(opts.synthetic, opts.syntheticBits, opts.syntheticFlip, opts.seed, opts.maxHashes)
		if err != nil {
			return usageError{err}
		}
		kinds = []*table.Kind{k}
	case len(args) == 1:
		if kinds, err = readCollisionsInput(args[0], g.stdin, ro); err != nil {
			return err
		}
	default:
		return usagef("collisions needs a HASHES.tsv argument (or - for standard input, or --synthetic)")
	}
	if len(kinds) == 0 {
		return fmt.Errorf("collisions: no hashes in the input match --kind %q --size %q", opts.kind, opts.size)
	}
	results, err := table.CountAll(ctx, kinds, opts.scope, table.CountOptions{Tolerance: opts.tolerance, Method: method,
		Workers: opts.workers, List: opts.list, Logger: g.logger})
	if errors.Is(err, table.ErrNoGroups) || errors.Is(err, table.ErrToleranceWidth) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	return table.Write(g.stdout, opts.format, results)
}

func readCollisionsInput(path string, stdin io.Reader, ro table.ReadOptions) ([]*table.Kind, error) {
	r := stdin
	if path != "-" {
		f, err := userfile.Open(path)
		if err != nil {
			return nil, fmt.Errorf("collisions: %w", err)
		}
		defer f.Close()
		r = f
	}
	kinds, err := table.Read(r, ro)
	if err != nil {
		return nil, fmt.Errorf("collisions: %s: %w", path, err)
	}
	return kinds, nil
}
