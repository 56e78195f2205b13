package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

// defaultVerifiers are the verifier counts of the paper's Figure 3, per rule.
var defaultVerifiers = map[quorum.Rule][]int{
	quorum.Majority:      {3, 5, 7},
	quorum.SuperMajority: {4, 7, 10},
}

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
	cmd.AddCommand(newOddsPlanCommand(g), newOddsAttackCommand(g), newOddsEstimateCommand(g))
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

// probPoint is one value of --p: a probability, at a tolerance when given as TOL:P.
type probPoint struct {
	tolerance int // -1: none given
	text      string
	rat       *big.Rat
	value     float64
}

// parseProbs parses --p: "P", "P,P,..." or "TOL:P,TOL:P,...". Each P is a decimal or a
// fraction in [0, 1], taken exactly.
func parseProbs(s string) ([]probPoint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("--p: required (e.g. --p 0.977 or --p 0:0.802,1:0.940,2:0.977)")
	}
	var pts []probPoint
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		pt := probPoint{tolerance: -1, text: item}
		if t, p, ok := strings.Cut(item, ":"); ok {
			tol, err := strconv.Atoi(strings.TrimSpace(t))
			if err != nil || tol < 0 {
				return nil, usagef("--p %q: tolerance %q is not a non-negative integer", item, t)
			}
			pt.tolerance, pt.text = tol, strings.TrimSpace(p)
		}
		r, ok := parseRat(pt.text)
		if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
			return nil, usagef("--p %q: want a probability in [0, 1] (decimal or fraction)", item)
		}
		pt.rat = r
		pt.value, _ = r.Float64()
		if len(pts) > 0 && (pt.tolerance < 0) != (pts[0].tolerance < 0) {
			return nil, usagef("--p %q: give a tolerance for every value or for none", s)
		}
		if pt.tolerance >= 0 && slices.ContainsFunc(pts, func(q probPoint) bool { return q.tolerance == pt.tolerance }) {
			return nil, usagef("--p: tolerance %d given twice", pt.tolerance)
		}
		pts = append(pts, pt)
	}
	if pts[0].tolerance >= 0 {
		slices.SortFunc(pts, func(a, b probPoint) int { return a.tolerance - b.tolerance })
	}
	return pts, nil
}

