package diffusion_test

import (
	"context"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/tensor"
)

func mustProfile(t *testing.T, name string) tensor.Profile {
	t.Helper()
	p, err := tensor.ProfileByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTrajectoryMatchesSample: recording the trajectory does not change the image, and a
// segment re-run on the same profile gives the committed state bit for bit (every sampler,
// so the ancestral sampler's noise stream is resumed at the right draw).
func TestTrajectoryMatchesSample(t *testing.T) {
	nm, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	m := nm.Model
	ctx := context.Background()
	for _, s := range diffusion.Samplers {
		p := diffusion.SampleParams{Prompt: "A photo of a bag", Sampler: s, Steps: 8, Seed: 3}
		img, err := m.Sample(ctx, p, tensor.Exact)
		if err != nil {
			t.Fatal(err)
		}
		img2, tr, err := m.SampleTrajectory(ctx, p, tensor.Exact, diffusion.CheckpointSteps(8, 4))
		if err != nil {
			t.Fatal(err)
		}
		if string(img.Pix) != string(img2.Pix) {
			t.Fatalf("%s: trajectory image differs from Sample's", s)
		}
		if err := m.VerifyEnds(p, tr.States[0], tr.States[len(tr.States)-1], img); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for k := 0; k+1 < len(tr.At); k++ {
			c, err := m.VerifySegment(ctx, p, tensor.Exact, tr.At[k], tr.At[k+1], tr.States[k], tr.States[k+1], 0)
			if err != nil {
				t.Fatal(err)
			}
			if !c.OK || c.RMS != 0 {
				t.Fatalf("%s: segment %d on the same profile: %+v", s, k, c)
			}
		}
	}
}

// TestTrajectoryHonestAndCheaters: an honest trajectory made on each of the six profiles passes
// every segment re-run on exact within DefaultSegmentTol; a run with fewer steps (10 instead of
// 20, its states committed at the same quarter points), with another sampler, another guidance
// scale, or the fine-tuned model instead of base fails every segment.
func TestTrajectoryHonestAndCheaters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 6 honest and 4 cheating trajectories of the base model")
	}
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	ft, err := models.Diffusion("finetuned")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	task := diffusion.SampleParams{Prompt: "A photo of a coat", Steps: 20, Seed: 5}
	at := diffusion.CheckpointSteps(20, 4)
	verify := func(name string, tr *diffusion.Trajectory) (fails int, worst float64) {
		for k := 0; k+1 < len(at); k++ {
			c, err := base.Model.VerifySegment(ctx, task, tensor.Exact, at[k], at[k+1], tr.States[k], tr.States[k+1], diffusion.DefaultSegmentTol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s segment [%d,%d): RMS %.5f max %.4f", name, at[k], at[k+1], c.RMS, c.MaxAbs)
			if !c.OK {
				fails++
			}
			worst = max(worst, c.RMS)
		}
		return
	}
	for _, prof := range []string{"exact", "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16"} {
		_, tr, err := base.Model.SampleTrajectory(ctx, task, mustProfile(t, prof), at)
		if err != nil {
			t.Fatal(err)
		}
		if fails, worst := verify("honest/"+prof, tr); fails != 0 {
			t.Errorf("honest %s: %d segments fail (worst RMS %.4f)", prof, fails, worst)
		}
	}
	fewer := task
	fewer.Steps = 10
	sampler := task
	sampler.Sampler = diffusion.SamplerEuler
	guidance := task
	guidance.CFGScale = 1.5
	for _, c := range []struct {
		name string
		m    *diffusion.Model
		p    diffusion.SampleParams
		at   []int
	}{
		{"fewer-steps", base.Model, fewer, diffusion.CheckpointSteps(10, 4)},
		{"euler", base.Model, sampler, at},
		{"guidance-1.5", base.Model, guidance, at},
		{"finetuned", ft.Model, task, at},
	} {
		_, tr, err := c.m.SampleTrajectory(ctx, c.p, tensor.Exact, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if fails, _ := verify(c.name, tr); fails != len(at)-1 {
			t.Errorf("%s: %d of %d segments fail, want all", c.name, fails, len(at)-1)
		}
	}
}
