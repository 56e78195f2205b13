package llm

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/genquorum/genquorum/tensor"
)

// Scored is the teacher-forced evaluation of one claimed token.
type Scored struct {
	ID      int32
	LogProb float32 // log softmax(logits)[ID] over the vocabulary
	// Rank is the number of tokens ranked before ID (larger logit, or equal logit and lower
	// id): 0 for the argmax.
	Rank int
	// Margin is ID's logit minus the best other token's logit (equal to the log-prob
	// difference up to rounding): positive when ID is the argmax, by how much it leads; negative
	// otherwise, by how much it trails the argmax.
	Margin float32
	// Top are the TopN most likely tokens at this position.
	Top []TokenProb
	// logits of the position, kept for the sampling verifier.
	logits []float32
}

// Score evaluates claim as a continuation of prompt in one teacher-forced pass (prompt and
// claim batched; logits only for the claimed positions) under prof, and returns, per claimed
// token, its log-prob, rank and margin, with topN alternatives. Under profiles whose
// reductions do not depend on the number of masked keys (see tensor.Tape.Attention: all presets
// but ampere-fp16 and turing-fp16acc) the logits are bit-identical to those of generation.
func (m *Model) Score(ctx context.Context, prompt, claim []int32, prof tensor.Profile, topN int) ([]Scored, error) {
	return m.score(ctx, prompt, claim, prof, topN, true, nil)
}

