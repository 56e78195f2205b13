// The study subcommands that read a study directory: check, reproduce, report.

package main

import (
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/study"
)

func newStudyCheckCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check DIR",
		Short: "Recompute every artifact digest, task digest and fingerprint of a study directory (exit 3 on a mismatch)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := study.Check(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := res.WriteText(g.stdout); err != nil || len(res.Problems) == 0 {
				return err
			}
			return partialError{failed: len(res.Problems), total: res.Entries}
		},
	}
}

func newStudyReproduceCommand(g *globalOptions) *cobra.Command {
	var opts study.ReproduceOptions
	var engines []string
	cmd := &cobra.Command{
		Use:   "reproduce DIR",
		Short: "Regenerate a sample of a study directory's tasks and compare within tolerance (exit 3 if any is not reproduced)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Remote, err = study.OpenRemote(cmd.Context(), "", engines...); err != nil {
				return err
			}
			res, err := study.Reproduce(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			bad, err := study.WriteReproduced(g.stdout, res, opts.Tolerance)
			if err == nil && bad > 0 {
				err = partialError{failed: bad, total: len(res)}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Sample, "sample", 20, "entries to regenerate, spread over the manifest (0: all)")
	f.IntVar(&opts.Tolerance, "tolerance", 0, "largest image fingerprint distance accepted (text: always 0)")
	f.IntVar(&opts.Workers, "workers", 0, "tasks at once (0: GOMAXPROCS)")
	addStudyEngineFlag(f, &engines)
	return cmd
}

func newStudyReportCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Rewrite DIR/report.html from the tables and plots DIR holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return study.WriteReport(args[0])
		},
	}
}
