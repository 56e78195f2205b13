package study

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/tensor"
)

// TestSamplesRowsAndSeeds: rows[p][s] is prompt p with seed s+1, bit for bit what one
// Sample call gives, and Progress is called once per image.
func TestSamplesRowsAndSeeds(t *testing.T) {
	nm, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	cfg := SampleConfig{Prompts: diffusion.ClassPrompts[:2], Seeds: 2, Steps: 1, Sampler: "ddim", CFGScale: 3,
		Profile: tensor.Exact, Progress: func() { done.Add(1) }}
	rows, err := Samples(t.Context(), nm.Model, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(rows[0]) != 2 || len(rows[1]) != 2 || done.Load() != 4 {
		t.Fatalf("got %d rows, %d progress calls; want 2 rows of 2, 4 calls", len(rows), done.Load())
	}
	for p, row := range rows {
		for s, img := range row {
			want, err := nm.Model.Sample(t.Context(), diffusion.SampleParams{Prompt: cfg.Prompts[p], Steps: 1, Sampler: "ddim",
				CFGScale: 3, Seed: uint64(s + 1)}, tensor.Exact)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(img.Pix, want.Pix) {
				t.Errorf("rows[%d][%d] differs from prompt %q seed %d sampled alone", p, s, cfg.Prompts[p], s+1)
			}
		}
	}
}

// TestClassifierAgreement counts against Classify on the same images and writes one line
// per prompt and a total.
func TestClassifierAgreement(t *testing.T) {
	nm, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	c, err := diffusion.LoadClassifier("../testdata/diffusion/classifier.gguf")
	if err != nil {
		t.Fatal(err)
	}
	cfg := SampleConfig{Prompts: diffusion.ClassPrompts[:3], Seeds: 2, Steps: 1, Sampler: "ddim", CFGScale: 3, Profile: tensor.Exact}
	classes := []int{0, 1, 2}
	a, err := ClassifierAgreement(t.Context(), nm.Model, c, cfg, classes)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Samples(t.Context(), nm.Model, cfg)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for p, imgs := range rows {
		labels, err := c.Classify(imgs)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for _, l := range labels {
			if l == classes[p] {
				right++
			}
		}
		if a.Right[p] != right {
			t.Errorf("prompt %q: Right = %d, want %d", cfg.Prompts[p], a.Right[p], right)
		}
		total += right
	}
	var buf bytes.Buffer
	if err := a.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	wantLast := fmt.Sprintf("%-26s %d/6 = %.3f (chance 0.100)", "all", total, float64(total)/6)
	if len(lines) != 5 || !strings.HasPrefix(lines[1], cfg.Prompts[0]) || lines[4] != wantLast {
		t.Errorf("text:\n%s\nwant a header, 3 prompt lines and %q", buf.String(), wantLast)
	}
}
