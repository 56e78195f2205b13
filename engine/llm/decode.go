package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/tensor"
)

// Decoding modes (Params.Decode): "greedy", "beam:N" with 1 <= N <= MaxBeams, "sample".
const (
	DecodeGreedy = "greedy"
	DecodeSample = "sample"
	MaxBeams     = 64
	// MaxTopN bounds Params.TopN.
	MaxTopN = 100
)

// ErrParams is wrapped by errors for decoding parameters this package does not accept.
var ErrParams = errors.New("llm: bad decoding parameters")

// Params are the decoding parameters of one generation.
type Params struct {
	Decode      string  // "greedy", "beam:N" or "sample"
	MaxTokens   int     // tokens to generate (fewer when an end-of-generation token comes first)
	Temperature float32 // sample: logits are divided by it; <= 0 means greedy
	TopK        int     // sample: keep the TopK most likely tokens; 0 = all
	TopP        float32 // sample: keep the smallest prefix of mass >= TopP; 0 or >= 1 = all
	Seed        uint64  // sample: seeds the Rand whose draws pick the tokens
	// TopN is the number of alternatives to report per position with their log-probs (0: none,
	// which skips the log-sum-exp over the vocabulary for greedy and sample decoding).
	TopN int
	// IgnoreEOG keeps generating after an end-of-generation token (llama.cpp's ignore_eos).
	IgnoreEOG bool
	// OnStep, if set, is called by greedy and sample decoding after each generated token (i
	// counts from 0) before the next is computed; returning false ends the generation after
	// that token (a server's stop strings and streaming). Beam search, whose tokens are known
	// only at the end, does not call it. It does not change any token that is generated.
	OnStep func(i int, s Step) bool
}

// beams returns the beam width of a "beam:N" mode, or 0.
func (p *Params) beams() (int, error) {
	s, ok := strings.CutPrefix(p.Decode, "beam:")
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxBeams {
		return 0, fmt.Errorf("%w: decode %q, want beam:N with 1 <= N <= %d", ErrParams, p.Decode, MaxBeams)
	}
	return n, nil
}

// Validate checks the parameters.
func (p *Params) Validate() error {
	if _, err := p.beams(); err != nil {
		return err
	}
	switch {
	case p.Decode != DecodeGreedy && p.Decode != DecodeSample && !strings.HasPrefix(p.Decode, "beam:"):
		return fmt.Errorf("%w: decode %q, want greedy, beam:N or sample", ErrParams, p.Decode)
	case p.MaxTokens <= 0:
		return fmt.Errorf("%w: max tokens %d, want > 0", ErrParams, p.MaxTokens)
	case p.TopK < 0 || p.TopN < 0 || p.TopN > MaxTopN:
		return fmt.Errorf("%w: top-k %d, top-n %d", ErrParams, p.TopK, p.TopN)
	case math.IsNaN(float64(p.Temperature)) || math.IsNaN(float64(p.TopP)) || p.TopP < 0 ||
		math.IsInf(float64(p.Temperature), 0):
		return fmt.Errorf("%w: temperature %v, top-p %v", ErrParams, p.Temperature, p.TopP)
	}
	return nil
}

// TokenProb is a token and its log-probability.
type TokenProb struct {
	ID      int32
	LogProb float32
}

// Step describes one generated position.
type Step struct {
	ID int32 // the chosen token
	// LogProb is log softmax(logits)[ID] over the whole vocabulary (raw logits: no temperature),
	// NaN when log-probs were not computed (Params.TopN 0 with greedy or sample decoding).
	LogProb float32
	// Margin is the largest logit minus the second largest (equal to the top-1 minus top-2
	// log-prob up to rounding): how far the position is from an argmax flip.
	Margin float32
	// Top are the TopN most likely tokens, by logit descending (ties: lower id first).
	Top []TokenProb
	// Slack (sampling only, 0 otherwise) is the distance of the draw from the nearer edge of
	// the chosen token's cumulative-mass interval, as a share of the sampled mass: how far the
	// position is from picking a neighbour.
	Slack float32
}

