package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/odds/report"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/userfile"
)

// oddsOptions are the flags of odds.
type oddsOptions struct {
	p         string
	verifiers []int
	rules     []string
	format    string
	plot      string
}

// oddsPlanOptions are the flags of odds plan.
type oddsPlanOptions struct {
	p        string
	target   float64
	rules    []string
	odd      bool
	min, max int
	format   string
}

func newOddsCommand(g *globalOptions) *cobra.Command {
	var opts oddsOptions
	cmd := &cobra.Command{
		Use:   "odds --p P [flags]",
		Short: "Probability that n verifiers reach a correct verdict (the paper's Figure 3)",
		Long: `odds prints the probability that n verifiers reach a correct verdict when each lands
within tolerance of the true result with probability p:

  P = sum_{k>=need}^{n} C(n,k) p^k (1-p)^(n-k)

need = floor(n/2)+1 for a majority, floor(2n/3)+1 for a super-majority. P and its complement
(the failure column, 1-P) are each computed exactly to float64 precision (256-bit arithmetic;
a decimal p is taken exactly), so the failure stays accurate when P rounds to 1.

--p is one probability (0.977, or a fraction like 6771/6928), a comma-separated list, or
per-tolerance values TOL:P, e.g. --p 0:0.802,1:0.940,2:0.977 (the consensus of a hash at
tolerances 0, 1, 2: Table 1 of the paper). --verifiers defaults to the paper's 3,5,7 for
majority and 4,7,10 for supermajority; --rule takes one or both, comma-separated.

Output: --format text (aligned, probability in percent), tsv (header
rule, tolerance, p, n, need, probability, failure, log10_failure; shortest round-trip
numbers) or json (JSON Lines with the same keys). --plot FILE (.svg or .png) draws P over
tolerance, one curve per n and one column per rule, as Figure 3 does, with 1-P on a log
scale below; it needs per-tolerance p.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOdds(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.p, "p", "", "probability that one verifier is correct: P, P,P,... or TOL:P,TOL:P,... (required)")
	f.IntSliceVar(&opts.verifiers, "verifiers", nil, "verifier counts, comma-separated (default 3,5,7 for majority, 4,7,10 for supermajority)")
	f.StringSliceVar(&opts.rules, "rule", []string{"majority"}, "voting rules: majority, supermajority, or both comma-separated")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json (JSON Lines)")
	f.StringVar(&opts.plot, "plot", "", "also draw P over tolerance to this .svg or .png file")
	cmd.AddCommand(newOddsPlanCommand(g), newOddsAttackCommand(g), newOddsEstimateCommand(g), newOddsSpotCommand(g))
	return cmd
}

func newOddsPlanCommand(g *globalOptions) *cobra.Command {
	var opts oddsPlanOptions
	cmd := &cobra.Command{
		Use:   "plan --p P --target T [flags]",
		Short: "Smallest number of verifiers that reaches a target confidence",
		Long: `plan prints, for each rule and each p, the smallest verifier count n whose probability
of a correct verdict is at least --target, searching n in [--min, --max] (odd n only with
--odd). --p takes the forms odds takes. Output columns: rule, tolerance, p, target, n, need,
probability, failure (formats as for odds). If some target cannot be reached within the range,
the reachable rows are printed and the command fails naming the others (exit status 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOddsPlan(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.p, "p", "", "probability that one verifier is correct: P, P,P,... or TOL:P,TOL:P,... (required)")
	f.Float64Var(&opts.target, "target", 0, "probability of a correct verdict to reach, e.g. 0.9999 (required)")
	f.StringSliceVar(&opts.rules, "rule", []string{"majority"}, "voting rules: majority, supermajority, or both comma-separated")
	f.BoolVar(&opts.odd, "odd", false, "consider odd verifier counts only")
	f.IntVar(&opts.min, "min", 1, "smallest verifier count to consider")
	f.IntVar(&opts.max, "max", 1000, "largest verifier count to consider")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json (JSON Lines)")
	return cmd
}

// parseRules parses --rule into distinct rules, in the order given.
func parseRules(names []string) ([]quorum.Rule, error) {
	var rules []quorum.Rule
	for _, name := range names {
		r, err := quorum.ParseRule(strings.TrimSpace(name))
		if err != nil {
			return nil, usagef("--rule: %v", err)
		}
		if !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, usagef("--rule: no rule given")
	}
	return rules, nil
}

func checkOddsFormat(format string) error {
	switch format {
	case "text", "tsv", "json":
		return nil
	}
	return usagef("--format %q: want text, tsv or json", format)
}

// checkPlotPath returns a usage error unless path ends in .svg or .png and can be written.
func checkPlotPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg", ".png":
		if err := userfile.CheckWritable(path); err != nil {
			return usagef("--plot: %v", err)
		}
		return nil
	}
	return usagef("--plot %q: want a .svg or .png file name", path)
}

// parseOddsInputs parses --p (report.ParseProbs), --rule and --format, as odds and odds plan
// take them; its errors are usage errors.
func parseOddsInputs(p string, ruleNames []string, format string) ([]report.Prob, []quorum.Rule, error) {
	pts, err := report.ParseProbs(p)
	if err != nil {
		return nil, nil, usageError{err}
	}
	rules, err := parseRules(ruleNames)
	if err != nil {
		return nil, nil, err
	}
	return pts, rules, checkOddsFormat(format)
}

// checkVerifiers rejects a verifier count below 1.
func checkVerifiers(ns []int) error {
	for _, n := range ns {
		if n < 1 {
			return usagef("--verifiers: %d is not a positive count", n)
		}
	}
	return nil
}

func runOdds(ctx context.Context, g *globalOptions, opts oddsOptions) error {
	pts, rules, err := parseOddsInputs(opts.p, opts.rules, opts.format)
	if err != nil {
		return err
	}
	if err := checkVerifiers(opts.verifiers); err != nil {
		return err
	}
	if opts.plot != "" {
		if err := checkPlotPath(opts.plot); err != nil {
			return err
		}
		if pts[0].Tolerance < 0 {
			return usagef("--plot: needs p per tolerance (--p 0:P0,1:P1,...)")
		}
	}
	rows, err := report.Correct(ctx, rules, pts, opts.verifiers)
	if err != nil {
		return err
	}
	if err := report.WriteRows(g.stdout, opts.format, rows, false); err != nil {
		return err
	}
	if opts.plot != "" {
		if err := report.Plot(opts.plot, rows); err != nil {
			return err
		}
		g.logger.Info("plot written", "file", opts.plot)
	}
	return nil
}

func runOddsPlan(ctx context.Context, g *globalOptions, opts oddsPlanOptions) error {
	pts, rules, err := parseOddsInputs(opts.p, opts.rules, opts.format)
	if err != nil {
		return err
	}
	if !(opts.target > 0 && opts.target <= 1) {
		return usagef("--target %v: want a probability in (0, 1], e.g. 0.9999", opts.target)
	}
	if opts.min < 1 || opts.max < opts.min {
		return usagef("--min %d --max %d: want 1 <= min <= max", opts.min, opts.max)
	}
	rows, missed, err := report.Plan(ctx, rules, pts, opts.target, odds.PlanOptions{Min: opts.min, Max: opts.max, Odd: opts.odd})
	if err != nil {
		return usageError{err}
	}
	if err := report.WriteRows(g.stdout, opts.format, rows, true); err != nil {
		return err
	}
	if len(missed) > 0 {
		return fmt.Errorf("odds plan: target %v not reached with n in [%d, %d]: %s",
			opts.target, opts.min, opts.max, strings.Join(missed, "; "))
	}
	return nil
}
