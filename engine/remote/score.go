package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
)

// TokenLogProb is one token and its log-probability at a position.
type TokenLogProb struct {
	ID      int32
	LogProb float64
}

// TokenScore is a remote server's teacher-forced evaluation of one claimed token: what
// llm.Scored is for the built-in engine, from the log-probs the server returns (its top-N
// alternatives and the claimed token's own).
type TokenScore struct {
	ID      int32
	LogProb float64 // the claimed token's log-prob
	// Rank is the number of tokens with a larger log-prob: exact when the server reports it
	// (vLLM) or the token is among the alternatives, else a lower bound (the alternatives
	// that beat it).
	Rank int
	// Margin is the claimed token's log-prob minus the best other token's, as llm.Scored's:
	// positive (by how much it leads) when the claimed token is the argmax, negative (by how
	// much it trails) otherwise; +Inf when it is the argmax and the server listed no other.
	Margin float64
	Top    []TokenLogProb // the server's alternatives, as returned
}

// scoreFromTop builds the evaluation of claimed token id (log-prob lp) from the server's
// alternatives at its position.
func scoreFromTop(id int32, lp float64, alts []TokenLogProb) (TokenScore, error) {
	if math.IsNaN(lp) || lp > 1e-3 {
		return TokenScore{}, fmt.Errorf("log-prob %v of the claimed token", lp)
	}
	if len(alts) == 0 {
		return TokenScore{}, errors.New("no top log-probs")
	}
	s := TokenScore{ID: id, LogProb: lp, Margin: math.Inf(1), Top: alts}
	best, listed := math.Inf(-1), false
	for _, a := range alts {
		if math.IsNaN(a.LogProb) || a.LogProb > 1e-3 {
			return TokenScore{}, fmt.Errorf("log-prob %v of token %d", a.LogProb, a.ID)
		}
		if a.ID == id {
			listed = true
			continue
		}
		best = max(best, a.LogProb)
		if a.LogProb > lp {
			s.Rank++
		}
	}
	switch {
	case !math.IsInf(best, -1):
		s.Margin = lp - best
	case !listed:
		return TokenScore{}, errors.New("the top log-probs list neither the claimed token nor another")
	}
	return s, nil
}

// scorer is implemented by protocols whose server can score a claimed continuation.
type scorer interface {
	// canScore reports whether the server, as declared, offers teacher-forced scoring.
	canScore() bool
	// promptIDs returns the ids the server evaluated t's prompt as (PromptIDs, or the server's
	// tokenization of the text).
	promptIDs(ctx context.Context, t engine.Task) ([]int32, error)
	// score evaluates claim after prompt in one request, with topN alternatives per position.
	score(ctx context.Context, prompt, claim []int32, topN int) ([]TokenScore, error)
	// eog reports whether id ends generation, and whether that is known (vocab= or eog=).
	eog(id int32) (isEOG, known bool)
	// vocabSize is the vocabulary's size when known (vocab=), else 0.
	vocabSize() int
}

// Verifier is a remote text Engine whose server can score a claimed continuation in one
// teacher-forced pass (vLLM's prompt_logprobs; SGLang's /generate with return_logprob and
// logprob_start_len), so that a node on it can vote in check rounds as a node on the built-in
// engine does: it implements VerifyTokens and JudgeTokens (node.TokenVerifier, node.TokenJudge)
// with the built-in greedy check and tolerances (llm.DefaultGreedyTol, llm.DefaultGreedyBand).
// Get one with Engine.Verifier and register it instead of the Engine.
//
// Only greedy claims are checked: the seeded sampler's check (llm.VerifySample) needs the
// whole distribution at every position, which no server returns. Where a claim cannot be
// checked (a sampled or beam task; a claim shorter than max_tokens when the end-of-generation
// ids are unknown; the server failing or refusing the request) JudgeTokens abstains
// (llm.JudgeUnsure, no error, logged) rather than contradict an honest voter.
type Verifier struct {
	*Engine
	sc scorer
}

