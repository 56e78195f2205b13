package llm

import (
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// TestJudgeTokens: an honest greedy output is JudgeValid under another profile; replacing its
// last token by one whose logit trails the verifier's argmax by a gap inside the band gives
// JudgeUnsure, by a gap beyond the band JudgeInvalid; a claim of the wrong length is invalid.
func TestJudgeTokens(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-f32.gguf")
	e := New(m)
	ref := engine.ModelRef{Name: m.Name, Digest: m.Digest}
	task := engine.Task{Kind: engine.KindText, Model: ref, Prompt: "Once upon a time", Profile: "exact",
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}
	art, err := e.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	claim := art.Tokens
	verifier := task
	verifier.Profile = "hopper-bf16"
	judge := func(c []int32) int {
		t.Helper()
		j, err := e.JudgeTokens(t.Context(), verifier, c)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	if got := judge(claim); got != JudgeValid {
		t.Fatalf("honest claim judged %d, want valid", got)
	}
	if got := judge(claim[:len(claim)-1]); got != JudgeInvalid {
		t.Errorf("truncated claim judged %d, want invalid", got)
	}
	// The verifier's logits at the last position, to pick substitutes by their gap.
	prof, err := tensor.ProfileByName(verifier.Profile)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := m.score(t.Context(), e.Prompt(verifier), claim, prof, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	row := sc[len(sc)-1].logits
	best := row[0]
	for _, x := range row {
		best = max(best, x)
	}
	pick := func(lo, hi float32) int32 { // a token whose gap to the argmax is in (lo, hi)
		for id, x := range row {
			if g := best - x; g > lo && g < hi && !m.Tok.IsEOG(int32(id)) {
				return int32(id)
			}
		}
		t.Fatalf("no token with a gap in (%g, %g)", lo, hi)
		return 0
	}
	sub := func(id int32) []int32 {
		c := append([]int32(nil), claim...)
		c[len(c)-1] = id
		return c
	}
	const margin = 0.02 // keep clear of the edges: the judging pass repeats these logits exactly
	if got := judge(sub(pick(DefaultGreedyTol+margin, DefaultGreedyTol+DefaultGreedyBand-margin))); got != JudgeUnsure {
		t.Errorf("substitute inside the band judged %d, want unsure", got)
	}
	if got := judge(sub(pick(DefaultGreedyTol+DefaultGreedyBand+margin, 1e9))); got != JudgeInvalid {
		t.Errorf("substitute beyond the band judged %d, want invalid", got)
	}
}
