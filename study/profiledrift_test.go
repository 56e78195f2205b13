package study

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/tensor"
)

// TestProfileDrift: exact against itself is identical everywhere; every image is counted once
// per hash, and the text has one block per profile.
func TestProfileDrift(t *testing.T) {
	nm, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	r, err := ProfileDrift(t.Context(), nm.Model, DriftConfig{Seeds: 1, Steps: 2, Sampler: "ddim", CFGScale: 3,
		Profiles: []tensor.Profile{tensor.Exact}, Progress: func() { done.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 10 || r.Same[0] != 10 || done.Load() != 20 {
		t.Errorf("%d images, %d identical, %d progress calls; want 10, 10, 20", r.Images, r.Same[0], done.Load())
	}
	for k := range DriftSpecs {
		if r.Distance[0][k][0] != 10 {
			t.Errorf("hash %v: %d at distance 0, want 10", DriftSpecs[k], r.Distance[0][k][0])
		}
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "exact            10/10      average_hash 10 / 0 / 0 / 0 / 0") {
		t.Errorf("text:\n%s", buf.String())
	}
}
