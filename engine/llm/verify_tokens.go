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
	if task.Kind != engine.KindText || task.Text == nil {
		return false, fmt.Errorf("%w: %s engine verifies text tasks", engine.ErrUnsupported, e.Name())
	}
	if task.Model.Name != e.ref.Name || (!task.Model.Digest.IsZero() && task.Model.Digest != e.ref.Digest) {
		return false, fmt.Errorf("%w: model %s (this engine serves %s)", engine.ErrUnsupported, task.Model, e.ref)
	}
	profName := task.Profile
	if profName == "" {
		profName = tensor.Exact.Name
	}
	prof, err := tensor.ProfileByName(profName)
	if err != nil {
		return false, fmt.Errorf("%w: %w", engine.ErrUnsupported, err)
	}
	tp := task.Text
	n := len(claim)
	for _, id := range claim {
		if id < 0 || int(id) >= e.m.Config.Vocab {
			return false, nil
		}
	}
	if n == 0 || n > tp.MaxTokens || (n < tp.MaxTokens && !e.m.Tok.IsEOG(claim[n-1])) {
		return false, nil
	}
	prompt := e.Prompt(task)
	var v *Verdict
	switch tp.Decode {
	case DecodeGreedy, "":
		v, err = e.m.VerifyGreedy(ctx, prompt, claim, prof, DefaultGreedyTol)
	case DecodeSample:
		p := Params{Decode: DecodeSample, MaxTokens: tp.MaxTokens, Temperature: tp.Temperature, TopK: tp.TopK,
			TopP: tp.TopP, Seed: task.Seed}
		v, err = e.m.VerifySample(ctx, prompt, claim, p, prof, DefaultSampleTol)
	default:
		return false, fmt.Errorf("%w: decode %q cannot be checked token by token", engine.ErrUnsupported, tp.Decode)
	}
	if err != nil {
		return false, err
	}
	return v.Accept, nil
}
