package llm

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/determinism.golden")

// digestResult hashes the generated tokens and the bits of every reported log-prob, margin
// and slack.
func digestResult(res *Result) string {
	h := sha256.New()
	var b [4]byte
	for _, s := range res.Steps {
		for _, v := range []uint32{uint32(s.ID), math.Float32bits(s.LogProb), math.Float32bits(s.Margin), math.Float32bits(s.Slack)} {
			binary.LittleEndian.PutUint32(b[:], v)
			h.Write(b[:])
		}
		for _, tp := range s.Top {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(tp.LogProb))
			h.Write(b[:])
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// TestDeterminismGolden pins, for every model, preset profile and decoding mode, a digest of
// the tokens and log-prob bits of a short generation, in testdata/determinism.golden, and
// checks that GOMAXPROCS 1 and 3 give it. The same file must come out of the AVX kernel,
// the portable one (-tags noasm) and GOARCH=386 (go test -update rewrites it).
func TestDeterminismGolden(t *testing.T) {
	var lines []string
	for _, name := range benchModels {
		m := loadModel(t, name)
		prompt := m.Tok.Encode("The cat sat on the mat.", true, true)
		for _, prof := range tensor.Profiles() {
			for _, p := range []Params{
				{Decode: DecodeGreedy, MaxTokens: 8, TopN: 3},
				{Decode: "beam:3", MaxTokens: 6, TopN: 2},
				{Decode: DecodeSample, MaxTokens: 8, Temperature: 0.9, TopK: 40, TopP: 0.95, Seed: 5, TopN: 2},
			} {
				var first string
				for _, procs := range []int{1, 3} {
					old := runtime.GOMAXPROCS(procs)
					res, err := m.Generate(t.Context(), prompt, p, prof)
					runtime.GOMAXPROCS(old)
					if err != nil {
						t.Fatal(err)
					}
					d := digestResult(res)
					if first == "" {
						first = d
					} else if d != first {
						t.Errorf("%s %s %s: GOMAXPROCS %d gives digest %s, GOMAXPROCS 1 %s", name, prof.Name, p.Decode, procs, d, first)
					}
				}
				lines = append(lines, fmt.Sprintf("%s %s %s %s", name, prof.Name, p.Decode, first))
			}
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	const path = "testdata/determinism.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("digests differ from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