// Result is a generation.
type Result struct {
	Prompt []int32
	Tokens []int32 // generated ids, prompt excluded
	Steps  []Step  // one per generated token
	Text   string  // the generated tokens' pieces, control tokens as nothing (llama-server's content)
	// Score is the sum of the generated tokens' log-probs, NaN when they were not computed.
	Score float64
}

// dist analyses one row of logits: the top n tokens, the two largest logits and, when asked,
// the log-sum-exp. Log-probs are (l - max) - log(sum exp(l - max)), the sum reduced under the
// profile (tensor's LogSoftmax; llama-server's get_token_probabilities in float32).
type dist struct {
	logits []float32
	top    []int32 // by logit descending, ties lower id first
	max    float32
	lse    float32 // log(sum exp(l - max)); NaN when not computed
	nan    bool    // some logit is NaN
}

func analyze(p *tensor.Profile, logits []float32, n int, withLSE bool, buf []float32) dist {
	d := dist{logits: logits, lse: float32(math.NaN())}
	d.top, d.nan = topIDsNaN(logits, max(n, 2))
	d.max = logits[d.top[0]]
	if withLSE {
		e := buf[:len(logits)]
		for i, l := range logits {
			e[i] = expf(l - d.max)
		}
		d.lse = tensor.Log(p.Sum(e))
	}
	return d
}

func (d *dist) logProb(id int32) float32 { return (d.logits[id] - d.max) - d.lse }

func (d *dist) margin() float32 {
	if len(d.top) < 2 {
		return float32(math.Inf(1))
	}
	return d.logits[d.top[0]] - d.logits[d.top[1]]
}

func (d *dist) step(id int32, n int) Step {
	s := Step{ID: id, LogProb: d.logProb(id), Margin: d.margin()}
	if n > 0 {
		s.Top = make([]TokenProb, min(n, len(d.top)))
		for i := range s.Top {
			s.Top[i] = TokenProb{d.top[i], d.logProb(d.top[i])}
		}
	}
	return s
}

// better reports whether token a ranks before token b: larger logit, ties lower id. NaN
// logits rank last.
func better(l []float32, a, b int32) bool {
	la, lb := l[a], l[b]
	if la != la {
		return false
	}
	if lb != lb {
		return true
	}
	return la > lb || (la == lb && a < b)
}

// topIDs returns the n highest-ranked ids (see better), best first.
func topIDs(l []float32, n int) []int32 {
	top, _ := topIDsNaN(l, n)
	return top
}

// topIDsNaN is topIDs, also reporting whether some value of l is NaN.
func topIDsNaN(l []float32, n int) ([]int32, bool) {
	n = min(n, len(l))
	nan := false
	top := make([]int32, 0, n+1)
	thr := float32(math.Inf(-1)) // logit of top[n-1] once the list is full
	for i := 0; i < len(l); i++ {
		if len(top) == n {
			// Skip the values below the threshold 32 at a time with the vector kernel;
			// the rest of the loop treats what it stops at as before.
			if i = skipBelow(l, i, thr); i == len(l) {
				break
			}
		}
		if len(top) == n && i+8 <= len(l) {
			// Skip eight values at once when all are below the threshold (a NaN is not, and
			// goes on one by one).
			c := (*[8]float32)(l[i : i+8])
			if c[0] < thr && c[1] < thr && c[2] < thr && c[3] < thr &&
				c[4] < thr && c[5] < thr && c[6] < thr && c[7] < thr {
				i += 7
				continue
			}
		}
		v := l[i]
		if len(top) == n && v < thr {
			continue // the common case: below the n-th best (NaN goes on to better)
		}
		if v != v {
			nan = true
		}
		id := int32(i)
		if len(top) == n && !better(l, id, top[n-1]) {
			continue
		}
		j := len(top)
		if j == n {
			j--
		} else {
			top = append(top, 0)
		}
		for j > 0 && better(l, id, top[j-1]) {
			top[j] = top[j-1]
			j--
		}
		top[j] = id
		if len(top) == n {
			thr = l[top[n-1]]
			if thr != thr {
				thr = float32(math.Inf(-1))
			}
		}
	}
	return top, nan
}

