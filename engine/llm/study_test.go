package llm

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// studySampling is the sampling configuration of the cross-profile study: llama.cpp's
// defaults (temperature 0.8, top-k 40, top-p 0.95).
func studySampling(seed uint64, n int) Params {
	return Params{Decode: DecodeSample, MaxTokens: n, Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: seed}
}

type studyRun struct {
	res *Result
}

// pairStats are the agreement figures of one pair of profiles and one decoding mode.
type pairStats struct {
	runs, agree   int
	maxDivMargin  float64 // largest margin (or sampling slack) at a first divergence
	maxDrift      float64 // largest |margin_A - margin_B| (or slack drift) at agreeing positions
	divAboveDrift int     // divergences whose margin exceeds the pair's drift bound
	divMargins    []float64
	explained     int // divergences whose margin (slack) is below the drift measured there
	checkedDiv    int // divergences where that drift could be measured
	beam          beamStats
}

// beamStats are the figures of beamDecision over the beam disagreements of one pair of
// profiles (or a total).
type beamStats struct {
	n         int            // disagreements
	kinds     map[string]int // where the profiles' searches first parted (see beamDecision)
	explained int            // disagreements whose decisive score gap is at most the drift there
	bounded   int            // disagreements whose gap is at most twice the shared-hypothesis drift bound
	maxGap    float64        // largest decisive gap
	maxDrift  float64        // largest drift of the two hypotheses' scores at a disagreement
	posMargin []float64      // per-position margin at the first differing token (the old measure)
}

func (b *beamStats) add(o beamStats) {
	b.n += o.n
	b.explained += o.explained
	b.bounded += o.bounded
	b.maxGap = max(b.maxGap, o.maxGap)
	b.maxDrift = max(b.maxDrift, o.maxDrift)
	b.posMargin = append(b.posMargin, o.posMargin...)
	for k, v := range o.kinds {
		if b.kinds == nil {
			b.kinds = map[string]int{}
		}
		b.kinds[k] += v
	}
}

