package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/llm"
)

type scoreOptions struct {
	modelFlags
	claimIDs    string
	decode      string
	temperature float32
	topK        int
	topP        float32
	seed        uint64
	tolerance   float64
	// toleranceSet: --tolerance was given; otherwise the default of the decoding applies.
	toleranceSet bool
}

func newScoreCommand(g *globalOptions) *cobra.Command {
	var opts scoreOptions
	cmd := &cobra.Command{
		Use:   "score --model FILE (--prompt TEXT | --prompt-ids \"1 2 3\") --claim-ids \"...\" [flags]",
		Short: "Verify a claimed continuation with one teacher-forced pass",
		Long: `score evaluates a claimed continuation of a prompt in one teacher-forced pass (much cheaper than
generating it) and prints, per claimed token, its log-prob, its rank (0 = argmax) and its
margin (its logit minus the best other token's: positive when it is the argmax), then the
verdict.

With --decode greedy (the default) the claim is accepted when every token is the argmax or
trails it by at most --tolerance (default 0.5) in log-prob. With --decode sample (give the
claim's --temperature, --top-k, --top-p and --seed) each token must be the one the sampler
could have drawn with the same seed: the draw may fall outside the token's cumulative-mass
interval by at most --tolerance (default 0.05) of probability mass.

The command exits with status 0 when the claim is accepted and 1 when it is rejected.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.toleranceSet = cmd.Flags().Changed("tolerance")
			return runScore(cmd.Context(), g, opts)
		},
	}
	opts.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.claimIDs, "claim-ids", "", "the claimed continuation as space-separated token ids (required)")
	f.StringVar(&opts.decode, "decode", "greedy", "how the claim was decoded: greedy (beam outputs too) or sample")
	f.Float32Var(&opts.temperature, "temperature", 1, "sample: the claim's temperature")
	f.IntVar(&opts.topK, "top-k", 0, "sample: the claim's top-k (0 = all)")
	f.Float32Var(&opts.topP, "top-p", 1, "sample: the claim's top-p (1 = all)")
	f.Uint64Var(&opts.seed, "seed", 0, "sample: the claim's seed")
	f.Float64Var(&opts.tolerance, "tolerance", 0, fmt.Sprintf("acceptance tolerance (default %g log-prob for greedy, %g mass for sample)",
		llm.DefaultGreedyTol, llm.DefaultSampleTol))
	return cmd
}

// errClaimRejected is returned when the verdict is a rejection (exit status 1).
type errClaimRejected struct{ reason string }

func (e errClaimRejected) Error() string { return "claim rejected: " + e.reason }

func runScore(ctx context.Context, g *globalOptions, opts scoreOptions) error {
	if opts.claimIDs == "" {
		return usagef("--claim-ids is required")
	}
	claim, err := parseIDs(opts.claimIDs)
	if err != nil {
		return usagef("--claim-ids: %v", err)
	}
	if opts.decode != llm.DecodeGreedy && opts.decode != llm.DecodeSample {
		return usagef("--decode %q: want greedy or sample", opts.decode)
	}
	if opts.toleranceSet && !(opts.tolerance >= 0 && !math.IsInf(opts.tolerance, 0)) {
		return usagef("--tolerance %v: want 0 or more", opts.tolerance)
	}
	if err := checkTopP(opts.topP); err != nil {
		return err
	}
	if !opts.toleranceSet {
		opts.tolerance = -1 // the decoding's default, below
	}
	m, ids, prof, err := opts.load()
	if err != nil {
		return err
	}
	tol := opts.tolerance
	var v *llm.Verdict
	if opts.decode == llm.DecodeSample && opts.temperature > 0 {
		if tol < 0 {
			tol = llm.DefaultSampleTol
		}
		p := llm.Params{Decode: llm.DecodeSample, MaxTokens: len(claim), Temperature: opts.temperature,
			TopK: opts.topK, TopP: opts.topP, Seed: opts.seed}
		if err := p.Validate(); err != nil {
			return usageError{err}
		}
		v, err = m.VerifySample(ctx, ids, claim, p, prof, tol)
	} else {
		if tol < 0 {
			tol = llm.DefaultGreedyTol
		}
		v, err = m.VerifyGreedy(ctx, ids, claim, prof, float32(tol))
	}
	if err != nil {
		return err
	}
	// The verifiers skip the log-sum-exp; one more pass gives the log-probs to print.
	sc, err := m.Score(ctx, ids, claim, prof, 0)
	if err != nil {
		return err
	}
	out := llm.NewScoreReport(m, prof, opts.decode, tol, ids, sc, v)
	if opts.format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if err := out.WriteText(g.stdout); err != nil {
		return err
	}
	if !v.Accept {
		return errClaimRejected{v.Reason}
	}
	return nil
}
