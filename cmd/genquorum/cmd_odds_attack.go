package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/odds"
)

// oddsAttackOptions are the flags of odds attack.
type oddsAttackOptions struct {
	p         string
	collision string
	verifiers []int
	colluders []int
	rules     []string
	format    string
}

// oddsEstimateOptions are the flags of odds estimate.
type oddsEstimateOptions struct {
	successes, trials int
	confidence        float64
	format            string
}

func newOddsAttackCommand(g *globalOptions) *cobra.Command {
	var opts oddsAttackOptions
	cmd := &cobra.Command{
		Use:   "attack --p P --collision C [flags]",
		Short: "Probability that colluders or a guesser get a wrong result accepted (Type II)",
		Long: `attack prints, for each rule, verifier count n and colluder count m, two probabilities
(models in the odds package documentation):

  collusion  m colluders submit the same wrong value; each honest verifier is right with
             probability --p and otherwise lands on the wrong value with probability
             --collision: P(the wrong value reaches the quorum)
  guess      a node guesses without doing the work and m colluders copy its guess; the guess
             lands within tolerance of the true result with probability --collision (the
             collision rate of same-prompt, different-seed outputs; the paper measures under
             0.0267% for aHash at tolerance 2): P(the guess is accepted)

--colluders defaults to 0, 1 and 2 (counts above n for collusion, or n-1 for guess, are
skipped). Output columns: rule, n, need, colluders, model, probability, log10_probability;
--format text, tsv or json (JSON Lines).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOddsAttack(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.p, "p", "", "probability that an honest verifier is correct, decimal or fraction like 6771/6928 (required)")
	f.StringVar(&opts.collision, "collision", "", "probability that an unrelated output lands within tolerance, decimal or fraction (required)")
	f.IntSliceVar(&opts.verifiers, "verifiers", nil, "verifier counts (default 3,5,7 for majority, 4,7,10 for supermajority)")
	f.IntSliceVar(&opts.colluders, "colluders", []int{0, 1, 2}, "colluder counts")
	f.StringSliceVar(&opts.rules, "rule", []string{"majority"}, "voting rules: majority, supermajority, or both comma-separated")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json (JSON Lines)")
	return cmd
}

func newOddsEstimateCommand(g *globalOptions) *cobra.Command {
	var opts oddsEstimateOptions
	cmd := &cobra.Command{
		Use:   "estimate --successes S --trials N [flags]",
		Short: "Estimate p with Wilson and Clopper-Pearson confidence intervals",
		Long: `estimate prints the observed rate S/N and two-sided confidence intervals for it: Wilson's
score interval and the exact (conservative) Clopper-Pearson interval. For Table 1 counts,
successes = images - outliers at a tolerance, e.g. aHash on the LoRA model at tolerance 2:
--successes 6771 --trials 6928. Feed the lower bound to odds for a cautious P.
Output columns: method, successes, trials, p, lo, hi, confidence.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOddsEstimate(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.successes, "successes", 0, "number of successes (required)")
	_ = cmd.MarkFlagRequired("successes")
	f.IntVar(&opts.trials, "trials", 0, "number of trials (required)")
	f.Float64Var(&opts.confidence, "confidence", 0.95, "two-sided confidence level")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json (JSON Lines)")
	return cmd
}

// parseProb parses a single probability in [0, 1], a decimal or a fraction, as --p of odds does.
func parseProb(flag, s string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, usagef("%s: required", flag)
	}
	r, ok := parseRat(strings.TrimSpace(s))
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return 0, usagef("%s %q: want a probability in [0, 1] (decimal or fraction)", flag, s)
	}
	f, _ := r.Float64()
	return f, nil
}

// attackRow is one line of odds attack output.
type attackRow struct {
	Rule        string   `json:"rule"`
	N           int      `json:"n"`
	Need        int      `json:"need"`
	Colluders   int      `json:"colluders"`
	Model       string   `json:"model"`
	Probability float64  `json:"probability"`
	Log10       *float64 `json:"log10_probability,omitempty"`
}

