package main

import (
	"context"

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
	return tensor.WriteProfiles(g.stdout, opts.format, profiles)
}
