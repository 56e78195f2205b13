package study

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/tensor"
)

// DriftConfig sets up ProfileDrift: the ten class prompts x seeds 1..Seeds, sampled with
// Steps, Sampler and CFGScale under tensor.Exact and under each of Profiles (simulated hardware).
type DriftConfig struct {
	Seeds    int
	Steps    int
	Sampler  string
	CFGScale float32
	Profiles []tensor.Profile
	// Progress, if set, is called after each image (from several goroutines).
	Progress func()
}

// DriftSpecs are the hashes ProfileDrift compares: aHash, dHash, pHash and wHash, 8x8.
var DriftSpecs = []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 8},
	{Kind: imghash.PHash, Size: 8}, {Kind: imghash.WHash, Size: 8}}

// DriftResult is what ProfileDrift measured, per profile p of DriftConfig.Profiles.
type DriftResult struct {
	Images   int // images per profile
	Config   DriftConfig
	Same     []int     // Same[p]: PNGs byte-identical to exact's
	Distance [][][]int // Distance[p][k][d]: images whose hash DriftSpecs[k] is d bits from exact's
}

// ProfileDrift samples every prompt and seed under exact and each profile (GOMAXPROCS jobs at
// once; each image's bits do not depend on that) and counts identical PNGs and hash distances
// to exact's image.
func ProfileDrift(ctx context.Context, m *diffusion.Model, cfg DriftConfig) (*DriftResult, error) {
	type result struct {
		png    []byte
		hashes []imghash.Hash
	}
	gen := func(ctx context.Context, prompt string, seed uint64, prof tensor.Profile) (result, error) {
		img, err := m.Sample(ctx, diffusion.SampleParams{Prompt: prompt, Steps: cfg.Steps, Sampler: cfg.Sampler,
			CFGScale: cfg.CFGScale, Seed: seed}, prof)
		if err != nil {
			return result{}, err
		}
		data, err := diffusion.EncodePNG(img)
		if err != nil {
			return result{}, err
		}
		hs, err := imghash.Compute(imghash.Image{Width: img.Rect.Dx(), Height: img.Rect.Dy(), Gray: img.Pix}, DriftSpecs...)
		return result{data, hs}, err
	}
	n := diffusion.NumClasses * cfg.Seeds
	profs := cfg.Profiles
	// One job per prompt and seed: exact's image, then each profile's.
	rows := make([][]result, n)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		eg.Go(func() error {
			prompt, seed := diffusion.ClassPrompts[i/cfg.Seeds], uint64(i%cfg.Seeds+1)
			rs := make([]result, 1+len(profs))
			for p, prof := range append([]tensor.Profile{tensor.Exact}, profs...) {
				r, err := gen(ectx, prompt, seed, prof)
				if err != nil {
					return err
				}
				rs[p] = r
				if cfg.Progress != nil {
					cfg.Progress()
				}
			}
			rows[i] = rs
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	res := &DriftResult{Images: n, Config: cfg, Same: make([]int, len(profs)), Distance: make([][][]int, len(profs))}
	for p := range profs {
		res.Distance[p] = make([][]int, len(DriftSpecs))
		for k := range DriftSpecs {
			res.Distance[p][k] = make([]int, 65)
		}
	}
	for _, rs := range rows {
		ref := rs[0]
		for p, r := range rs[1:] {
			if bytes.Equal(r.png, ref.png) {
				res.Same[p]++
			}
			for k := range DriftSpecs {
				d, err := r.hashes[k].Distance(ref.hashes[k])
				if err != nil {
					return nil, err
				}
				res.Distance[p][k][d]++
			}
		}
	}
	return res, nil
}

// WriteText writes r for people: per profile, identical PNGs and the count of images at
// Hamming distance 0, 1, 2, 3 and more from exact, per hash.
func (r *DriftResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%d images per profile (%s, %d steps), compared with exact\n", r.Images, r.Config.Sampler, r.Config.Steps)
	fmt.Fprintf(w, "%-16s %-10s %-12s %s\n", "profile", "same PNG", "hash", "Hamming distance to exact: count (d=0 / 1 / 2 / 3 / >3)")
	for p, prof := range r.Config.Profiles {
		for k, sp := range DriftSpecs {
			h := r.Distance[p][k]
			more := 0
			for _, c := range h[4:] {
				more += c
			}
			col, name := "", ""
			if k == 0 {
				col, name = fmt.Sprintf("%d/%d", r.Same[p], r.Images), prof.Name
			}
			if _, err := fmt.Fprintf(w, "%-16s %-10s %-12s %d / %d / %d / %d / %d\n", name, col, sp.Kind, h[0], h[1], h[2], h[3], more); err != nil {
				return err
			}
		}
	}
	return nil
}
