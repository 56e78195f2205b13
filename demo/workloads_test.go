package demo

import (
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/node"
)

func TestTextWorkloads(t *testing.T) {
	refs := []engine.ModelRef{{Name: "a", Digest: engine.Digest{1}}, {Name: "b", Digest: engine.Digest{2}}}
	tp := &engine.TextParams{Decode: "greedy", MaxTokens: 4}
	ws := TextWorkloads(refs, tp, true)
	if len(ws) != 2 {
		t.Fatalf("TextWorkloads: %d workloads, want 2", len(ws))
	}
	for i, w := range ws {
		if w.Kind != engine.KindText || w.Model != refs[i] || w.Scheme != fingerprint.TokenScheme || !w.ScoreCheck ||
			w.Text != tp || len(w.Prompts) != len(TextPrompts) {
			t.Errorf("workload %d = %+v; want a text workload on %s with the demo prompts", i, w, refs[i].Name)
		}
	}
}

// TestImageWorkload: without a policy for the model, aHash/8 at tolerance 2; with the
// built-in base model's policy, its scheme and tolerance.
func TestImageWorkload(t *testing.T) {
	nm, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := models.DiffusionPolicy("base")
	if err != nil {
		t.Fatal(err)
	}
	p, err := node.ParsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := engine.ModelRef{Name: p.Model.Name, Digest: engine.Digest(p.Model.Digest)}
	other := engine.ModelRef{Name: "other", Digest: engine.Digest{9}}

	w, found, err := ImageWorkload(other, nil)
	if err != nil || found || w.Scheme != fingerprint.ImageScheme(imghash.AverageHash, 8) || w.Tolerance != 2 ||
		w.Kind != engine.KindImage || w.Image.Steps != 20 || len(w.Prompts) != 10 {
		t.Errorf("ImageWorkload without a policy = %+v, %v, %v; want aHash/8 at tolerance 2, 20 steps, 10 prompts", w, found, err)
	}
	if _, found, _ := ImageWorkload(other, []ledger.Policy{p}); found {
		t.Errorf("ImageWorkload found the policy of %s for model %s", p.Model.Name, other.Name)
	}
	var want Workload
	if err := want.UsePolicy(p); err != nil {
		t.Fatal(err)
	}
	w, found, err = ImageWorkload(m, []ledger.Policy{p})
	if err != nil || !found || w.Scheme != want.Scheme || w.Tolerance != want.Tolerance {
		t.Errorf("ImageWorkload with %s's policy = %s at %d, %v, %v; want %s at %d", nm.Name, w.Scheme, w.Tolerance, found, err,
			want.Scheme, want.Tolerance)
	}
	if w.Scheme == fingerprint.ImageScheme(imghash.AverageHash, 8) && w.Tolerance == 2 {
		t.Errorf("base's policy is the default aHash/8 at 2: the test cannot tell the policy was taken")
	}
}