// Generate decodes up to p.MaxTokens tokens after prompt under profile prof. It checks ctx
// between tokens. The prompt must be non-empty (add BOS with Tokenize).
func (m *Model) Generate(ctx context.Context, prompt []int32, p Params, prof tensor.Profile) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("%w: empty prompt", ErrParams)
	}
	if need := len(prompt) + p.MaxTokens; need > m.Config.Context {
		return nil, fmt.Errorf("%w: %d prompt + %d new tokens exceed the context of %d", ErrContext, len(prompt), p.MaxTokens, m.Config.Context)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nb, _ := p.beams()
	var res *Result
	var err error
	switch {
	case nb > 0:
		res, err = m.beam(ctx, prompt, p, prof, nb)
	case p.Decode == DecodeSample && p.Temperature > 0:
		res, err = m.sample(ctx, prompt, p, prof)
	default:
		res, err = m.greedy(ctx, prompt, p, prof)
	}
	if err != nil {
		return nil, err
	}
	res.Prompt = slices.Clone(prompt)
	res.Text, err = m.Tok.Pieces(res.Tokens, false)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return res, nil
}

func (m *Model) stop(p *Params, id int32) bool { return !p.IgnoreEOG && m.Tok.IsEOG(id) }

func (m *Model) greedy(ctx context.Context, prompt []int32, p Params, prof tensor.Profile) (*Result, error) {
	st := m.NewState(prof)
	buf := make([]float32, m.Config.Vocab)
	res := &Result{Score: 0}
	logits, err := st.Eval(prompt, 1)
	for err == nil {
		d := analyze(&st.prof, logits, p.TopN, p.TopN > 0, buf)
		id := d.top[0]
		s := d.step(id, p.TopN)
		res.Steps = append(res.Steps, s)
		res.Tokens = append(res.Tokens, id)
		res.Score += float64(s.LogProb)
		if (p.OnStep != nil && !p.OnStep(len(res.Tokens)-1, s)) || len(res.Tokens) == p.MaxTokens || m.stop(&p, id) {
			return res, nil
		}
		if err = ctx.Err(); err != nil {
			break
		}
		logits, err = st.Eval([]int32{id}, 1)
	}
	return nil, err
}

// Rand is the documented pseudo-random generator of sampling: SplitMix64 (Steele, Lea and
// Flood, 2014) seeded with the task's seed. Each sampled token takes one draw,
// Float64 = (Uint64() >> 11) * 2^-53, uniform in [0, 1).
type Rand struct{ s uint64 }

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) *Rand { return &Rand{seed} }

// Uint64 returns the next value: state += 0x9e3779b97f4a7c15, then the SplitMix64 finaliser.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// candidates is the sampling distribution of one position: the kept tokens in increasing id
// order, their unnormalised weights accumulated sequentially in float32 in that order
// (acc[i] = w[0] + ... + w[i]), and total = acc[last].
type candidates struct {
	ids   []int32
	acc   []float32
	total float32
	// before is, for the token asked to be included, the share of the top-k mass ranked
	// before it (by logit), or -1 when it is not among the top k.
	before float64
}

