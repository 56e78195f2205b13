package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// TestCalibrateLoRAFull calibrates segment tolerances for LoRA and full fine-tunes of the tiny
// model per verifier profile (2 x the largest honest segment distance of two runs, task seeds 3
// and 7, trainer on exact), then checks them on a held-out honest run (another task seed): every segment must
// pass on every profile. It reports how far the cheats (another lr: x1.2 and x2; noise of 1e-3
// on the weights after step 5) land, per profile, against those tolerances. Slow (about 400
// training steps): set GENQUORUM_CALIBRATE=1.
func TestCalibrateLoRAFull(t *testing.T) {
	if os.Getenv("GENQUORUM_CALIBRATE") == "" {
		t.Skip("set GENQUORUM_CALIBRATE=1 (trains and re-executes LoRA and full runs on five profiles)")
	}
	ctx := context.Background()
	base, data := tinyBase(t), Synthetic(12, 1)
	ps := profiles(t, "cpu-avx2", "ampere-tf32", "ampere-fp16", "hopper-bf16", "turing-fp16acc")
	for _, method := range []string{MethodLoRA, MethodFull} {
		spec := tinySpec(base, data, method)
		spec.Steps, spec.Every = 8, 4
		spec.LR = 1e-3
		tol := make([]float64, len(ps))
		for _, seed := range []uint64{3, 7} { // two honest calibration runs
			cal := spec
			cal.Seed = seed
			drift, err := SegmentDrift(ctx, mustTrain(t, cal, base, data, Options{}), data, ps)
			if err != nil {
				t.Fatal(err)
			}
			for i := range ps {
				for _, d := range drift[i] {
					tol[i] = math.Max(tol[i], toleranceFactor*d)
				}
			}
		}
		held := spec
		held.Seed = 11
		cheat := spec
		var lines []string
		// want: "pass" (every profile accepts every segment), "reject" (every profile rejects
		// some segment), "" (reported only).
		check := func(name string, s *Spec, opt Options, want string) {
			series := mustTrain(t, *s, base, data, opt)
			cs := series.Commitments()
			line := fmt.Sprintf("%-5s %-14s", method, name)
			for i, p := range ps {
				worst := 0.0
				pass := true
				for k := range s.Segments() {
					r, err := VerifySegment(ctx, *s, data, cs, k, series.Checkpoints[k].State, Options{Profile: p}, tol[i])
					if err != nil && !errors.Is(err, ErrRejected) {
						t.Fatal(err)
					}
					pass = pass && err == nil
					worst = math.Max(worst, r.Distance)
				}
				line += fmt.Sprintf(" %s %.3g/%.3g %s", p.Name, worst, tol[i], map[bool]string{true: "pass", false: "REJECT"}[pass])
				if (want == "pass" && !pass) || (want == "reject" && pass) {
					t.Errorf("%s %s on %s: distance %.3g, tolerance %.3g: want %s", method, name, p.Name, worst, tol[i], want)
				}
			}
			lines = append(lines, line)
		}
		// Measured: a full fine-tune's cheats are rejected on every profile; a LoRA's lr x1.2 and
		// noise pass on the half-precision profiles (ampere-fp16, turing-fp16acc), whose honest
		// drift is as large.
		subtle := "reject"
		if method == MethodLoRA {
			subtle = ""
		}
		check("honest seed 11", &held, Options{}, "pass")
		check("lr x1.2", &cheat, Options{Cheat: Cheat{Kind: OtherLR, LR: 1.2 * spec.LR}}, subtle)
		check("lr x2", &cheat, Options{Cheat: Cheat{Kind: OtherLR, LR: 2 * spec.LR}}, "reject")
		check("noise 1e-3", &cheat, Options{Cheat: Cheat{Kind: NoiseWeights, From: 5, Noise: 1e-3, Seed: 1}}, subtle)
		t.Log("\n" + strings.Join(lines, "\n"))
	}
}