func runOddsAttack(ctx context.Context, g *globalOptions, opts oddsAttackOptions) error {
	p, err := parseProb("--p", opts.p)
	if err != nil {
		return err
	}
	collision, err := parseProb("--collision", opts.collision)
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
	for _, m := range opts.colluders {
		if m < 0 {
			return usagef("--colluders: %d is negative", m)
		}
	}
	var rows []attackRow
	for _, rule := range rules {
		ns := opts.verifiers
		if len(ns) == 0 {
			ns = defaultVerifiers[rule]
		}
		for _, n := range ns {
			for _, m := range opts.colluders {
				if err := ctx.Err(); err != nil {
					return err
				}
				add := func(model string, t odds.Tail, err error) error {
					if err != nil {
						return fmt.Errorf("odds attack: %w", err)
					}
					r := attackRow{Rule: rule.String(), N: n, Need: rule.Need(n), Colluders: m, Model: model, Probability: t.P}
					if t.P > 0 {
						l := math.Log10(t.P)
						r.Log10 = &l
					}
					rows = append(rows, r)
					return nil
				}
				if m <= n {
					t, err := odds.Collusion(n, m, p, collision, rule)
					if err := add("collusion", t, err); err != nil {
						return err
					}
				}
				if m < n {
					t, err := odds.Guess(n, m, p, collision, rule)
					if err := add("guess", t, err); err != nil {
						return err
					}
				}
			}
		}
	}
	cols := []string{"rule", "n", "need", "colluders", "model", "probability", "log10_probability"}
	return writeTable(g.stdout, opts.format, cols, rows, func(r attackRow, text bool) []string {
		prob, lg := fmtFloat(r.Probability), "-Inf"
		if text {
			prob = strconv.FormatFloat(r.Probability, 'e', 3, 64)
		}
		if r.Log10 != nil {
			lg = fmtFloat(*r.Log10)
			if text {
				lg = strconv.FormatFloat(*r.Log10, 'f', 3, 64)
			}
		}
		return []string{r.Rule, strconv.Itoa(r.N), strconv.Itoa(r.Need), strconv.Itoa(r.Colluders), r.Model, prob, lg}
	})
}

// estimateRow is one line of odds estimate output.
type estimateRow struct {
	Method     string  `json:"method"`
	Successes  int     `json:"successes"`
	Trials     int     `json:"trials"`
	P          float64 `json:"p"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
}

func runOddsEstimate(ctx context.Context, g *globalOptions, opts oddsEstimateOptions) error {
	if opts.trials < 1 || opts.successes < 0 || opts.successes > opts.trials {
		return usagef("--successes %d --trials %d: want 0 <= successes <= trials, trials >= 1", opts.successes, opts.trials)
	}
	if !(opts.confidence > 0 && opts.confidence < 1) {
		return usagef("--confidence %v: want a level in (0, 1), e.g. 0.95", opts.confidence)
	}
	if err := checkOddsFormat(opts.format); err != nil {
		return err
	}
	var rows []estimateRow
	for _, m := range []struct {
		name string
		f    func(int, int, float64) (odds.Estimate, error)
	}{{"wilson", odds.Wilson}, {"clopper-pearson", odds.ClopperPearson}} {
		e, err := m.f(opts.successes, opts.trials, opts.confidence)
		if err != nil {
			return fmt.Errorf("odds estimate: %w", err)
		}
		rows = append(rows, estimateRow{m.name, e.Successes, e.Trials, e.P, e.Lo, e.Hi, e.Confidence})
	}
	cols := []string{"method", "successes", "trials", "p", "lo", "hi", "confidence"}
	return writeTable(g.stdout, opts.format, cols, rows, func(r estimateRow, text bool) []string {
		f := fmtFloat
		if text {
			f = func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
		}
		return []string{r.Method, strconv.Itoa(r.Successes), strconv.Itoa(r.Trials), f(r.P), f(r.Lo), f(r.Hi), fmtFloat(r.Confidence)}
	})
}

// writeTable writes rows as JSON Lines (format json), TSV with a header (tsv) or aligned text
// (text). cells returns a row's fields in cols order, rounded for reading when text is set.
func writeTable[R any](w io.Writer, format string, cols []string, rows []R, cells func(r R, text bool) []string) error {
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
		lines := []string{strings.Join(cols, "\t")}
		for _, r := range rows {
			lines = append(lines, strings.Join(cells(r, false), "\t"))
		}
		_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r, true), "\t"))
	}
	return tw.Flush()
}
