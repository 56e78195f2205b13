package train

import (
	"context"
	"errors"
	"testing"
)

// TestProtocolInProcess runs the training task's protocol with its pieces, in one process and
// without a ledger (the network integration is not built): the trainer commits the series root,
// then reveals the commitments; the root is checked; randomness standing for the ledger's picks
// each verifier's segments; three verifiers on other profiles re-execute them and vote; a
// majority of rejections condemns the trainer, and the disputed segment is bisected to the step
// the trainer corrupted.
func TestProtocolInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two tiny runs and re-executes segments on three profiles")
	}
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.Steps, spec.Every = 12, 4
	honest := mustTrain(t, spec, base, data, Options{})
	tol := calibrate(t, honest, data)
	ctx := context.Background()
	verifiers := profiles(t, "cpu-avx512", "ampere-fp16", "hopper-bf16")
	for _, tc := range []struct {
		name    string
		cheat   Cheat
		reject  bool
		corrupt int // the step a bisection must end at
	}{
		{"honest", Cheat{}, false, 0},
		{"noise after step 7", Cheat{Kind: NoiseWeights, From: 6, Noise: 0.01, Seed: 3, Every: 4}, true, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			series := honest
			if tc.cheat.Kind != None {
				series = mustTrain(t, spec, base, data, Options{Cheat: tc.cheat})
			}
			root := SeriesRoot(&spec, series.Commitments()) // committed before anything is revealed
			revealed := series.Commitments()
			if SeriesRoot(&spec, revealed) != root {
				t.Fatal("revealed commitments do not open the root")
			}
			if err := CheckSeries(&spec, revealed, len(revealed[0].Fingerprint)); err != nil {
				t.Fatal(err)
			}
			if err := CheckInit(spec, base, data, revealed[0]); err != nil {
				t.Fatal(err)
			}
			randomness := root[:]                 // stands for the block randomness after the reveal
			rejects, failed := 0, spec.Segments() // the earliest failed segment
			for v, p := range verifiers {
				segs, err := PickSegments(randomness, v, spec.Segments(), spec.Segments()) // c = S: every segment
				if err != nil {
					t.Fatal(err)
				}
				ok := true
				for _, k := range segs {
					_, err := VerifySegment(ctx, spec, data, revealed, k, series.Checkpoints[k].State, Options{Profile: p}, tol)
					if errors.Is(err, ErrRejected) {
						ok, failed = false, min(failed, k)
					} else if err != nil {
						t.Fatal(err)
					}
				}
				if !ok {
					rejects++
				}
			}
			if got := rejects >= 2; got != tc.reject {
				t.Fatalf("%d of 3 verifiers rejected", rejects)
			}
			if !tc.reject {
				return
			}
			// Dispute: the challenger replays the failed segment under the declared profile.
			start := series.Checkpoints[failed].State
			tr := NewReplayer(spec, data, start, Options{Cheat: tc.cheat})
			ch := NewReplayer(spec, data, start, Options{})
			lo, hi := revealed[failed].Step, revealed[failed+1].Step
			if d, _ := tr.StateDigest(ctx, hi); d != revealed[failed+1].Digest {
				t.Fatal("the trainer's replay does not reproduce its committed checkpoint")
			}
			d, err := Bisect(ctx, spec, data, tr, ch, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			if d.Step != tc.corrupt || !d.TrainerLied || d.ChallengerLied {
				t.Errorf("dispute %+v, want step %d, trainer lied", *d, tc.corrupt)
			}
		})
	}
}