// TestStudyProfiles is the cross-profile experiment of the paper's Table 2 on the three
// reference models: every preset profile decodes the reference prompts greedily (60 tokens),
// with beam search (N = 5 and 10, 30 tokens) and by seeded sampling (two seeds, 30 tokens),
// and each pair of profiles is compared: share of outputs that agree fully, and for each
// disagreement the margin (top-1 minus top-2 logit; for samples the draw's slack) at the first
// differing position, against the drift the pair causes at the positions where both still
// agree. Beam disagreements are also located in traces of both searches and measured in
// whole-hypothesis scores (beamDecision). It also measures the verifiers' false reject rate
// (honest outputs of every profile verified under every profile) and false accept rate
// (tampered outputs). It takes minutes (about four for 3 prompts), so it runs only with
// LLM_STUDY=1 (LLM_STUDY_PROMPTS=n sets the number of prompts, default 10;
// LLM_STUDY_MODELS, a list of file names, restricts it to those models).
func TestStudyProfiles(t *testing.T) {
	if os.Getenv("LLM_STUDY") == "" {
		t.Skip("set LLM_STUDY=1 to run the cross-profile study")
	}
	nPrompts := 10
	if v := os.Getenv("LLM_STUDY_PROMPTS"); v != "" {
		fmt.Sscan(v, &nPrompts)
	}
	profiles := tensor.Profiles()
	var prompts [][]int32
	seen := map[string]bool{}
	for _, r := range readRecords(t, "greedy.jsonl") {
		if !seen[r.PromptID] && len(prompts) < nPrompts {
			seen[r.PromptID] = true
			prompts = append(prompts, r.PromptIDs)
		}
	}
	modes := []struct {
		name string
		p    Params
	}{
		{"greedy-60", Params{Decode: DecodeGreedy, MaxTokens: 60, TopN: 5}},
		{"beam:5-30", Params{Decode: "beam:5", MaxTokens: 30, TopN: 5}},
		{"beam:10-30", Params{Decode: "beam:10", MaxTokens: 30, TopN: 5}},
		{"sample-s1-30", studySampling(1, 30)},
		{"sample-s2-30", studySampling(2, 30)},
	}
	var report strings.Builder
	for _, name := range benchModels {
		if only := os.Getenv("LLM_STUDY_MODELS"); only != "" && !strings.Contains(only, name) {
			continue
		}
		m := loadModel(t, name)
		// outs[mode][profile][prompt]
		outs := make([][][]*Result, len(modes))
		// traces[mode][profile][prompt]: each step of the beam searches
		traces := make([][][][]beamStep, len(modes))
		for mi, mode := range modes {
			outs[mi] = make([][]*Result, len(profiles))
			traces[mi] = make([][][]beamStep, len(profiles))
			nb, _ := mode.p.beams()
			for pi, prof := range profiles {
				for _, pr := range prompts {
					var res *Result
					var err error
					var tr []beamStep
					if nb > 0 {
						// beam search with its trace (Generate runs the same search untraced)
						res, err = m.beamTrace(t.Context(), pr, mode.p, prof, nb, func(_ int, c []beamCand, top func(int, int) []TokenProb) {
							tr = append(tr, newBeamStep(c, top, 4*nb))
						})
					} else {
						res, err = m.Generate(t.Context(), pr, mode.p, prof)
					}
					if err != nil {
						t.Fatal(err)
					}
					outs[mi][pi] = append(outs[mi][pi], res)
					traces[mi][pi] = append(traces[mi][pi], tr)
				}
			}
		}
		fmt.Fprintf(&report, "\n## %s (%d prompts)\n\nshare of outputs identical between two profiles (greedy-60 / beam:5 / beam:10 / sample):\n\n", name, len(prompts))
		fmt.Fprintf(&report, "| profile A | profile B | greedy-60 | beam:5 | beam:10 | sample | max margin at a greedy divergence | greedy drift bound | max slack at a sample divergence | sample drift bound | beam:5 / beam:10 divergences with score gap <= drift | ... with gap <= 2x shared drift | max beam score gap | max beam score drift |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		totals := make([]pairStats, len(modes))
		for a := range profiles {
			for b := a + 1; b < len(profiles); b++ {
				var cells []string
				var st [5]pairStats
				for mi := range modes {
					s := &st[mi]
					for k := range prompts {
						comparePair(t, m, prompts[k], modes[mi].p, profiles[a], profiles[b], outs[mi][a][k], outs[mi][b][k], s)
						if nb, _ := modes[mi].p.beams(); nb > 0 && !slices.Equal(outs[mi][a][k].Tokens, outs[mi][b][k].Tokens) {
							s.beam.add(beamDecision(t, m, prompts[k], nb, profiles[a], profiles[b],
								traces[mi][a][k], traces[mi][b][k], outs[mi][a][k], outs[mi][b][k]))
						}
					}
					for _, dm := range s.divMargins {
						if dm > s.maxDrift {
							s.divAboveDrift++
						}
					}
					totals[mi].runs += s.runs
					totals[mi].agree += s.agree
					totals[mi].divAboveDrift += s.divAboveDrift
					totals[mi].explained += s.explained
					totals[mi].checkedDiv += s.checkedDiv
					totals[mi].maxDivMargin = max(totals[mi].maxDivMargin, s.maxDivMargin)
					totals[mi].maxDrift = max(totals[mi].maxDrift, s.maxDrift)
					totals[mi].beam.add(s.beam)
				}
				samp := pairStats{runs: st[3].runs + st[4].runs, agree: st[3].agree + st[4].agree,
					maxDivMargin: max(st[3].maxDivMargin, st[4].maxDivMargin), maxDrift: max(st[3].maxDrift, st[4].maxDrift)}
				for _, s := range []pairStats{st[0], st[1], st[2], samp} {
					cells = append(cells, fmt.Sprintf("%d/%d", s.agree, s.runs))
				}
				var bs beamStats
				bs.add(st[1].beam)
				bs.add(st[2].beam)
				fmt.Fprintf(&report, "| %s | %s | %s | %.3g | %.3g | %.3g | %.3g | %d/%d, %d/%d | %d/%d, %d/%d | %.3g | %.3g |\n", profiles[a].Name, profiles[b].Name,
					strings.Join(cells, " | "), st[0].maxDivMargin, st[0].maxDrift, samp.maxDivMargin, samp.maxDrift,
					st[1].beam.explained, st[1].beam.n, st[2].beam.explained, st[2].beam.n,
					st[1].beam.bounded, st[1].beam.n, st[2].beam.bounded, st[2].beam.n, bs.maxGap, bs.maxDrift)
			}
		}
		for mi, mode := range modes {
			s := totals[mi]
			fmt.Fprintf(&report, "\n%s: %d/%d pairs of outputs identical (%.1f %%); %d divergences, largest margin at one %.4g; every divergence's margin below the drift the two profiles cause at that position: %d/%d; largest drift at agreeing positions %.4g; divergences with a margin above that: %d",
				mode.name, s.agree, s.runs, 100*float64(s.agree)/float64(s.runs), s.runs-s.agree, s.maxDivMargin, s.explained, s.checkedDiv, s.maxDrift, s.divAboveDrift)
			if b := s.beam; b.n > 0 {
				kinds := make([]string, 0, len(b.kinds))
				for _, k := range []string{"pruning", "proposal", "final", "stop"} {
					if b.kinds[k] > 0 {
						kinds = append(kinds, fmt.Sprintf("%d at %s", b.kinds[k], k))
					}
				}
				slices.Sort(b.posMargin)
				fmt.Fprintf(&report, "; whole-hypothesis scores: the searches first parted %s; decisive score gap at most the drift of the two hypotheses' scores: %d/%d, at most twice the score drift on the hypotheses both kept: %d/%d (largest gap %.4g, largest drift %.4g; per-position margin at the first differing token: median %.3g, largest %.3g)",
					strings.Join(kinds, ", "), b.explained, b.n, b.bounded, b.n, b.maxGap, b.maxDrift, b.posMargin[len(b.posMargin)/2], b.posMargin[len(b.posMargin)-1])
			}
		}
		report.WriteString("\n")
		verifierRates(t, m, profiles, prompts, outs[0], [][][]*Result{outs[3], outs[4]}, []Params{modes[3].p, modes[4].p}, &report)
	}
	t.Log(report.String())
	if path := os.Getenv("LLM_STUDY_OUT"); path != "" {
		os.WriteFile(path, []byte(report.String()), 0o644)
	}
}

// comparePair compares the outputs of profiles pa and pb on one prompt. The per-position
// quantity is the margin (top-1 minus top-2 logit) for greedy and beam outputs and the draw's
// slack (distance in mass from the nearer edge of the chosen interval) for samples. Where the
// outputs first differ (same prefix before it, so both profiles evaluated the same context),
// the drift the two profiles cause is measured directly: for greedy/beam the change of the
// log-prob gap between the two chosen tokens, (lpA[x]-lpA[y]) - (lpB[x]-lpB[y]); for samples
// the largest move of an edge of A's token's interval (each profile with its own nucleus),
// from teacher-forced passes under both profiles. A greedy divergence must have margin <= that
// drift (otherwise the disagreement is not explained by the profiles' numerics: a bug).
func comparePair(t *testing.T, m *Model, prompt []int32, p Params, pa, pb tensor.Profile, a, b *Result, s *pairStats) {
	sample := p.Decode == DecodeSample
	s.runs++
	q := func(st Step) float64 {
		if sample {
			return float64(st.Slack)
		}
		return float64(st.Margin)
	}
	n := min(len(a.Tokens), len(b.Tokens))
	div := -1
	for i := range n {
		if a.Tokens[i] != b.Tokens[i] {
			div = i
			break
		}
	}
	if div < 0 && len(a.Tokens) == len(b.Tokens) {
		s.agree++
	}
	end := n
	if div >= 0 {
		end = div
	}
	for i := range end {
		s.maxDrift = max(s.maxDrift, math.Abs(q(a.Steps[i])-q(b.Steps[i])))
	}
	if div < 0 {
		return
	}
	mg := q(a.Steps[div])
	s.maxDivMargin = max(s.maxDivMargin, mg)
	s.divMargins = append(s.divMargins, mg)
	x, y := a.Tokens[div], b.Tokens[div]
	drift := math.Inf(1)
	if sample {
		drift = sampleDrift(t, m, prompt, a.Tokens[:div+1], p, pa, pb)
	} else {
		lp := func(top []TokenProb, id int32) (float64, bool) {
			for _, tp := range top {
				if tp.ID == id {
					return float64(tp.LogProb), true
				}
			}
			return 0, false
		}
		ay, ok1 := lp(a.Steps[div].Top, y)
		bx, ok2 := lp(b.Steps[div].Top, x)
		if ok1 && ok2 {
			drift = (float64(a.Steps[div].LogProb) - ay) - (bx - float64(b.Steps[div].LogProb))
		}
	}
	if math.IsInf(drift, 1) {
		return
	}
	s.checkedDiv++
	if mg <= drift {
		s.explained++
	} else if p.Decode == DecodeGreedy {
		t.Errorf("%s/%s: greedy divergence at %d with margin %.4g above the drift %.4g measured there", pa.Name, pb.Name, div, mg, drift)
	}
}

// beamStep is one step of a traced beam search: its proposals (best first) and, for each
// alive hypothesis it extended, its tokens, score and the log-probs of its best tokens.
type beamStep struct {
	cands   []beamCand
	parents []beamParent
}

type beamParent struct {
	tokens []int32
	score  float64
	top    []TokenProb
}

// newBeamStep records a step of beamTrace, with the n best tokens of each parent.
func newBeamStep(cands []beamCand, top func(parent, n int) []TokenProb, n int) beamStep {
	st := beamStep{cands: cands}
	for _, c := range cands {
		for len(st.parents) <= c.parent {
			st.parents = append(st.parents, beamParent{score: math.NaN()})
		}
		p := &st.parents[c.parent]
		if p.top == nil {
			p.tokens = c.tokens[:len(c.tokens)-1]
			p.top = top(c.parent, n)
			for _, tp := range p.top {
				if tp.ID == c.tokens[len(c.tokens)-1] {
					p.score = c.score - float64(tp.LogProb) // the parent's running sum
				}
			}
		}
	}
	return st
}

// beamDecision locates where the beam searches of profiles pa and pb on one prompt first
// parted, from their traces (every proposal of every step, best first, and which survived),
// and measures the decision there in whole-hypothesis scores (float64 sums of the tokens'
// log-probs, as the search ranks them):
//
//   - at the first step whose surviving set differs, take a hypothesis y that B kept and A did
//     not, the lowest-ranked of them in B (if every hypothesis B kept survived in A too, swap
//     the roles). If A proposed y, A pruned it: kind "pruning", and w is the lowest-ranked
//     hypothesis A kept that B did not (the one that took y's slot). If A did not propose y,
//     y's token was not among the N best of its parent under A: kind "proposal", and w is the
//     lowest-ranked proposal of that parent under A that B did not propose (the token that
//     took y's place).
//   - if every step kept the same hypotheses, the final choice between the two outputs x (A's)
//     and y (B's) differs: kind "final", w = x.
//   - if one search stopped earlier (its best alive hypothesis fell below its best finished
//     one): kind "stop", w and y the best finished and best alive hypothesis of that profile.
//
// The decisive gap is S_A(w) - S_A(y) >= 0, A's preference for w; the drift is
// |S_A(w) - S_B(w)| + |S_A(y) - S_B(y)|, how far the two profiles move the two scores. The
// disagreement is explained when gap <= drift: the profiles' numerics alone can reverse that
// preference. When B ranked both by score (kind "pruning" with w also among B's proposals,
// "final") this holds by construction (B's own preference for y adds to the gap); what it
// shows is that the decision was a near-tie of whole-hypothesis scores, not of per-position
// margins. The independent check compares the gap with twice the largest score drift on the
// hypotheses both searches kept up to that step (a preference moves by at most the sum of
// two such drifts). Scores are the searches' own: a proposal's from the trace, a hypothesis
// the search did not propose from its parent's score and the token's log-prob among the
// parent's 4N best (recorded by the trace); only a token outside those would need a
// teacher-forced pass (Score, logged), whose bits differ from the search's under ampere-fp16
// and turing-fp16acc.
func beamDecision(t *testing.T, m *Model, prompt []int32, nb int, pa, pb tensor.Profile, trA, trB []beamStep, resA, resB *Result) beamStats {
	key := func(toks []int32) string { return fmt.Sprint(toks) }
	score := func(tr []beamStep, prof tensor.Profile, toks []int32) float64 {
		if n := len(toks); n > 0 && n <= len(tr) {
			for _, c := range tr[n-1].cands {
				if slices.Equal(c.tokens, toks) {
					return c.score
				}
			}
			// Not proposed: its parent's score plus the token's log-prob as the search saw it.
			for _, p := range tr[n-1].parents {
				if slices.Equal(p.tokens, toks[:n-1]) && !math.IsNaN(p.score) {
					for _, tp := range p.top {
						if tp.ID == toks[n-1] {
							return p.score + float64(tp.LogProb)
						}
					}
				}
			}
		}
		t.Logf("%s: score of %v from a teacher-forced pass", prof.Name, toks)
		sc, err := m.Score(t.Context(), prompt, toks, prof, 0)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, x := range sc {
			s += float64(x.LogProb)
		}
		return s
	}
	kept := func(c []beamCand) map[string]bool {
		k := map[string]bool{}
		for _, x := range c {
			if x.kept {
				k[key(x.tokens)] = true
			}
		}
		return k
	}
	// The per-position margin at the first differing token (what comparePair measures).
	div := 0
	for div < min(len(resA.Tokens), len(resB.Tokens)) && resA.Tokens[div] == resB.Tokens[div] {
		div++
	}
	var posMargin float64
	if div < len(resA.Steps) {
		posMargin = float64(resA.Steps[div].Margin)
	}
	kind, w, y := "", []int32(nil), []int32(nil)
	// bound: the largest |S_A(h) - S_B(h)| over the hypotheses both searches kept, up to the
	// step where they parted (all steps for "final" and "stop"): the drift the two profiles
	// cause on hypothesis scores where they agree, measured on other hypotheses than w and y.
	bound := 0.0
	shared := func(s int) {
		sa := map[string]float64{}
		for _, c := range trA[s].cands {
			if c.kept {
				sa[key(c.tokens)] = c.score
			}
		}
		for _, c := range trB[s].cands {
			if v, ok := sa[key(c.tokens)]; ok && c.kept {
				bound = max(bound, math.Abs(v-c.score))
			}
		}
	}
	// A and B as the roles above: A the profile whose decision excluded y.
	A, B, trX, trY := pa, pb, trA, trB
	for s := 0; s < min(len(trA), len(trB)) && kind == ""; s++ {
		shared(s)
		ka, kb := kept(trA[s].cands), kept(trB[s].cands)
		lowestNotIn := func(c []beamCand, other map[string]bool) []int32 {
			var low []int32
			for _, x := range c {
				if x.kept && !other[key(x.tokens)] {
					low = x.tokens
				}
			}
			return low
		}
		yb, xa := lowestNotIn(trB[s].cands, ka), lowestNotIn(trA[s].cands, kb)
		if yb == nil && xa == nil {
			continue
		}
		if yb == nil { // B kept nothing A did not: swap the roles
			A, B, trX, trY = pb, pa, trB, trA
			yb, kb = xa, ka
		}
		y = yb
		var proposed bool
		for _, c := range trX[s].cands {
			proposed = proposed || slices.Equal(c.tokens, y)
		}
		if proposed {
			// w: the lowest-ranked hypothesis A kept that B did not, else (A kept a subset
			// of B's: B also kept a finished one) A's lowest-ranked kept hypothesis.
			kind = "pruning"
			var last []int32
			for _, c := range trX[s].cands {
				if c.kept {
					last = c.tokens
					if !kb[key(c.tokens)] {
						w = c.tokens
					}
				}
			}
			if w == nil {
				w = last
			}
		} else {
			// w: the lowest-ranked proposal of y's parent under A that B did not propose (the
			// token that took y's place among the parent's N best), else the lowest-ranked one.
			kind = "proposal"
			parent := y[:len(y)-1]
			byB := map[string]bool{}
			for _, c := range trY[s].cands {
				byB[key(c.tokens)] = true
			}
			var last []int32
			for _, c := range trX[s].cands {
				if slices.Equal(c.tokens[:len(c.tokens)-1], parent) {
					last = c.tokens
					if !byB[key(c.tokens)] {
						w = c.tokens
					}
				}
			}
			if w == nil {
				w = last
			}
		}
	}
	if kind == "" {
		switch {
		case len(trA) != len(trB):
			kind = "stop"
			if len(trB) < len(trA) {
				A, B, trX, trY = pb, pa, trB, trA
			}
			// Of the stopping profile's hypotheses: the best finished and the best alive.
			bestDone, bestAlive := math.Inf(-1), math.Inf(-1)
			for _, step := range trX {
				for _, c := range step.cands {
					if c.kept && c.done && c.score > bestDone {
						bestDone, w = c.score, c.tokens
					}
				}
			}
			for _, c := range trX[len(trX)-1].cands {
				if c.kept && !c.done && c.score > bestAlive {
					bestAlive, y = c.score, c.tokens
				}
			}
		default:
			kind, w, y = "final", resA.Tokens, resB.Tokens
		}
	}
	b := beamStats{n: 1, kinds: map[string]int{kind: 1}, posMargin: []float64{posMargin}}
	if w == nil || y == nil {
		t.Errorf("%s/%s: beam disagreement of kind %s without the two hypotheses", pa.Name, pb.Name, kind)
		return b
	}
	sw, sy := score(trX, A, w), score(trX, A, y)
	gap := sw - sy
	drift := math.Abs(sw-score(trY, B, w)) + math.Abs(sy-score(trY, B, y))
	b.maxGap, b.maxDrift = gap, drift
	if gap <= drift {
		b.explained = 1
	} else {
		t.Logf("%s/%s %s: gap %.4g above drift %.4g (w %v: %.6f/%.6f, y %v: %.6f/%.6f)", A.Name, B.Name, kind, gap, drift,
			w, sw, score(trY, B, w), y, sy, score(trY, B, y))
	}
	if gap <= 2*bound {
		b.bounded = 1
	}
	if gap < 0 {
		t.Logf("%s/%s %s: negative gap %.4g (w %v, y %v)", A.Name, B.Name, kind, gap, w, y)
	}
	return b
}

// sampleDrift returns how far the edges of the interval of the last token of seq moved between
// profiles pa and pb (each with its own top-k and nucleus), in shares of the sampled mass.
func sampleDrift(t *testing.T, m *Model, prompt, seq []int32, p Params, pa, pb tensor.Profile) float64 {
	edges := func(prof tensor.Profile) (float64, float64, bool) {
		sc, err := m.Score(t.Context(), prompt, seq, prof, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := samplingDist(sc[len(seq)-1].logits, &p, -1)
		r := slices.Index(c.ids, seq[len(seq)-1])
		if r < 0 {
			return 0, 0, false
		}
		var lo float64
		if r > 0 {
			lo = float64(c.acc[r-1])
		}
		return lo / float64(c.total), float64(c.acc[r]) / float64(c.total), true
	}
	a0, a1, ok := edges(pa)
	b0, b1, ok2 := edges(pb)
	if !ok || !ok2 {
		return 1 // the token left the other profile's nucleus: every edge moved past it
	}
	return max(math.Abs(a0-b0), math.Abs(a1-b1))
}

// verifierRates measures, for a grid of tolerances, the false reject rate on honest outputs
// (every profile's output checked under every other profile; under the same profile Need is 0
// by construction) and the false accept rate on tampered ones (one token of the verifier's
// own honest output replaced).
func verifierRates(t *testing.T, m *Model, profiles []tensor.Profile, prompts [][]int32, greedy [][]*Result, samples [][][]*Result, sp []Params, report *strings.Builder) {
	ctx := t.Context()
	needs := map[string][]float64{} // check -> Need of each trial
	rng := NewRand(12345)
	for vi, vp := range profiles {
		for pi := range profiles {
			for k, pr := range prompts {
				claim := greedy[pi][k].Tokens
				v, err := m.VerifyGreedy(ctx, pr, claim, vp, DefaultGreedyTol)
				if err != nil {
					t.Fatal(err)
				}
				kind := "greedy honest, other profile"
				if pi == vi {
					kind = "greedy honest, same profile"
				}
				needs[kind] = append(needs[kind], v.Need)
				for si := range samples {
					v, err := m.VerifySample(ctx, pr, samples[si][pi][k].Tokens, sp[si], vp, DefaultSampleTol)
					if err != nil {
						t.Fatal(err)
					}
					kind := "sample honest, other profile"
					if pi == vi {
						kind = "sample honest, same profile"
					}
					needs[kind] = append(needs[kind], v.Need)
				}
				if pi != vi {
					continue
				}
				pos := int(rng.Uint64() % uint64(len(claim)))
				sc, err := m.Score(ctx, pr, claim, vp, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, attack := range []string{"greedy tampered: runner-up token", "greedy tampered: random token"} {
					bad := slices.Clone(claim)
					if strings.HasSuffix(attack, "runner-up token") {
						bad[pos] = sc[pos].Top[1].ID
					} else {
						for bad[pos] == claim[pos] {
							bad[pos] = int32(rng.Uint64() % uint64(m.Config.Vocab))
						}
					}
					v, err := m.VerifyGreedy(ctx, pr, bad, vp, DefaultGreedyTol)
					if err != nil {
						t.Fatal(err)
					}
					needs[attack] = append(needs[attack], v.Need)
				}
				for si := range samples {
					honest := samples[si][pi][k].Tokens
					spos := int(rng.Uint64() % uint64(len(honest)))
					ssc, err := m.Score(ctx, pr, honest, vp, 0)
					if err != nil {
						t.Fatal(err)
					}
					c := samplingDist(ssc[spos].logits, &sp[si], -1)
					r := slices.Index(c.ids, honest[spos])
					for _, attack := range []string{"sample tampered: token of the adjacent interval", "sample tampered: other token of the nucleus", "sample tampered: wrong seed"} {
						bad := slices.Clone(honest)
						p := sp[si]
						switch attack {
						case "sample tampered: token of the adjacent interval":
							if r+1 < len(c.ids) {
								bad[spos] = c.ids[r+1]
							} else if r > 0 {
								bad[spos] = c.ids[r-1]
							} else {
								continue
							}
						case "sample tampered: other token of the nucleus":
							if len(c.ids) < 2 {
								continue
							}
							for bad[spos] == honest[spos] {
								bad[spos] = c.ids[rng.Uint64()%uint64(len(c.ids))]
							}
						case "sample tampered: wrong seed":
							p.Seed += 1000
						}
						v, err := m.VerifySample(ctx, pr, bad, p, vp, DefaultSampleTol)
						if err != nil {
							t.Fatal(err)
						}
						needs[attack] = append(needs[attack], v.Need)
					}
				}
			}
		}
	}
	greedyTols := []float64{0, 0.05, 0.1, 0.25, 0.5, 1}
	sampleTols := []float64{0, 0.005, 0.01, 0.02, 0.05, 0.1}
	keys := make([]string, 0, len(needs))
	for k := range needs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, kind := range []string{"greedy", "sample"} {
		tols := greedyTols
		if kind == "sample" {
			tols = sampleTols
		}
		fmt.Fprintf(report, "\n%s verifier: share of claims accepted at each tolerance (honest rows: 1 - false reject rate; tampered rows: false accept rate)\n\n| claims | n |", kind)
		for _, tol := range tols {
			fmt.Fprintf(report, " tol %g |", tol)
		}
		report.WriteString("\n|---|---|" + strings.Repeat("---|", len(tols)) + "\n")
		for _, k := range keys {
			if !strings.HasPrefix(k, kind) {
				continue
			}
			fmt.Fprintf(report, "| %s | %d |", k, len(needs[k]))
			for _, tol := range tols {
				acc := 0
				for _, n := range needs[k] {
					if n <= tol {
						acc++
					}
				}
				fmt.Fprintf(report, " %.1f %% |", 100*float64(acc)/float64(len(needs[k])))
			}
			report.WriteString("\n")
		}
	}
}
