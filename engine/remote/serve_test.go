package remote

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
)

// The models genquorum serve runs in these tests (testdata/llamacpp/README.md,
// testdata/diffusion/README.md).
const (
	textModelPath  = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"
	imageModelPath = "../../testdata/diffusion/base-preliminary.gguf"
)

var (
	loadText  = sync.OnceValues(func() (*llm.Engine, error) { return llm.Open(textModelPath, llm.Options{}) })
	loadImage = sync.OnceValues(func() (*diffusion.Engine, error) { return diffusion.Open("base", imageModelPath) })
)

func must[T any](t testing.TB, load func() (T, error)) T {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// serveText starts genquorum serve's handler (package server, one slot) on the tiny text model.
func serveText(t *testing.T) (*llm.Engine, *httptest.Server) {
	t.Helper()
	eng := must(t, loadText)
	s, err := server.New(server.Config{LLMs: []*llm.Engine{eng}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return eng, ts
}

func serveImage(t *testing.T) (*diffusion.Engine, *httptest.Server) {
	t.Helper()
	eng := must(t, loadImage)
	s, err := server.New(server.Config{Image: eng})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return eng, ts
}

func openSpec(t *testing.T, spec string) *Engine {
	t.Helper()
	sp, err := ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(t.Context(), sp)
	if err != nil {
		t.Fatalf("Open(%s): %v", spec, err)
	}
	return e
}

func textTasks(m engine.ModelRef) []engine.Task {
	return []engine.Task{
		{Kind: engine.KindText, Model: m, Prompt: "Once upon a time", Seed: 3, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 6}},
		{Kind: engine.KindText, Model: m, Prompt: "The sky is", Seed: 11, Text: &engine.TextParams{Decode: "sample", MaxTokens: 6, Temperature: 0.9, TopK: 40, TopP: 0.95}},
		{Kind: engine.KindText, Model: m, Prompt: "ids", Seed: 5, Text: &engine.TextParams{PromptIDs: []int32{1, 512, 278, 6763}, Decode: "greedy", MaxTokens: 5}},
	}
}

// TestTextAdaptersAgainstServe runs the llamacpp and openai adapters against genquorum serve:
// each passes enginetest, and each returns the built-in engine's token ids and text for
// greedy, seeded sampled and id-prompt tasks (serve runs the same engine, so any difference
// is the adapter's).
func TestTextAdaptersAgainstServe(t *testing.T) {
	eng, ts := serveText(t)
	ref := eng.Models()[0]
	for _, kind := range []string{KindLlamaCpp, KindOpenAI} {
		t.Run(kind, func(t *testing.T) {
			spec := ref.Name + "=" + kind + ":" + ts.URL + "?digest=" + ref.Digest.String() + "&backoff=5ms&retries=10"
			if kind == KindOpenAI {
				spec += "&sampler=genquorum" // the llamacpp adapter reads it from /props's build_info
			}
			e := openSpec(t, spec)
			if e.Settings()["sampler"] != "genquorum" {
				t.Errorf("settings %v: want sampler=genquorum", e.Settings())
			}
			if !e.ExactTokens() {
				t.Errorf("%s: ExactTokens() = false, want true", kind)
			}
			tasks := textTasks(ref)
			enginetest.Run(t, e, tasks...)
			for _, task := range tasks {
				got, err := e.Run(t.Context(), task)
				if err != nil {
					t.Fatal(err)
				}
				want, err := eng.Run(t.Context(), task)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Tokens, want.Tokens) || !bytes.Equal(got.Data, want.Data) {
					t.Errorf("%s %q: tokens %v text %q, built-in engine %v %q", task.Text.Decode, task.Prompt, got.Tokens, got.Data, want.Tokens, want.Data)
				}
				if len(got.Margins) != len(want.Margins) {
					t.Errorf("%s %q: %d margins, built-in engine %d", task.Text.Decode, task.Prompt, len(got.Margins), len(want.Margins))
				}
				for i := range min(len(got.Margins), len(want.Margins)) {
					// serve reports log-probs in JSON (float64 of a float32); the margin of
					// two log-probs equals the logit margin to float32 rounding.
					if d := got.Margins[i] - want.Margins[i]; d > 1e-3 || d < -1e-3 {
						t.Errorf("%s %q: margin %d = %v, built-in engine %v", task.Text.Decode, task.Prompt, i, got.Margins[i], want.Margins[i])
					}
				}
			}
			probe, other := ProbeTasks(e)
			if _, err := SelfTest(t.Context(), e, probe, other); err != nil {
				t.Errorf("SelfTest: %v", err)
			}
		})
	}
}

// TestA1111AgainstServe runs the a1111 adapter against genquorum serve's txt2img: it passes
// enginetest and returns the built-in image engine's PNG byte for byte.
func TestA1111AgainstServe(t *testing.T) {
	eng, ts := serveImage(t)
	ref := eng.Models()[0]
	e := openSpec(t, ref.Name+"=a1111:"+ts.URL+"?digest="+ref.Digest.String())
	task := engine.Task{Kind: engine.KindImage, Model: ref, Prompt: "a photo of a shoe", Seed: 42,
		Image: &engine.ImageParams{Sampler: "ddim", Steps: 2, CFGScale: 3}}
	enginetest.Run(t, e, task)
	got, err := e.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	want, err := eng.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, want.Data) || got.MediaType != "image/png" {
		t.Errorf("a1111 PNG (%d bytes, %s) differs from the built-in engine's (%d bytes)", len(got.Data), got.MediaType, len(want.Data))
	}
	if e.Settings()["sha256"] != "checked" || e.Settings()["randn_source"] != "CPU" {
		t.Errorf("settings %v: want the checkpoint's SHA-256 checked and randn_source CPU", e.Settings())
	}

	// A declared digest that is not the checkpoint's is refused at Open.
	sp, _ := ParseSpec("base=a1111:" + ts.URL + "?digest=" + engine.Digest{1}.String())
	if _, err := Open(t.Context(), sp); !errors.Is(err, ErrWrongModel) {
		t.Errorf("Open with a wrong digest = %v, want ErrWrongModel", err)
	}
}
