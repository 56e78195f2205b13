package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/tensor"
)

// profilesOptions are the flags of profiles.
type profilesOptions struct {
	format string
}

func newProfilesCommand(g *globalOptions) *cobra.Command {
	var opts profilesOptions
	cmd := &cobra.Command{
		Use:   "profiles [NAME...]",
		Short: "List the numeric profiles that imitate different hardware",
		Long: `profiles lists the numeric profiles of the tensor package (all presets, or the named
ones). A profile fixes every numeric choice that differs between machines: how a reduction
of length K is split into partial sums (interleaved SIMD lanes, or contiguous split-K chunks)
and in what order the partial sums are combined (sequential, a pairwise tree, or folded
halves as in a SIMD horizontal sum); whether multiply-adds are fused (FMA); and where values
are rounded to TF32, FP16 or BF16 (the operands of matrix products, the partial sums, and
every operation's output). The same task
under the same profile gives the same bits on any machine; different profiles differ in the
low bits, as different GPUs do. "exact" is the default everywhere.

Output: --format text (a table) or json (JSON Lines: name, description, lanes, chunk,
combine, fma, input, accum, storage).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProfiles(cmd.Context(), g, opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "output format: text or json (JSON Lines)")
	return cmd
}

// profileJSON is one line of profiles --format json.
type profileJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Lanes       int    `json:"lanes"`
	Chunk       int    `json:"chunk"`
	Combine     string `json:"combine"`
	FMA         bool   `json:"fma"`
	Input       string `json:"input"`
	Accum       string `json:"accum"`
	Storage     string `json:"storage"`
}

func runProfiles(_ context.Context, g *globalOptions, opts profilesOptions, args []string) error {
	if opts.format != "text" && opts.format != "json" {
		return usagef("--format %q: want text or json", opts.format)
	}
	profiles := tensor.Profiles()
	if len(args) > 0 {
		profiles = profiles[:0]
		for _, name := range args {
			p, err := tensor.ProfileByName(name)
			if err != nil {
				return usageError{err}
			}
			profiles = append(profiles, p)
		}
	}
	if opts.format == "json" {
		return writeProfilesJSON(g.stdout, profiles)
	}
	return writeProfilesText(g.stdout, profiles)
}

func writeProfilesJSON(w io.Writer, profiles []tensor.Profile) error {
	enc := json.NewEncoder(w)
	for _, p := range profiles {
		err := enc.Encode(profileJSON{
			Name: p.Name, Description: p.Description, Lanes: p.Lanes, Chunk: p.Chunk,
			Combine: p.Combine.String(), FMA: p.FMA,
			Input: p.Input.String(), Accum: p.Accum.String(), Storage: p.Storage.String(),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeProfilesText(w io.Writer, profiles []tensor.Profile) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREDUCTION SPLIT\tFMA\tINPUT\tACCUM\tSTORAGE\tIMITATES")
	for _, p := range profiles {
		fma := "no"
		if p.FMA {
			fma = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Split(), fma, p.Input, p.Accum, p.Storage, p.Description)
	}
	return tw.Flush()
}
