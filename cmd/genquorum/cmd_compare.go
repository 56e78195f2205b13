package main

import (
	"bufio"
	"context"
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

func runCompare(ctx context.Context, g *globalOptions, opts hashSpecOptions, a, b string) error {
	specs, dec, err := opts.parse()
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
	ds, err := hashscan.Distances(specs, hashes[0], hashes[1])
	if err != nil {
		return fmt.Errorf("compare: %w", err) // cannot happen: same specs
	}
	w := bufio.NewWriter(g.stdout)
	if err := hashscan.WriteDistances(w, opts.format, ds); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("compare: write output: %w", err)
	}
	return nil
}
