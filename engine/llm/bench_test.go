package llm

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

var benchModels = []string{"tiny-llama-a-f32.gguf", "tiny-llama-b-gqa-f16.gguf", "tiny-llama-a-q8_0.gguf"}

// benchPrompt is the prompt of llama.cpp's speed figures in testdata/llamacpp/README.md.
const benchPrompt = "Once upon a time there was"

// BenchmarkGenerate measures greedy generation (256 tokens, as llama.cpp's figures; tokens/s
// counts generated tokens only, prompt processing excluded by subtracting nothing: the
// prompt is 7 tokens and costs one batched pass). Run with -cpu 1,2.
func BenchmarkGenerate(b *testing.B) {
	for _, name := range benchModels {
		m := loadModel(b, name)
		prompt := m.Tok.Encode(benchPrompt, true, true)
		for _, topN := range []int{0, 5} {
			b.Run(fmt.Sprintf("%s/tokens=256/topn=%d", name, topN), func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				c0 := cpuSeconds()
				for b.Loop() {
					res, err := m.Generate(b.Context(), prompt, Params{Decode: DecodeGreedy, MaxTokens: 256, TopN: topN, IgnoreEOG: true}, tensor.Exact)
					if err != nil {
						b.Fatal(err)
					}
					n += len(res.Tokens)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
				if c := cpuSeconds() - c0; c > 0 && c0 > 0 {
					// tokens per CPU-second: meaningful on a shared machine; with -cpu 1 it
					// is the single-thread speed.
					b.ReportMetric(float64(n)/c, "tokens/cpu-s")
				}
			})
		}
	}
}

// BenchmarkVerify compares generating 60 greedy tokens with scoring them in one
// teacher-forced pass (Score), on a 26-token prompt.
func BenchmarkVerify(b *testing.B) {
	for _, name := range benchModels {
		m := loadModel(b, name)
		prompt := m.Tok.Encode("The quick brown fox jumps over the lazy dog. Once upon a time there was a small town by the sea", true, true)
		res, err := m.Generate(b.Context(), prompt, Params{Decode: DecodeGreedy, MaxTokens: 60, IgnoreEOG: true}, tensor.Exact)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/generate/tokens=60", func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := m.Generate(b.Context(), prompt, Params{Decode: DecodeGreedy, MaxTokens: 60, IgnoreEOG: true}, tensor.Exact); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/score/tokens=60", func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := m.VerifyGreedy(b.Context(), prompt, res.Tokens, tensor.Exact, DefaultGreedyTol); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU returns a function that reports the CPU milliseconds per operation since the call
// (meaningful on a shared machine; with -cpu 1 it is single-thread work).
func reportCPU(b *testing.B) func() {
	c0 := cpuSeconds()
	return func() {
		if c := cpuSeconds() - c0; c > 0 && c0 > 0 {
			b.ReportMetric(c*1e3/float64(b.N), "cpu-ms/op")
		}
	}
}

// BenchmarkLoad measures Load (open, digest, parse, weight layout) of each shipped model, the
// start-up cost of a one-shot generate text.
func BenchmarkLoad(b *testing.B) {
	for _, name := range benchModels {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := Load(filepath.Join(refDir, "models", name), ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadGenerate128 is what a one-shot `generate text --max-tokens 128` does in process:
// load the model, then generate 128 greedy tokens.
func BenchmarkLoadGenerate128(b *testing.B) {
	for _, name := range benchModels {
		b.Run(name, func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				m, err := Load(filepath.Join(refDir, "models", name), "")
				if err != nil {
					b.Fatal(err)
				}
				prompt := m.Tok.Encode("Hello", true, true)
				if _, err := m.Generate(b.Context(), prompt, Params{Decode: DecodeGreedy, MaxTokens: 128, IgnoreEOG: true}, tensor.Exact); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