// parseRat parses a decimal ("0.977") or a fraction ("6771/6928") exactly. Numbers with an
// exponent ("1e-3") go through float64, so that "1e-999999999" cannot make big.Rat build a
// huge power of ten; so do strings over 100 bytes.
func parseRat(s string) (*big.Rat, bool) {
	if len(s) > 100 || strings.ContainsAny(s, "eEpPxX_") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	return new(big.Rat).SetString(s)
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

// oddsRow is one line of odds or odds plan output.
type oddsRow struct {
	Rule         string   `json:"rule"`
	Tolerance    *int     `json:"tolerance,omitempty"`
	P            float64  `json:"p"`
	Target       *float64 `json:"target,omitempty"`
	N            int      `json:"n"`
	Need         int      `json:"need"`
	Probability  float64  `json:"probability"`
	Failure      float64  `json:"failure"`
	Log10Failure *float64 `json:"log10_failure,omitempty"` // absent when the failure is exactly 0

	pText string // p as given
}

func newOddsRow(rule quorum.Rule, pt probPoint, t odds.Tail) oddsRow {
	r := oddsRow{Rule: rule.String(), P: pt.value, N: t.N, Need: t.Need,
		Probability: t.P, Failure: t.Q, pText: pt.text}
	if pt.tolerance >= 0 {
		tol := pt.tolerance
		r.Tolerance = &tol
	}
	if !math.IsInf(t.Log10Q, 0) {
		l := t.Log10Q
		r.Log10Failure = &l
	}
	return r
}

func runOdds(ctx context.Context, g *globalOptions, opts oddsOptions) error {
	pts, err := parseProbs(opts.p)
	if err != nil {
		return err
	}
	rules, err := parseRules(opts.rules)
	if err != nil {
		return err
	}
	if err := checkOddsFormat(opts.format); err != nil {
		return err
	}
	for _, n := range opts.verifiers {
		if n < 1 {
			return usagef("--verifiers: %d is not a positive count", n)
		}
	}
	if opts.plot != "" {
		if err := checkPlotPath(opts.plot); err != nil {
			return err
		}
		if pts[0].tolerance < 0 {
			return usagef("--plot: needs p per tolerance (--p 0:P0,1:P1,...)")
		}
	}
	var rows []oddsRow
	for _, rule := range rules {
		ns := opts.verifiers
		if len(ns) == 0 {
			ns = defaultVerifiers[rule]
		}
		for _, pt := range pts {
			for _, n := range ns {
				if err := ctx.Err(); err != nil {
					return err
				}
				t, err := odds.CorrectRat(n, pt.rat, rule)
				if err != nil {
					return fmt.Errorf("odds: %w", err)
				}
				rows = append(rows, newOddsRow(rule, pt, t))
			}
		}
	}
	if err := writeOddsRows(g.stdout, opts.format, rows, false); err != nil {
		return err
	}
	if opts.plot != "" {
		if err := writeOddsPlot(opts.plot, rows); err != nil {
			return err
		}
		g.logger.Info("plot written", "file", opts.plot)
	}
	return nil
}

func runOddsPlan(ctx context.Context, g *globalOptions, opts oddsPlanOptions) error {
	pts, err := parseProbs(opts.p)
	if err != nil {
		return err
	}
	rules, err := parseRules(opts.rules)
	if err != nil {
		return err
	}
	if err := checkOddsFormat(opts.format); err != nil {
		return err
	}
	if !(opts.target > 0 && opts.target <= 1) {
		return usagef("--target %v: want a probability in (0, 1], e.g. 0.9999", opts.target)
	}
	if opts.min < 1 || opts.max < opts.min {
		return usagef("--min %d --max %d: want 1 <= min <= max", opts.min, opts.max)
	}
	var rows []oddsRow
	var missed []string
	for _, rule := range rules {
		for _, pt := range pts {
			if err := ctx.Err(); err != nil {
				return err
			}
			t, err := odds.PlanRat(pt.rat, opts.target, rule, odds.PlanOptions{Min: opts.min, Max: opts.max, Odd: opts.odd})
			if errors.Is(err, odds.ErrUnreachable) {
				missed = append(missed, fmt.Sprintf("%v p=%s (best n=%d: %.9g)", rule, pt.text, t.N, t.P))
				continue
			}
			if err != nil {
				return usagef("odds plan: %v", err)
			}
			row := newOddsRow(rule, pt, t)
			target := opts.target
			row.Target = &target
			rows = append(rows, row)
		}
	}
	if err := writeOddsRows(g.stdout, opts.format, rows, true); err != nil {
		return err
	}
	if len(missed) > 0 {
		return fmt.Errorf("odds plan: target %v not reached with n in [%d, %d]: %s",
			opts.target, opts.min, opts.max, strings.Join(missed, "; "))
	}
	return nil
}

// writeOddsRows writes rows in format; withTarget adds the target column (odds plan).
func writeOddsRows(w io.Writer, format string, rows []oddsRow, withTarget bool) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "tsv":
		cols := []string{"rule", "tolerance", "p", "n", "need", "probability", "failure", "log10_failure"}
		if withTarget {
			cols = slices.Insert(cols, 3, "target")
		}
		if _, err := fmt.Fprintln(w, strings.Join(cols, "\t")); err != nil {
			return err
		}
		for _, r := range rows {
			f := []string{r.Rule, tolString(r.Tolerance, ""), r.pText, strconv.Itoa(r.N), strconv.Itoa(r.Need),
				fmtFloat(r.Probability), fmtFloat(r.Failure), "-Inf"}
			if r.Log10Failure != nil {
				f[7] = fmtFloat(*r.Log10Failure)
			}
			if withTarget {
				f = slices.Insert(f, 3, fmtFloat(*r.Target))
			}
			if _, err := fmt.Fprintln(w, strings.Join(f, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "rule\tt\tp\tn\tneed\tprobability\tfailure"
	if withTarget {
		head = "rule\tt\tp\ttarget\tn\tneed\tprobability\tfailure"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		target := ""
		if withTarget {
			target = fmtFloat(*r.Target) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%d\t%d\t%s\t%s\n", r.Rule, tolString(r.Tolerance, "-"), r.pText, target,
			r.N, r.Need, percent(r.Probability), failureText(r))
	}
	return tw.Flush()
}

func tolString(t *int, none string) string {
	if t == nil {
		return none
	}
	return strconv.Itoa(*t)
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// percent prints a probability as a percentage with 6 decimals, never rounding up to 100%
// unless it is exactly 1.
func percent(x float64) string {
	s := strconv.FormatFloat(100*x, 'f', 6, 64)
	if x < 1 && s == "100.000000" {
		return "99.999999+%"
	}
	return s + "%"
}

// failureText prints 1-P in scientific notation, from its log when it underflows.
func failureText(r oddsRow) string {
	switch {
	case r.Failure > 0:
		return strconv.FormatFloat(r.Failure, 'e', 3, 64)
	case r.Log10Failure != nil:
		e := math.Floor(*r.Log10Failure)
		return fmt.Sprintf("%.3fe%+d", math.Pow(10, *r.Log10Failure-e), int(e))
	default:
		return "0"
	}
}
