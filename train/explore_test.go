package train

import (
	"context"
	"os"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	base, data := tinyBase(t), Synthetic(12, 1)
	for _, method := range []string{MethodTI, MethodLoRA, MethodFull} {
		spec := tinySpec(base, data, method)
		spec.Steps, spec.Every = 12, 4
		s := mustTrain(t, spec, base, data, Options{})
		dr, err := SegmentDrift(context.Background(), s, data, tensor.Profiles()[1:])
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range tensor.Profiles()[1:] {
			t.Logf("%s %s %v", method, p.Name, dr[i])
		}
		for _, ch := range []Cheat{{Kind: SkipSteps, From: 4}, {Kind: OtherLR, LR: 0.012}, {Kind: OtherSeed, Seed: 4}, {Kind: NoiseWeights, From: 5, Noise: 1e-3, Seed: 1}} {
			cs := mustTrain(t, spec, base, data, Options{Cheat: ch})
			var ds []float64
			for k := range spec.Segments() {
				res, _ := VerifySegment(context.Background(), spec, data, cs.Commitments(), k, cs.Checkpoints[k].State, Options{}, 1e9)
				ds = append(ds, res.Distance)
			}
			t.Logf("%s cheat %s: %v", method, ch.Kind, ds)
		}
	}
}
