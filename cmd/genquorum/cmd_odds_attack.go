package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/odds/report"
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

// parseProb parses a single probability (report.ParseProb); its errors are usage errors.
func parseProb(flag, s string) (float64, error) {
	f, err := report.ParseProb(flag, s)
	if err != nil {
		return 0, usageError{err}
	}
	return f, nil
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
	if err := checkVerifiers(opts.verifiers); err != nil {
		return err
	}
	for _, m := range opts.colluders {
		if m < 0 {
			return usagef("--colluders: %d is negative", m)
		}
	}
	rows, err := report.Attack(ctx, rules, opts.verifiers, opts.colluders, p, collision)
	if err != nil {
		return err
	}
	return report.WriteAttack(g.stdout, opts.format, rows)
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
	rows, err := report.Estimate(opts.successes, opts.trials, opts.confidence)
	if err != nil {
		return err
	}
	return report.WriteEstimate(g.stdout, opts.format, rows)
}

// oddsSpotOptions are the flags of odds spot.
type oddsSpotOptions struct {
	q                  []string
	collision          string
	fee, cost, penalty float64
	tasks              int
	format             string
	verifiers          int
	stake              uint64
	slashBPS           uint32
}

func newOddsSpotCommand(g *globalOptions) *cobra.Command {
	var opts oddsSpotOptions
	cmd := &cobra.Command{
		Use:   "spot --q Q[,Q...] [flags]",
		Short: "Odds and economics of spot-checking: one executor, verified with probability q",
		Long: `spot prints, for each check probability q, the probability that one cheated task is
caught, q (1 - collision), the probability of being caught at least once in --tasks cheated
tasks, and the expected earnings per task of an honest executor (fee - cost) and of a cheater
whose cheat costs nothing ((1 - c) fee - c penalty, c the catch probability): cheating pays
on average exactly when cost > c (fee + penalty). min_q is the least q that deters the cheat
(-1 when none does). --collision is the probability that the cheat passes when checked (its
Type II rate; 0 for a random guess on exact-equality fingerprints). Model: odds.Spot.

The ledger's rules (submit --spot-ppm; ledger doc, "Spot checks and escalation"): a checked
task draws --verifiers verifiers (the chain's SpotVerifiers, 2 by default), and when they agree
with the executor the fee is shared among all of them, so the honest executor earns
(1 - q) fee + q fee/(1+verifiers) - cost and a free cheat pays when cost > c (fee/(1+verifiers) +
penalty). A caught executor is an outlier: it is paid nothing and loses the chain's
SlashOutlierBPS of its stake: give --stake (and --slash-bps if the chain's differs from the
default 1000) instead of --penalty. --verifiers 0 is the model without sharing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.stake > 0 {
				if cmd.Flags().Changed("penalty") {
					return usagef("--penalty and --stake: give one (the penalty is stake * slash-bps / 10000)")
				}
				if opts.slashBPS > 10000 {
					return usagef("--slash-bps %d: want at most 10000", opts.slashBPS)
				}
				opts.penalty = report.SlashPenalty(opts.stake, opts.slashBPS)
			}
			return runOddsSpot(g, opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.q, "q", nil, "check probabilities, decimal or fraction (required)")
	f.StringVar(&opts.collision, "collision", "0", "probability that a cheat passes when it is checked")
	f.Float64Var(&opts.fee, "fee", 100, "what the executor earns for a task")
	f.Float64Var(&opts.cost, "cost", 50, "what honest execution costs the executor (a free cheat saves it)")
	f.Float64Var(&opts.penalty, "penalty", 1000, "stake lost when caught (ledger: SlashOutlierBPS of the stake)")
	f.IntVar(&opts.tasks, "tasks", 100, "cheated tasks for catch_within")
	f.IntVar(&opts.verifiers, "verifiers", 2, "verifiers a check draws (the chain's SpotVerifiers); the fee is shared among the executor and them when checked")
	f.Uint64Var(&opts.stake, "stake", 0, "the executor's bonded stake: penalty = stake * --slash-bps / 10000 (instead of --penalty)")
	f.Uint32Var(&opts.slashBPS, "slash-bps", ledger.DefaultParams().SlashOutlierBPS, "the chain's SlashOutlierBPS, with --stake")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json (JSON Lines)")
	return cmd
}

func runOddsSpot(g *globalOptions, opts oddsSpotOptions) error {
	if len(opts.q) == 0 {
		return usagef("--q: required")
	}
	var qs []float64
	for _, s := range opts.q {
		q, err := parseProb("--q", s)
		if err != nil {
			return err
		}
		qs = append(qs, q)
	}
	collision, err := parseProb("--collision", opts.collision)
	if err != nil {
		return err
	}
	if opts.tasks < 0 {
		return usagef("--tasks %d: want >= 0", opts.tasks)
	}
	if err := checkOddsFormat(opts.format); err != nil {
		return err
	}
	rows, err := report.Spot(qs, collision, opts.fee, opts.cost, opts.penalty, opts.verifiers, opts.tasks)
	if err != nil {
		return usagef("%v", err)
	}
	return report.WriteSpot(g.stdout, opts.format, rows)
}
