package study

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/genquorum/genquorum/collide"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
)

// DefaultType2Tolerance is the largest tolerance of the Type II table.
const DefaultType2Tolerance = 8

// RunType2 makes the images of cfg (usually one profile, few prompts, many seeds; skipping
// those already in the dataset) and writes the Type II (guessing) table: for each model and
// hash kind, the share of pairs of images within distance t of each other, for t = 0..maxTol,
// among pairs made from the same prompt with different seeds (what a guesser who knows the
// prompt but not the seed could hope for) and among all pairs. Counting is exact (package
// collide).
func RunType2(ctx context.Context, r *Run, cfg ImageConfig, maxTol int) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := generateImages(ctx, r, "type2", cfg.items("type2"), cfg.Specs); err != nil {
		return err
	}
	return AnalyzeType2(ctx, r.Dir, r.Dataset.Entries("type2"), cfg.Specs, maxTol)
}

// fingerprintSet packs fingerprints (all of one length) into a collide.Set.
func fingerprintSet(fps [][]byte) *collide.Set {
	bits := 8 * len(fps[0])
	s := collide.NewSet(bits)
	words := (bits + 63) / 64
	buf := make([]byte, 8*words)
	w := make([]uint64, words)
	for _, fp := range fps {
		clear(buf)
		copy(buf[len(buf)-len(fp):], fp)
		for i := range w {
			w[i] = binary.BigEndian.Uint64(buf[8*i:])
		}
		s.Append(w...)
	}
	return s
}

// AnalyzeType2 writes the Type II table and plots from entries.
func AnalyzeType2(ctx context.Context, dir string, entries []Entry, specs []imghash.Spec, maxTol int) error {
	if len(entries) == 0 {
		return fmt.Errorf("study: type2: no images in the dataset")
	}
	t := &Table{Name: "type2", Order: 30, Columns: []string{"model", "hash", "scope", "images", "pairs"},
		Title: "Type II: share of pairs of images (different seeds) within distance t of each other",
		Note: "same prompt: pairs of images of one prompt and profile with different seeds (a guesser who knows the prompt); " +
			"all: every pair of images of one profile. Rates in percent; counts exact (package collide)."}
	for d := 0; d <= maxTol; d++ {
		t.Columns = append(t.Columns, fmt.Sprintf("rate_t%d", d))
	}
	names, per := byModel(entries)
	for _, model := range names {
		es := slices.Clone(per[model])
		// Group by prompt and profile: consecutive runs give collide's bounds.
		gkey := func(e Entry) string { return e.Task.Profile + "\x00" + e.Task.Prompt }
		slices.SortStableFunc(es, func(a, b Entry) int {
			switch ka, kb := gkey(a), gkey(b); {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return 0
		})
		// bounds: runs of one profile and prompt; pbounds: runs of one profile (images of
		// different profiles are the same task's honest variants, not guesses).
		bounds, pbounds := []int{0}, []int{0}
		for i := 1; i < len(es); i++ {
			if gkey(es[i]) != gkey(es[i-1]) {
				bounds = append(bounds, i)
			}
			if es[i].Task.Profile != es[i-1].Task.Profile {
				pbounds = append(pbounds, i)
			}
		}
		bounds, pbounds = append(bounds, len(es)), append(pbounds, len(es))
		var series []Series
		for _, spec := range specs {
			scheme := fingerprint.ImageScheme(spec.Kind, spec.Size).String()
			var fps [][]byte
			for _, e := range es {
				fp, err := hex.DecodeString(e.Fingerprints[scheme])
				if err != nil || len(fp) == 0 {
					return fmt.Errorf("study: %s: no fingerprint %s", e.Key, scheme)
				}
				fps = append(fps, fp)
			}
			s := fingerprintSet(fps)
			tol := min(maxTol, s.Bits())
			grouped, err := collide.CountGroups(ctx, s, bounds, collide.Options{Tolerance: tol})
			if err != nil {
				return fmt.Errorf("study: type2 %s %s: %w", model, scheme, err)
			}
			all, err := collide.CountGroups(ctx, s, pbounds, collide.Options{Tolerance: tol})
			if err != nil {
				return fmt.Errorf("study: type2 %s %s: %w", model, scheme, err)
			}
			ser := Series{Name: shortScheme(scheme)}
			for _, c := range []struct {
				scope string
				c     collide.Counts
			}{{"same prompt", grouped}, {"all", all}} {
				row := []string{model, scheme, c.scope, itoa(len(fps)), fmt.Sprint(c.c.Pairs)}
				for d := 0; d <= maxTol; d++ {
					if d > tol || c.c.Pairs == 0 {
						row = append(row, "")
						continue
					}
					rate := 100 * c.c.Rate(d)
					row = append(row, f4(rate))
					if c.scope == "same prompt" {
						ser.X = append(ser.X, float64(d))
						ser.Y = append(ser.Y, rate)
					}
				}
				t.Rows = append(t.Rows, row)
			}
			series = append(series, ser)
		}
		p, err := LinePlot("Type II vs tolerance: "+model, "tolerance (Hamming distance)",
			"pairs within tolerance (%)", series, nil)
		if err != nil {
			return err
		}
		p.Legend.Left = true
		if err := SavePlot(dir, Figure{Name: "type2-" + model, Order: 30,
			Caption: "Type II on model " + model + ": share of pairs of same-prompt images with different seeds whose hashes lie within t bits (a guess that would pass)."}, p); err != nil {
			return err
		}
	}
	return WriteTable(dir, t)
}
