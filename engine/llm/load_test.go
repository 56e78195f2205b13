package llm

import (
	"crypto/sha256"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/filedigest"
	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// TestLoadMappedMatchesCopied checks the fast start path against the copying one: Load (file
// mapped, F32 weights used in place, F16 panels packed from the bits, embeddings dequantised
// per row) and FromGGUF over a file read through (every weight copied and dequantised) give
// the same tokens and the same log-prob bits, under the Exact profile (panels) and a profile
// that uses tensor's product (F16 weights widened on first use); and Load's digest is the
// SHA-256 of the file's bytes with the digest cache off, empty and filled.
func TestLoadMappedMatchesCopied(t *testing.T) {
	for _, name := range benchModels {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(refDir, "models", name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(raw)
			for _, cache := range []string{"off", t.TempDir(), ""} {
				if cache != "" {
					t.Setenv(filedigest.EnvCache, cache)
				}
				for range 2 { // the second load of a settled file may come from the cache
					m, err := Load(path, "")
					if err != nil {
						t.Fatal(err)
					}
					if m.Digest != want {
						t.Fatalf("cache %q: digest %x, want %x", cache, m.Digest, want)
					}
				}
			}
			mapped, err := Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.OpenWith(path, gguf.OpenOptions{NoMap: true})
			if err != nil {
				t.Fatal(err)
			}
			copied, err := FromGGUF(f)
			f.Close() // the copied model must not need the file any more
			if err != nil {
				t.Fatal(err)
			}
			prompt := mapped.Tok.Encode("Once upon a time there was", true, true)
			for _, prof := range []tensor.Profile{tensor.Exact, mustProfile(t, "cpu-avx2")} {
				p := Params{Decode: DecodeGreedy, MaxTokens: 24, IgnoreEOG: true, TopN: 2}
				a, err := mapped.Generate(t.Context(), prompt, p, prof)
				if err != nil {
					t.Fatal(err)
				}
				b, err := copied.Generate(t.Context(), prompt, p, prof)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.Tokens, b.Tokens) {
					t.Fatalf("%s: tokens %v, copied model %v", prof.Name, a.Tokens, b.Tokens)
				}
				for i := range a.Steps {
					if math.Float32bits(a.Steps[i].LogProb) != math.Float32bits(b.Steps[i].LogProb) ||
						math.Float32bits(a.Steps[i].Margin) != math.Float32bits(b.Steps[i].Margin) {
						t.Fatalf("%s: step %d differs: %+v vs %+v", prof.Name, i, a.Steps[i], b.Steps[i])
					}
				}
			}
		})
	}
}

func mustProfile(t *testing.T, name string) tensor.Profile {
	t.Helper()
	p, err := tensor.ProfileByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
