package diffusion

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/diffusion/golden.txt")

const goldenPath = "../../testdata/diffusion/golden.txt"

// TestGolden pins the bits of the tiny model's training and sampling: the SHA-256 of its
// weights after 4 training steps, and of one PNG per profile and sampler. The file is the same
// on every machine, GOMAXPROCS, with -tags noasm, GOARCH=386 and GOAMD64=v3 (checked when it
// was written); rewrite it with -update only when a change is meant to alter bits (and bump
// Version).
func TestGolden(t *testing.T) {
	var b strings.Builder
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro, tc.Warmup = 4, 2, 2
	tr, err := NewTrainer(tinyModel(t), synthData(40), tc)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		tr.Step()
	}
	var w bytes.Buffer
	if err := tr.Weights().WriteGGUF(&w); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "train tiny 4 steps: %x\n", sha256.Sum256(w.Bytes()))
	e, ref := tinyEngine(t)
	distinct := map[string]bool{}
	for _, p := range tensor.Profiles() {
		for _, s := range Samplers {
			a, err := e.Run(t.Context(), imageTask(ref, "A photo of a sneaker", 7, s, p.Name))
			if err != nil {
				t.Fatal(err)
			}
			d := fmt.Sprintf("%x", sha256.Sum256(a.Data))
			distinct[d] = true
			fmt.Fprintf(&b, "image %s %s: %s\n", p.Name, s, d)
		}
	}
	if len(distinct) < len(Samplers)*2 {
		t.Errorf("only %d distinct images over %d profiles and %d samplers", len(distinct), len(tensor.Profiles()), len(Samplers))
	}
	if *update {
		if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("golden digests differ (go test -update rewrites them):\ngot:\n%swant:\n%s", got, want)
	}
}
