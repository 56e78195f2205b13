package demo

import (
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/ledger"
)

// TextWorkloads returns one text workload per model: the TextPrompts decoded with tp,
// fingerprinted by their token ids (fingerprint.TokenScheme), with score-based verdicts when
// scoreCheck is set. The workloads share tp.
func TextWorkloads(models []engine.ModelRef, tp *engine.TextParams, scoreCheck bool) []Workload {
	var ws []Workload
	for _, m := range models {
		ws = append(ws, Workload{Kind: engine.KindText, Model: m, Scheme: fingerprint.TokenScheme,
			ScoreCheck: scoreCheck, Prompts: TextPrompts, Text: tp})
	}
	return ws
}

// ImageWorkload returns the image workload on model m: the ten class prompts
// (diffusion.ClassPrompts), DDIM with 20 steps at guidance 3, fingerprinted by aHash/8 at
// tolerance 2, unless policies holds a verification policy for image tasks on m, whose scheme
// and tolerance it takes instead (Workload.UsePolicy). found reports whether one did.
func ImageWorkload(m engine.ModelRef, policies []ledger.Policy) (w Workload, found bool, err error) {
	w = Workload{Kind: engine.KindImage, Model: m, Scheme: fingerprint.ImageScheme(imghash.AverageHash, 8), Tolerance: 2,
		Prompts: diffusion.ClassPrompts[:], Image: &engine.ImageParams{Sampler: "ddim", Steps: 20, CFGScale: 3}}
	for _, p := range policies {
		if p.Model.Name == m.Name && p.Model.Digest == m.Digest && p.Kind == string(engine.KindImage) {
			return w, true, w.UsePolicy(p)
		}
	}
	return w, false, nil
}