// Verifier returns e as a Verifier when its server can score claims (openai with server=vllm
// or server=sglang), and false otherwise.
func (e *Engine) Verifier() (*Verifier, bool) {
	sc, ok := e.proto.(scorer)
	if !ok || !sc.canScore() || e.proto.kind() != engine.KindText {
		return nil, false
	}
	return &Verifier{Engine: e, sc: sc}, true
}

// NodeEngine is what a node registers for e: its Verifier when the server scores claims (so
// that the node votes in check rounds by scoring on it), else e itself (the node then votes by
// equality).
func (e *Engine) NodeEngine() engine.Engine {
	if v, ok := e.Verifier(); ok {
		return v
	}
	return e
}

// Verdict is a Verifier's decision on a claimed greedy continuation, as llm.Verdict.
type Verdict struct {
	Accept bool
	// Need is the largest amount by which a claimed token's log-prob trails the best other
	// token's (0 when every token is the argmax); Accept is Need <= the tolerance.
	Need        float64
	FirstReject int    // the first claimed token beyond the tolerance, -1 if none
	Reason      string // why the claim was rejected ("" when accepted)
	Tokens      []TokenScore
}

// Score evaluates claim as the continuation of task's prompt on the server, with the
// spec's n_probs alternatives (at least 2) per position.
func (v *Verifier) Score(ctx context.Context, task engine.Task, claim []int32) ([]TokenScore, error) {
	if err := v.checkTask(task); err != nil {
		return nil, err
	}
	if len(claim) == 0 {
		return nil, fmt.Errorf("%w: empty claim", engine.ErrInvalidTask)
	}
	prompt, err := v.sc.promptIDs(ctx, task)
	if err != nil {
		return nil, err
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("%w: empty prompt", engine.ErrInvalidTask)
	}
	topN := 2
	if o, ok := v.proto.(*openAI); ok {
		topN = max(topN, o.nProbs)
	}
	sc, err := v.sc.score(ctx, prompt, claim, topN)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return sc, err
}

func (v *Verifier) checkTask(t engine.Task) error {
	if t.Kind != engine.KindText || t.Text == nil {
		return fmt.Errorf("%w: %s verifies text tasks", engine.ErrUnsupported, v.Name())
	}
	if t.Model.Name != v.spec.Name || (!t.Model.Digest.IsZero() && t.Model.Digest != v.spec.Digest) {
		return fmt.Errorf("%w: model %s (this engine serves %s)", engine.ErrUnsupported, t.Model, v.spec.ModelRef())
	}
	return nil
}

// greedyChecked reports whether the task's claims are checked as greedy ones (decode greedy,
// or a sample at temperature 0, as llm.VerifySample does).
func greedyChecked(p *engine.TextParams) bool {
	return p.Decode == "" || p.Decode == "greedy" || (p.Decode == "sample" && p.Temperature <= 0)
}

// Check scores a greedy claim and returns the verdict at tolerance tol (log-prob difference).
// The claim's length is not checked here (JudgeTokens does).
func (v *Verifier) Check(ctx context.Context, task engine.Task, claim []int32, tol float64) (*Verdict, error) {
	if err := v.checkTask(task); err != nil {
		return nil, err
	}
	if !greedyChecked(task.Text) {
		return nil, fmt.Errorf("%w: decode %q cannot be checked from a server's top log-probs (only greedy claims)", engine.ErrUnsupported, task.Text.Decode)
	}
	sc, err := v.Score(ctx, task, claim)
	if err != nil {
		return nil, err
	}
	vd := &Verdict{FirstReject: -1, Tokens: sc}
	for i, s := range sc {
		vd.Need = max(vd.Need, -s.Margin)
		if -s.Margin > tol && vd.FirstReject < 0 {
			vd.FirstReject = i
			vd.Reason = fmt.Sprintf("token %d (id %d) has rank %d and trails the argmax by %.4g > %.4g", i, s.ID, s.Rank, -s.Margin, tol)
		}
	}
	vd.Accept = vd.FirstReject < 0
	return vd, nil
}

