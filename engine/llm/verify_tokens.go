package llm

import (
	"context"
	"fmt"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// VerifyTokens checks a claimed output of a text task with one teacher-forced pass of this
// engine's model under the task's profile: greedy tasks with VerifyGreedy at DefaultGreedyTol,
// sampled tasks with VerifySample at DefaultSampleTol (the sampler of SAMPLING.md, seeded with
// the task's seed). The claim must have MaxTokens ids, or fewer ending with an
// end-of-generation token. Beam search cannot be checked token by token: it returns an error
// wrapping engine.ErrUnsupported, as for another kind of task or model.
func (e *Engine) VerifyTokens(ctx context.Context, task engine.Task, claim []int32) (bool, error) {
	v, _, err := e.verifyTokens(ctx, task, claim)
	if err != nil || v == nil {
		return false, err
	}
	return v.Accept, nil
}

// Bands next to the default tolerances in which JudgeTokens abstains. They exceed the largest
// drift measured between two preset profiles (0.36 in logit margin, 0.063 of mass for a sampled
// token's interval edge; see the package doc), so when one honest verifier finds a claim valid (need <= tol), no
// honest verifier on other hardware finds it beyond tol + band, and the other way round: two
// honest voters never firmly contradict each other, whatever the claim.
const (
	DefaultGreedyBand = 0.4
	DefaultSampleBand = 0.07
)

// Judgements of JudgeTokens.
const (
	JudgeInvalid = -1 // the claim needs more than tol + band somewhere: invalid on any honest hardware
	JudgeUnsure  = 0  // the claim needs between tol and tol + band: honest hardware may disagree
	JudgeValid   = 1  // the claim is within tol (what VerifyTokens accepts)
)

// JudgeTokens is VerifyTokens with an abstention band: it returns JudgeValid when VerifyTokens
// accepts, JudgeInvalid when the claim fails by more than the band (DefaultGreedyBand in logit
// margin, DefaultSampleBand in probability mass; a token outside the top-k, after an
// end-of-generation token, or a claim of the wrong length is always invalid), and JudgeUnsure
// in between. A node votes unsure on a candidate judged JudgeUnsure (ledger: check rounds).
func (e *Engine) JudgeTokens(ctx context.Context, task engine.Task, claim []int32) (int, error) {
	v, band, err := e.verifyTokens(ctx, task, claim)
	switch {
	case err != nil:
		return JudgeInvalid, err
	case v == nil:
		return JudgeInvalid, nil
	case v.Accept:
		return JudgeValid, nil
	case v.Need <= band.tol+band.width:
		return JudgeUnsure, nil
	}
	return JudgeInvalid, nil
}

type tolBand struct{ tol, width float64 }

// verifyTokens runs the check of VerifyTokens; a nil Verdict (and no error) means the claim
// is invalid before any scoring (token ids out of range, wrong length).
func (e *Engine) verifyTokens(ctx context.Context, task engine.Task, claim []int32) (*Verdict, tolBand, error) {
	if task.Kind != engine.KindText || task.Text == nil {
		return nil, tolBand{}, fmt.Errorf("%w: %s engine verifies text tasks", engine.ErrUnsupported, e.Name())
	}
	if task.Model.Name != e.ref.Name || (!task.Model.Digest.IsZero() && task.Model.Digest != e.ref.Digest) {
		return nil, tolBand{}, fmt.Errorf("%w: model %s (this engine serves %s)", engine.ErrUnsupported, task.Model, e.ref)
	}
	profName := task.Profile
	if profName == "" {
		profName = tensor.Exact.Name
	}
	prof, err := tensor.ProfileByName(profName)
	if err != nil {
		return nil, tolBand{}, fmt.Errorf("%w: %w", engine.ErrUnsupported, err)
	}
	tp := task.Text
	n := len(claim)
	for _, id := range claim {
		if id < 0 || int(id) >= e.m.Config.Vocab {
			return nil, tolBand{}, nil
		}
	}
	if n == 0 || n > tp.MaxTokens || (n < tp.MaxTokens && !e.m.Tok.IsEOG(claim[n-1])) {
		return nil, tolBand{}, nil
	}
	prompt := e.Prompt(task)
	var v *Verdict
	var band tolBand
	switch tp.Decode {
	case DecodeGreedy, "":
		band = tolBand{DefaultGreedyTol, DefaultGreedyBand}
		v, err = e.m.VerifyGreedy(ctx, prompt, claim, prof, DefaultGreedyTol)
	case DecodeSample:
		p := Params{Decode: DecodeSample, MaxTokens: tp.MaxTokens, Temperature: tp.Temperature, TopK: tp.TopK,
			TopP: tp.TopP, Seed: task.Seed}
		band = tolBand{DefaultSampleTol, DefaultSampleBand}
		if p.Temperature <= 0 { // VerifySample checks it as greedy, at the same tol
			band.width = DefaultGreedyBand
		}
		v, err = e.m.VerifySample(ctx, prompt, claim, p, prof, DefaultSampleTol)
	default:
		return nil, tolBand{}, fmt.Errorf("%w: decode %q cannot be checked token by token", engine.ErrUnsupported, tp.Decode)
	}
	if err != nil {
		return nil, tolBand{}, err
	}
	return v, band, nil
}