// score is Score; without withLSE the log-sum-exp is skipped and LogProb is NaN (the verifiers
// need only logits, ranks and margins). A non-nil buf receives the logits (the Scored values
// refer to it), which saves allocating and zeroing them.
func (m *Model) score(ctx context.Context, prompt, claim []int32, prof tensor.Profile, topN int, withLSE bool, buf *[]float32) ([]Scored, error) {
	if len(prompt) == 0 || len(claim) == 0 {
		return nil, fmt.Errorf("%w: empty prompt or claim", ErrParams)
	}
	if topN < 0 || topN > MaxTopN {
		return nil, fmt.Errorf("%w: top-n %d", ErrParams, topN)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq := make([]int32, 0, len(prompt)+len(claim))
	seq = append(append(seq, prompt...), claim[:len(claim)-1]...)
	for _, id := range claim {
		if id < 0 || int(id) >= m.Config.Vocab {
			return nil, fmt.Errorf("%w: claimed id %d (vocabulary of %d)", ErrToken, id, m.Config.Vocab)
		}
	}
	st := m.NewState(prof)
	if buf != nil {
		st.logits = *buf
	}
	logits, err := st.Eval(seq, len(claim))
	if err != nil {
		return nil, err
	}
	v := m.Config.Vocab
	ebuf := make([]float32, v)
	out := make([]Scored, len(claim))
	for i, id := range claim {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row := logits[i*v : (i+1)*v]
		d := analyze(&st.prof, row, topN, withLSE || topN > 0, ebuf)
		s := Scored{ID: id, LogProb: d.logProb(id), logits: row}
		s.Rank = d.rank(id)
		if d.top[0] == id {
			s.Margin = d.margin()
		} else {
			s.Margin = row[id] - row[d.top[0]]
		}
		if topN > 0 {
			s.Top = make([]TokenProb, min(topN, len(d.top)))
			for k := range s.Top {
				s.Top[k] = TokenProb{d.top[k], d.logProb(d.top[k])}
			}
		}
		out[i] = s
	}
	return out, nil
}

// rank is rank(d.logits, id), read off the top list when id is in it and no logit is NaN (the
// list is then the rank order: see better).
func (d *dist) rank(id int32) int {
	if !d.nan {
		if k := slices.Index(d.top, id); k >= 0 {
			return k
		}
	}
	return rank(d.logits, id)
}

// rank returns the number of tokens ranked before id (see better): larger logit, or equal
// logit and lower id.
func rank(l []float32, id int32) int {
	lc := l[id]
	if lc != lc {
		return len(l) - 1
	}
	r := 0
	for _, v := range l {
		if v > lc || v != v {
			r++
		}
	}
	for _, v := range l[:id] {
		if v == lc {
			r++
		}
	}
	return r
}

// Verdict is a verifier's decision on a claimed continuation.
type Verdict struct {
	Accept bool
	// Need is the smallest tolerance under which the claim would be accepted: for greedy
	// claims the largest amount by which a claimed token's logit trails the argmax (0 when
	// every token is the argmax); for samples the largest distance (in probability mass) of a
	// draw outside its token's interval; +Inf when a token is impossible (outside the top-k,
	// after an end-of-generation token). Accept is Need <= tolerance.
	Need float64
	// FirstReject is the index of the first claimed token that failed the check, -1 if none.
	FirstReject int
	// Reason says why the claim was rejected ("" when accepted).
	Reason string
	// Tokens are the teacher-forced evaluations of the claimed tokens (LogProb is NaN: the
	// verifiers skip the log-sum-exp; use Score for log-probs).
	Tokens []Scored
}

// Default tolerances of the verifiers. They are set from the cross-profile study (doc.go):
// the largest margin drift between two preset profiles on the reference models was 0.36
// (half-precision storage profiles against float32 ones), and the largest slack drift of a
// sampled token 0.043 of probability mass.
const (
	// DefaultGreedyTol is the logit (= log-prob) difference by which a claimed greedy token may
	// trail the verifier's argmax.
	DefaultGreedyTol = 0.5
	// DefaultSampleTol is the probability mass by which the verifier's draw may fall outside
	// the claimed token's interval.
	DefaultSampleTol = 0.05
)

// VerifyGreedy checks a claimed greedy continuation with one teacher-forced pass: it accepts
// when every claimed token is the verifier's argmax or trails it by at most tol in logit
// (= log-prob) difference, i.e. Margin >= -tol. Honest engines under other profiles disagree
// only at near-ties, which tol absorbs; a substituted token whose logit trails the argmax by
// more than tol is caught. The claim's length is not checked (the caller knows MaxTokens).
func (m *Model) VerifyGreedy(ctx context.Context, prompt, claim []int32, prof tensor.Profile, tol float32) (*Verdict, error) {
	buf := m.logitBuf(len(claim) * m.Config.Vocab)
	defer m.putLogitBuf(buf) // the logits are dropped from the Scored values below
	sc, err := m.score(ctx, prompt, claim, prof, 0, false, buf)
	if err != nil {
		return nil, err
	}
	v := &Verdict{FirstReject: -1, Tokens: sc}
	for i, s := range sc {
		s.logits = nil
		sc[i] = s
		v.Need = max(v.Need, float64(-s.Margin))
		if s.Margin < -tol && v.FirstReject < 0 {
			v.FirstReject = i
			v.Reason = fmt.Sprintf("token %d (id %d) has rank %d and trails the argmax by %.4g > %.4g", i, s.ID, s.Rank, -s.Margin, tol)
		}
	}
	v.Accept = v.FirstReject < 0
	return v, nil
}

// VerifySample checks a claimed seeded sample (Params.Decode "sample" with the claim's
// temperature, top-k, top-p and seed) with one teacher-forced pass. At each position it
// rebuilds the sampling distribution from its own logits (samplingDist, with the claimed token
// kept even if it falls just outside the verifier's nucleus), replays the claim's draw u from
// Rand(seed), and accepts the claimed token when it is among the top-k, the mass ranked before
// it is at most TopP + tol (when top-p is on), and its interval [A, B) (shares of the kept
// mass, tokens laid out in id order as the sampler does) satisfies A - tol <= u <= B + tol. So a token is accepted when an honest sampler, whose
// logits drifted by the profile difference, could have picked it with the same draw; tol is
// measured in probability mass. A token after an end-of-generation token is rejected.
func (m *Model) VerifySample(ctx context.Context, prompt, claim []int32, p Params, prof tensor.Profile, tol float64) (*Verdict, error) {
	if p.Temperature <= 0 {
		return m.VerifyGreedy(ctx, prompt, claim, prof, float32(tol))
	}
	buf := m.logitBuf(len(claim) * m.Config.Vocab)
	defer m.putLogitBuf(buf) // the logits are dropped from the Scored values below
	sc, err := m.score(ctx, prompt, claim, prof, 0, false, buf)
	if err != nil {
		return nil, err
	}
	v := &Verdict{FirstReject: -1, Tokens: sc}
	rng := NewRand(p.Seed)
	fail := func(i int, need float64, format string, args ...any) {
		v.Need = max(v.Need, need)
		if need > tol && v.FirstReject < 0 {
			v.FirstReject = i
			v.Reason = fmt.Sprintf("token %d (id %d): ", i, claim[i]) + fmt.Sprintf(format, args...)
		}
	}
	for i, s := range sc {
		u := rng.Float64()
		if i > 0 && m.stop(&p, claim[i-1]) {
			fail(i, math.Inf(1), "follows an end-of-generation token")
			continue
		}
		c := samplingDist(s.logits, &p, s.ID)
		if c.before < 0 {
			fail(i, math.Inf(1), "outside the top %d", p.TopK)
			continue
		}
		if p.TopP > 0 && p.TopP < 1 && c.before > float64(p.TopP) {
			fail(i, c.before-float64(p.TopP), "outside the top-p nucleus (mass ranked before it %.4g > %.4g)", c.before, p.TopP)
		}
		r := slices.Index(c.ids, s.ID)
		var a float64
		if r > 0 {
			a = float64(c.acc[r-1])
		}
		lo, hi := a/float64(c.total), float64(c.acc[r])/float64(c.total)
		if u < lo || u > hi {
			fail(i, max(lo-u, u-hi), "draw %.6f outside its interval [%.6f, %.6f) by more than %.3g", u, lo, hi, tol)
		}
	}
	for i := range v.Tokens {
		v.Tokens[i].logits = nil
	}
	v.Accept = v.FirstReject < 0
	return v, nil
}
