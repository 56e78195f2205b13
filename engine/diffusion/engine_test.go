package diffusion

import (
	"bytes"
	"errors"
	"image/png"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
)

func tinyEngine(t testing.TB) (*Engine, engine.ModelRef) {
	t.Helper()
	nm, err := NamedModel("base", tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(nm)
	if err != nil {
		t.Fatal(err)
	}
	return e, engine.ModelRef{Name: "base", Digest: nm.Digest}
}

func imageTask(ref engine.ModelRef, prompt string, seed uint64, sampler, profile string) engine.Task {
	return engine.Task{Kind: engine.KindImage, Model: ref, Prompt: prompt, Seed: seed, Profile: profile,
		Image: &engine.ImageParams{Sampler: sampler, Steps: 4, CFGScale: 3}}
}

func TestEngineConformance(t *testing.T) {
	base, err := NamedModel("base", tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	lm := base.Model.clone()
	if err := lm.AddLoRA(2, 2, lm.AttentionLayers(), 1); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/lora.gguf"
	if err := lm.SaveAdapter(path, base.Digest); err != nil {
		t.Fatal(err)
	}
	lora, err := LoadAdapter(base, "lora", path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(base, lora)
	if err != nil {
		t.Fatal(err)
	}
	ref := engine.ModelRef{Name: "base", Digest: base.Digest}
	enginetest.Run(t, e,
		imageTask(ref, "A photo of a bag", 42, "ddim", ""),
		imageTask(ref, "A photo of an ankle boot", 1, "euler", "ampere-fp16"),
		imageTask(ref, "A photo of a dress", 2, "euler_a", "cpu-avx2"),
		imageTask(engine.ModelRef{Name: "lora", Digest: lora.Digest}, "A photo of a bag", 42, "ddim", ""),
	)
}

func TestEngineOutput(t *testing.T) {
	e, ref := tinyEngine(t)
	run := func(task engine.Task) []byte {
		a, err := e.Run(t.Context(), task)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return a.Data
	}
	base := run(imageTask(ref, "A photo of a bag", 42, "ddim", "exact"))
	img, err := png.Decode(bytes.NewReader(base))
	if err != nil {
		t.Fatalf("artifact is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
		t.Errorf("image is %v, want 32x32", b)
	}
	for _, tc := range []struct {
		name string
		task engine.Task
	}{
		{"other seed", imageTask(ref, "A photo of a bag", 43, "ddim", "exact")},
		{"other prompt", imageTask(ref, "A photo of a coat", 42, "ddim", "exact")},
		{"other sampler", imageTask(ref, "A photo of a bag", 42, "euler_a", "exact")},
		{"other profile", imageTask(ref, "A photo of a bag", 42, "ddim", "hopper-bf16")},
	} {
		if bytes.Equal(run(tc.task), base) {
			t.Errorf("%s: same PNG as the base task", tc.name)
		}
	}
}

func TestEngineBadInput(t *testing.T) {
	e, ref := tinyEngine(t)
	for _, tc := range []struct {
		name string
		mod  func(task *engine.Task)
		want error
	}{
		{"unknown model", func(k *engine.Task) { k.Model = engine.ModelRef{Name: "nope"} }, engine.ErrUnsupported},
		{"other digest", func(k *engine.Task) { k.Model.Digest[0] ^= 1 }, engine.ErrUnsupported},
		{"text task", func(k *engine.Task) { k.Kind = engine.KindText }, engine.ErrUnsupported},
		{"unknown profile", func(k *engine.Task) { k.Profile = "tpu-v9" }, engine.ErrUnsupported},
		{"empty prompt", func(k *engine.Task) { k.Prompt = "  " }, engine.ErrInvalidTask},
		{"zero steps", func(k *engine.Task) { k.Image.Steps = 0 }, engine.ErrInvalidTask},
		{"too many steps", func(k *engine.Task) { k.Image.Steps = 1001 }, ErrParams},
		{"huge size", func(k *engine.Task) { k.Image.Width, k.Image.Height = 100000, 100000 }, ErrParams},
		{"odd size", func(k *engine.Task) { k.Image.Width = 33 }, ErrParams},
		{"unknown sampler", func(k *engine.Task) { k.Image.Sampler = "plms" }, ErrParams},
		{"negative guidance", func(k *engine.Task) { k.Image.CFGScale = -1 }, ErrParams},
	} {
		task := imageTask(ref, "A photo of a bag", 1, "ddim", "")
		tc.mod(&task)
		if _, err := e.Run(t.Context(), task); !errors.Is(err, tc.want) {
			t.Errorf("%s: Run = %v, want an error wrapping %v", tc.name, err, tc.want)
		}
	}
}
