package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imghash"
)

func newCompareCommand(g *globalOptions) *cobra.Command {
	var opts hashSpecOptions
	cmd := &cobra.Command{
		Use:   "compare [flags] A B",
		Short: "Hamming distances between the perceptual hashes of two images",
		Long: `compare hashes two image files (as genquorum hash does) and prints, per hash, the Hamming
distance between them (imagehash's hash1 - hash2): TSV with the header
  hash_name  hash_size_or_binbits  hamming_distance  bits
(the columns of imagehash conformance pairs), or JSON Lines with the same keys
(--format json). Rows follow --kind, then size.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd.Context(), g, opts, args[0], args[1])
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// compareRow is one output row of compare in JSON form.
type compareRow struct {
	HashName string `json:"hash_name"`
	Size     int    `json:"hash_size_or_binbits"`
	Distance int    `json:"hamming_distance"`
	Bits     int    `json:"bits"`
}

func runCompare(ctx context.Context, g *globalOptions, opts hashSpecOptions, a, b string) error {
	specs, err := opts.specs()
	if err != nil {
		return err
	}
	dec, err := opts.decodeOptions()
	if err != nil {
		return err
	}
	if err := opts.checkFormat(); err != nil {
		return err
	}
	hs := imghash.Hasher{Workers: runtime.GOMAXPROCS(0)}
	var hashes [2][]imghash.Hash
	for i, file := range []string{a, b} {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := hashscan.HashFile(&hs, file, specs, dec)
		if err != nil {
			return fmt.Errorf("compare: %s: %w", file, err)
		}
		hashes[i] = h
	}
	w := bufio.NewWriter(g.stdout)
	if opts.format == "tsv" {
		fmt.Fprint(w, "hash_name\thash_size_or_binbits\thamming_distance\tbits\n")
	}
	for i, s := range specs {
		d, err := hashes[0][i].Distance(hashes[1][i])
		if err != nil {
			return fmt.Errorf("compare: %v: %w", s, err) // cannot happen: same spec
		}
		if opts.format == "json" {
			row, err := json.Marshal(compareRow{s.Kind.String(), s.Size, d, s.Bits()})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\n", row)
		} else {
			fmt.Fprintf(w, "%v\t%d\t%d\t%d\n", s.Kind, s.Size, d, s.Bits())
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("compare: write output: %w", err)
	}
	return nil
}