// samplingDist builds the sampling distribution of one position. Logits are divided by the
// temperature (float32); the TopK best by rank are kept (0 = all; rank = logit descending,
// ties to the lower id); weights are w = expf(l/T - l_max/T); with 0 < TopP < 1 only the
// smallest rank prefix whose cumulative weight (sequential float32, rank order) reaches TopP
// times the top-k weight is kept. The kept tokens are then laid out in increasing id order, so
// that each token's interval of [0, total) moves only by the drift of the weights of the
// tokens before it: a near-tie between two tokens that swaps their ranks under another
// profile does not swap their intervals (with a rank-ordered layout it moved both by a whole
// token's mass, which made honest samples unverifiable across profiles). include >= 0 asks to
// keep that token too when it is among the top k (the verifier's view of a claimed token at the
// nucleus boundary).
func samplingDist(logits []float32, p *Params, include int32) candidates {
	n := len(logits)
	k := n
	if p.TopK > 0 {
		k = min(p.TopK, n)
	}
	t := p.Temperature
	topP := p.TopP > 0 && p.TopP < 1
	c := candidates{before: -1}
	var kept []int32
	if k == n && !topP {
		kept = make([]int32, n)
		for i := range kept {
			kept[i] = int32(i)
		}
		if include >= 0 && int(include) < n {
			c.before = 0 // not needed without top-p
		}
	} else {
		var ranked []int32
		if k < n {
			ranked = topIDs(logits, k)
		} else {
			ranked = make([]int32, n)
			for i := range ranked {
				ranked[i] = int32(i)
			}
			slices.SortFunc(ranked, func(a, b int32) int {
				if better(logits, a, b) {
					return -1
				}
				if better(logits, b, a) {
					return 1
				}
				return 0
			})
		}
		cut := len(ranked)
		if topP {
			mx := logits[ranked[0]] / t
			acc := make([]float32, len(ranked))
			var s float32
			for i, id := range ranked {
				if id == include {
					c.before = float64(s)
				}
				s += expf(logits[id]/t - mx)
				acc[i] = s
			}
			if c.before >= 0 {
				c.before /= float64(s)
			}
			lim := float32(float64(p.TopP) * float64(s))
			for i, a := range acc {
				if a >= lim {
					cut = i + 1
					break
				}
			}
		} else if include >= 0 && slices.Contains(ranked, include) {
			c.before = 0
		}
		kept = slices.Clone(ranked[:cut])
		if c.before >= 0 && !slices.Contains(kept, include) {
			kept = append(kept, include)
		}
		slices.Sort(kept)
	}
	mx := float32(math.Inf(-1))
	for _, id := range kept {
		if logits[id] > mx {
			mx = logits[id]
		}
	}
	mx /= t
	c.ids = kept
	c.acc = make([]float32, len(kept))
	var s float32
	for i, id := range kept {
		s += expf(logits[id]/t - mx)
		c.acc[i] = s
	}
	c.total = s
	return c
}

// pick returns the index of the candidate the uniform draw u selects: the first i with
// u*total < acc[i] (the last one if rounding leaves none).
func (c *candidates) pick(u float64) int {
	target := float32(u * float64(c.total))
	for i, a := range c.acc {
		if target < a {
			return i
		}
	}
	return len(c.acc) - 1
}

// slack returns the distance of the draw u from the nearer edge of candidate k's interval,
// as a share of the total mass.
func (c *candidates) slack(k int, u float64) float32 {
	var a float64
	if k > 0 {
		a = float64(c.acc[k-1])
	}
	t := u * float64(c.total)
	return float32(max(0, min(t-a, float64(c.acc[k])-t)) / float64(c.total))
}

func (m *Model) sample(ctx context.Context, prompt []int32, p Params, prof tensor.Profile) (*Result, error) {
	st := m.NewState(prof)
	buf := make([]float32, m.Config.Vocab)
	rng := NewRand(p.Seed)
	res := &Result{}
	logits, err := st.Eval(prompt, 1)
	for err == nil {
		c := samplingDist(logits, &p, -1)
		u := rng.Float64()
		k := c.pick(u)
		id := c.ids[k]
		d := analyze(&st.prof, logits, p.TopN, p.TopN > 0, buf)
		s := d.step(id, p.TopN)
		s.Slack = c.slack(k, u)
		res.Steps = append(res.Steps, s)
		res.Tokens = append(res.Tokens, id)
		res.Score += float64(s.LogProb)
		if (p.OnStep != nil && !p.OnStep(len(res.Tokens)-1, s)) || len(res.Tokens) == p.MaxTokens || m.stop(&p, id) {
			return res, nil
		}
		if err = ctx.Err(); err != nil {
			break
		}
		logits, err = st.Eval([]int32{id}, 1)
	}
	return nil, err
}

// hyp is one beam-search hypothesis.
type hyp struct {
	st     *State
	tokens []int32
	steps  []Step
	score  float64 // sum of the tokens' log-probs (float64 sum of float32 log-probs, in order)
	done   bool
	logits []float32
}

// beam runs beam search with width nb. Every alive hypothesis proposes its nb best next
// tokens (by log-prob); of all proposals the nb with the largest score (sum of log-probs, no
// length normalisation) survive, ties broken by the parent's rank, then the token id. A
// proposal ending in an end-of-generation token becomes a finished hypothesis and does not
// take a beam slot. Search ends after MaxTokens tokens, or when no alive hypothesis can beat
// the best finished one (scores only decrease); the result is the best hypothesis, finished
// or alive, by score (ties: finished before alive, then rank).
func (m *Model) beam(ctx context.Context, prompt []int32, p Params, prof tensor.Profile, nb int) (*Result, error) {
	return m.beamTrace(ctx, prompt, p, prof, nb, nil)
}

