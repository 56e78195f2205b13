package diffusion_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
)

// TestRunTrajectoryEngine: the engine's trajectory run gives Run's image bit for bit; the
// first state is TrajectoryInitialState, the image is TrajectoryImage of the last state; every
// segment of an honest run on hopper-bf16 passes CheckTrajectorySegment on exact; each cheat's
// first segment fails it (Euler's first state is not even the seed's noise); malformed served states fail without an error.
func TestRunTrajectoryEngine(t *testing.T) {
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	ft, err := models.Diffusion("finetuned")
	if err != nil {
		t.Fatal(err)
	}
	e, err := diffusion.New(base, ft)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	task := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "A photo of a coat",
		Seed: 5, Image: &engine.ImageParams{Steps: 20}, Profile: "hopper-bf16"}
	art, states, err := e.RunTrajectory(ctx, task, 4, "")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.Run(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(art.Data, ref.Data) || len(states) != 5 {
		t.Fatalf("trajectory image differs from Run's, or %d states", len(states))
	}
	verifier := task
	verifier.Profile = "exact"
	first, err := e.TrajectoryInitialState(verifier)
	if err != nil || !bytes.Equal(first, states[0]) {
		t.Fatalf("initial state differs from the first state (%v)", err)
	}
	img, err := e.TrajectoryImage(verifier, states[4])
	if err != nil || !bytes.Equal(img.Data, art.Data) {
		t.Fatalf("image of the last state differs from the artifact (%v)", err)
	}
	for k := range 4 {
		c, err := e.CheckTrajectorySegment(ctx, verifier, 4, k, states[k], states[k+1])
		if err != nil || !c.OK {
			t.Errorf("honest segment %d: %+v %v", k, c, err)
		}
	}
	for _, cheat := range []string{diffusion.CheatFewerSteps, diffusion.CheatSampler, diffusion.CheatGuidance, diffusion.CheatOtherModel} {
		_, cs, err := e.RunTrajectory(ctx, task, 4, cheat)
		if err != nil {
			t.Fatal(err)
		}
		// Euler starts from the noise scaled by the first sigma: the ends check catches it
		// already; the others start from the seed's noise and only the segments tell.
		if noise := sha256.Sum256(cs[0]) == sha256.Sum256(states[0]); noise == (cheat == diffusion.CheatSampler) {
			t.Errorf("%s: first state is the seed's noise: %t", cheat, noise)
		}
		c, err := e.CheckTrajectorySegment(ctx, verifier, 4, 0, cs[0], cs[1])
		if err != nil || c.OK {
			t.Errorf("%s: first segment passes: %+v %v", cheat, c, err)
		}
	}
	bad := bytes.Clone(states[1])
	copy(bad, []byte{0, 0, 0xc0, 0x7f}) // NaN
	for _, to := range [][]byte{bad, states[1][:8]} {
		c, err := e.CheckTrajectorySegment(ctx, verifier, 4, 0, states[0], to)
		if err != nil || c.OK || !math.IsNaN(c.RMS) {
			t.Errorf("malformed state: %+v %v", c, err)
		}
	}
}

// FuzzDecodeState: DecodeState, the parser of states served by peers, never panics, accepts
// exactly n finite values and round-trips through EncodeState.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0}, 2)
	f.Add([]byte{0, 0, 0xc0, 0x7f}, 1)
	f.Add([]byte{1, 2, 3}, 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		x, err := diffusion.DecodeState(b, n)
		if err != nil {
			return
		}
		if len(x) != n || !bytes.Equal(diffusion.EncodeState(x), b) {
			t.Fatalf("%d values from %d bytes do not round-trip", len(x), len(b))
		}
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("non-finite value accepted")
			}
		}
	})
}

// BenchmarkTrajectoryCost compares what a trajectory verifier runs with what the generator
// runs, for the base model, 20 DDIM steps in 4 segments, verifier and generator on exact:
// "generate" is RunTrajectory (the whole sampling, states recorded); "verify" is one drawn
// segment's CheckTrajectorySegment plus the ends (TrajectoryInitialState and TrajectoryImage of
// the last state; the node also fingerprints that image). Fetching the states over p2p is not
// included (the node logs it: fetch_ms). Besides wall time it reports the process's CPU time
// per operation (cpu-ns/op, unix), which other processes' load on the machine disturbs less.
func BenchmarkTrajectoryCost(b *testing.B) {
	base, err := models.Diffusion("base")
	if err != nil {
		b.Fatal(err)
	}
	e, err := diffusion.New(base)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	task := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "A photo of a coat",
		Seed: 5, Image: &engine.ImageParams{Steps: 20}, Profile: "exact"}
	_, states, err := e.RunTrajectory(ctx, task, 4, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("generate", func(b *testing.B) {
		cpu := processCPU()
		defer func() { b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
		for b.Loop() {
			if _, _, err := e.RunTrajectory(ctx, task, 4, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		cpu := processCPU()
		defer func() { b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
		k := 0
		for b.Loop() {
			if _, err := e.TrajectoryInitialState(task); err != nil {
				b.Fatal(err)
			}
			if _, err := e.TrajectoryImage(task, states[4]); err != nil {
				b.Fatal(err)
			}
			c, err := e.CheckTrajectorySegment(ctx, task, 4, k, states[k], states[k+1])
			if err != nil || !c.OK {
				b.Fatalf("segment %d: %+v %v", k, c, err)
			}
			k = (k + 1) % 4 // every segment in turn: they are 5 steps each
		}
	})
}