// VerifyTokens checks a claimed greedy output of task on the server at llm.DefaultGreedyTol.
// It returns an error wrapping engine.ErrUnsupported for tasks it cannot check (sampled,
// beam), and the server's error when scoring fails; a claim shorter than max_tokens whose end
// cannot be checked (end-of-generation ids unknown) is not accepted.
func (v *Verifier) VerifyTokens(ctx context.Context, task engine.Task, claim []int32) (bool, error) {
	j, err := v.judge(ctx, task, claim)
	if err != nil {
		return false, err
	}
	return j == llm.JudgeValid, nil
}

// JudgeTokens is VerifyTokens with the abstention band of llm.JudgeTokens: llm.JudgeValid
// within llm.DefaultGreedyTol, llm.JudgeUnsure up to DefaultGreedyTol + DefaultGreedyBand,
// llm.JudgeInvalid beyond (and for a claim of the wrong length, a negative id, an id outside
// a known vocabulary, or a short claim not ending in a known end-of-generation id). It abstains
// (llm.JudgeUnsure, nil error, logged) where it cannot check: sampled or beam tasks, a short
// claim with unknown end-of-generation ids, a server that fails or refuses the request.
func (v *Verifier) JudgeTokens(ctx context.Context, task engine.Task, claim []int32) (int, error) {
	j, err := v.judge(ctx, task, claim)
	switch {
	case err == nil:
		return j, nil
	case ctx.Err() != nil:
		return llm.JudgeInvalid, ctx.Err()
	case errors.Is(err, engine.ErrUnsupported) && v.checkTask(task) != nil:
		return llm.JudgeInvalid, err // not this engine's task: the node should not have asked
	}
	level := slog.LevelWarn // the server failed or answered out of shape
	if errors.Is(err, engine.ErrUnsupported) && !refused(err) {
		level = slog.LevelInfo // a claim no server's top log-probs can check (sampled, beam, unknown end ids)
	}
	v.logger().Log(ctx, level, "remote check: cannot check the claim, voting unsure", "engine", v.Name(), "tokens", len(claim), "err", err)
	return llm.JudgeUnsure, nil
}

// judge is JudgeTokens without the abstentions: those are errors here.
func (v *Verifier) judge(ctx context.Context, task engine.Task, claim []int32) (int, error) {
	if err := v.checkTask(task); err != nil {
		return llm.JudgeInvalid, err
	}
	tp := task.Text
	if !greedyChecked(tp) {
		return llm.JudgeInvalid, fmt.Errorf("%w: decode %q cannot be checked from a server's top log-probs (only greedy claims)", engine.ErrUnsupported, tp.Decode)
	}
	n := len(claim)
	if n == 0 || n > tp.MaxTokens {
		return llm.JudgeInvalid, nil
	}
	vocab := v.sc.vocabSize()
	for _, id := range claim {
		if id < 0 || (vocab > 0 && int(id) >= vocab) {
			return llm.JudgeInvalid, nil
		}
	}
	vd, err := v.Check(ctx, task, claim, llm.DefaultGreedyTol)
	if err != nil {
		return llm.JudgeInvalid, err
	}
	j := llm.JudgeValid
	switch {
	case vd.Need > llm.DefaultGreedyTol+llm.DefaultGreedyBand:
		return llm.JudgeInvalid, nil
	case !vd.Accept:
		j = llm.JudgeUnsure
	}
	if n < tp.MaxTokens {
		isEOG, known := v.sc.eog(claim[n-1])
		switch {
		case !known:
			return llm.JudgeInvalid, fmt.Errorf("%w: a claim of %d tokens for max_tokens %d must end in an end-of-generation token, "+
				"and this engine does not know those ids (set vocab=FILE.gguf or eog=ID,...)", engine.ErrUnsupported, n, tp.MaxTokens)
		case !isEOG:
			return llm.JudgeInvalid, nil
		}
	}
	return j, nil
}

func (v *Verifier) logger() *slog.Logger {
	if v.log != nil {
		return v.log
	}
	return slog.Default()
}