// beamCand is one proposal of a beam-search step, as beamTrace reports it.
type beamCand struct {
	tokens []int32 // the hypothesis: the parent's tokens and the proposed one
	score  float64
	parent int  // rank of the parent among the step's alive hypotheses
	kept   bool // survived the pruning (alive, or finished)
	done   bool // an end-of-generation token: finished
}

// beamTrace is beam; trace, when not nil, is called after the pruning of each step with every
// proposal of the step, best first, and a function giving the n best tokens of the step's
// alive hypothesis of rank parent with their log-probs, as the search computes them (the
// cross-profile study locates beam disagreements with it).
func (m *Model) beamTrace(ctx context.Context, prompt []int32, p Params, prof tensor.Profile, nb int,
	trace func(step int, cands []beamCand, top func(parent, n int) []TokenProb)) (*Result, error) {
	st := m.NewState(prof)
	logits, err := st.Eval(prompt, 1)
	if err != nil {
		return nil, err
	}
	buf := make([]float32, m.Config.Vocab)
	alive := []*hyp{{st: st, logits: logits}}
	var finished []*hyp
	for step := 0; step < p.MaxTokens && len(alive) > 0; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		type cand struct {
			parent int
			s      Step
			score  float64
		}
		var cands []cand
		for hi, h := range alive {
			d := analyze(&st.prof, h.logits, max(nb, p.TopN), true, buf)
			for _, id := range d.top[:min(nb, len(d.top))] {
				s := d.step(id, p.TopN)
				cands = append(cands, cand{hi, s, h.score + float64(s.LogProb)})
			}
		}
		slices.SortStableFunc(cands, func(a, b cand) int {
			switch {
			case a.score > b.score:
				return -1
			case a.score < b.score:
				return 1
			}
			return 0 // stable: parent rank, then token order within a parent (logit order, id ties)
		})
		var next []*hyp
		used := make([]bool, len(alive))
		kept := 0
		for _, c := range cands {
			if len(next) >= nb {
				break
			}
			kept++
			par := alive[c.parent]
			h := &hyp{
				tokens: append(slices.Clone(par.tokens), c.s.ID),
				steps:  append(slices.Clone(par.steps), c.s),
				score:  c.score,
			}
			if m.stop(&p, c.s.ID) {
				h.done = true
				finished = append(finished, h)
				continue
			}
			if !used[c.parent] {
				h.st = par.st
				used[c.parent] = true
			} else {
				h.st = par.st.Clone()
			}
			next = append(next, h)
		}
		if trace != nil {
			tc := make([]beamCand, len(cands))
			for i, c := range cands {
				par := alive[c.parent]
				tc[i] = beamCand{tokens: append(slices.Clone(par.tokens), c.s.ID), score: c.score, parent: c.parent,
					kept: i < kept, done: m.stop(&p, c.s.ID)}
			}
			trace(step, tc, func(parent, n int) []TokenProb {
				d := analyze(&st.prof, alive[parent].logits, n, true, buf)
				return d.step(d.top[0], n).Top
			})
		}
		// States shared with a parent must be cloned before any Eval: a parent's state was
		// given to its first child only, the others got clones, so each state has one owner.
		if step+1 < p.MaxTokens {
			for _, h := range next {
				h.logits, err = h.st.Eval([]int32{h.tokens[len(h.tokens)-1]}, 1)
				if err != nil {
					return nil, err
				}
			}
		}
		alive = next
		if len(finished) > 0 && len(alive) > 0 {
			bestDone := finished[0].score
			for _, f := range finished {
				bestDone = math.Max(bestDone, f.score)
			}
			if alive[0].score < bestDone {
				break
			}
		}
	}
	best := (*hyp)(nil)
	for _, h := range append(finished, alive...) {
		if best == nil || h.score > best.score {
			best = h
		}
	}
	return &Result{Tokens: best.tokens, Steps: best.steps, Score: best.score}, nil
}
