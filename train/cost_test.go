package train

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
)

// costSetup returns an engine serving the built-in base as train-base and the 12-image
// synthetic dataset (the network tests' task), and a TI task of 12 steps in S segments on
// the declared profile.
func costSetup(b testing.TB, S int) (*Engine, engine.Task) {
	b.Helper()
	nm, err := models.Diffusion("base")
	if err != nil {
		b.Fatal(err)
	}
	nm.Name = "train-base"
	data := Synthetic(12, 1)
	e, err := NewEngine([]diffusion.Named{nm}, data)
	if err != nil {
		b.Fatal(err)
	}
	e.Tolerance = 0.0082
	task := engine.Task{Kind: engine.KindTrain, Model: engine.ModelRef{Name: nm.Name, Digest: nm.Digest}, Seed: 1,
		Profile: "exact", Prompt: "<concept>",
		Train: &engine.TrainParams{Method: "textual-inversion", Steps: 12, Checkpoint: 12 / S, Dataset: data.Digest()}}
	return e, task
}

// BenchmarkSegmentCost compares a whole training (12 steps, Engine.TrainSeries) with each
// segment's re-execution as a verifier does it (Engine.VerifySegment, from the state of
// checkpoint k, on the trainer's own profile), for S = 2, 3, 4 segments of 12/S steps. Each
// op trains once, then checks every segment. The machine is shared, so besides wall time it
// reports process CPU time: train-cpu-s and seg-cpu-s (the mean segment) per op;
// mean-seg/train, the mean segment's CPU time over the training's in the same op, to compare
// with 1/S; and max-seg/train, the dearest segment's over the training's.
func BenchmarkSegmentCost(b *testing.B) {
	ctx := context.Background()
	for _, S := range []int{2, 3, 4} {
		e, task := costSetup(b, S)
		b.Run(fmt.Sprintf("S=%d", S), func(b *testing.B) {
			var train, seg, ratio, worst float64
			cpuOK := false
			for b.Loop() {
				c0, _, ok := processCPU()
				series, states, err := e.TrainSeries(ctx, task, "")
				if err != nil {
					b.Fatal(err)
				}
				c1, _, _ := processCPU()
				tr := (c1 - c0).Seconds()
				train += tr
				for k := range S {
					c0, _, _ := processCPU()
					ok, reason, err := e.VerifySegment(ctx, task, "exact", series, k, states[k])
					if err != nil || !ok {
						b.Fatal(ok, reason, err)
					}
					c1, _, _ := processCPU()
					seg += (c1 - c0).Seconds() / float64(S)
					ratio += (c1 - c0).Seconds() / tr / float64(S)
					worst = max(worst, (c1-c0).Seconds()/tr)
				}
				cpuOK = ok
			}
			if !cpuOK {
				return // no CPU times here: wall time only
			}
			b.ReportMetric(train/float64(b.N), "train-cpu-s/op")
			b.ReportMetric(seg/float64(b.N), "seg-cpu-s/op")
			b.ReportMetric(ratio/float64(b.N), "mean-seg/train")
			b.ReportMetric(worst, "max-seg/train")
		})
	}
}

// BenchmarkSegmentParts times the parts of a segment check other than its K steps (S = 3,
// checkpoint 1, built-in base, TI): building the spec's initial state and its digest (segment
// 0 only), the SHA-256 of the fetched state, resuming from it, the fingerprint, and one step.
func BenchmarkSegmentParts(b *testing.B) {
	ctx := context.Background()
	e, task := costSetup(b, 3)
	spec, base, data, err := e.segmentSetup(task)
	if err != nil {
		b.Fatal(err)
	}
	s, err := Train(ctx, spec, base, data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	state := s.Checkpoints[1].State
	b.Run("init-digest", func(b *testing.B) {
		for b.Loop() {
			if _, err := InitDigest(spec, base, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sha256", func(b *testing.B) {
		for b.Loop() {
			sha256.Sum256(state)
		}
	})
	b.Run("resume", func(b *testing.B) {
		for b.Loop() {
			if _, err := ResumeRun(spec, state, data, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	r, err := ResumeRun(spec, state, data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fingerprint", func(b *testing.B) {
		for b.Loop() {
			fingerprint(&r.Spec, r.tr)
		}
	})
	b.Run("step", func(b *testing.B) {
		for b.Loop() {
			r.Step()
		}
	})
}
