package llm

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
)

func TestEngineContract(t *testing.T) {
	for _, name := range []string{"tiny-llama-a-f32", "tiny-llama-b-gqa-f16", "tiny-llama-a-q8_0"} {
		t.Run(name, func(t *testing.T) {
			e, err := Open(filepath.Join(refDir, "models", name+".gguf"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			ref := e.Models()[0]
			if ref.Name != name {
				t.Errorf("model name %q, want %q", ref.Name, name)
			}
			task := func(prompt, decode, profile string, seed uint64) engine.Task {
				return engine.Task{Kind: engine.KindText, Model: ref, Prompt: prompt, Seed: seed, Profile: profile,
					Text: &engine.TextParams{Decode: decode, MaxTokens: 12, Temperature: 0.8, TopK: 40, TopP: 0.95}}
			}
			enginetest.Run(t, e,
				task("Once upon a time", "greedy", "", 0),
				task("The capital of France is", "beam:3", "cpu-avx2", 0),
				task("Hello", "sample", "ampere-fp16", 7),
			)
		})
	}
}

func TestEngineErrors(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-f32.gguf")
	e := New(m)
	ref := engine.ModelRef{Name: m.Name, Digest: m.Digest}
	base := engine.Task{Kind: engine.KindText, Model: ref, Prompt: "hi", Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}}
	tests := []struct {
		name   string
		modify func(*engine.Task)
		want   error
	}{
		{"other digest", func(t *engine.Task) { t.Model.Digest[0] ^= 1 }, engine.ErrUnsupported},
		{"image task", func(t *engine.Task) { t.Kind = engine.KindImage }, engine.ErrUnsupported},
		{"unknown profile", func(t *engine.Task) { t.Profile = "tpu-v9" }, engine.ErrUnsupported},
		{"context overflow", func(t *engine.Task) { t.Text.MaxTokens = 2000 }, ErrContext},
		{"bad decode", func(t *engine.Task) { t.Text.Decode = "beam:0" }, ErrParams},
		{"bad token", func(t *engine.Task) { t.Text.PromptIDs = []int32{1, 99999} }, ErrToken},
	}
	for _, tt := range tests {
		task := base
		tp := *base.Text
		task.Text = &tp
		tt.modify(&task)
		if _, err := e.Run(t.Context(), task); !errors.Is(err, tt.want) {
			t.Errorf("%s: Run = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// countdownCtx reports cancellation after its Err method has been called n times, so that a
// test can cancel in the middle of a generation deterministically.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

func TestRunCancelledMidway(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-f32.gguf")
	e := New(m)
	for _, dec := range []string{"greedy", "beam:3", "sample"} {
		task := engine.Task{Kind: engine.KindText, Model: e.Models()[0], Prompt: "Once upon a time", Seed: 1,
			Text: &engine.TextParams{Decode: dec, MaxTokens: 50, Temperature: 1}}
		ctx := &countdownCtx{Context: t.Context(), n: 5}
		if _, err := e.Run(ctx, task); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Run cancelled after a few tokens = %v, want context.Canceled", dec, err)
		}
	}
}
