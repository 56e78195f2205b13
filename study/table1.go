package study

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/tensor"
)

// ImageModel is a model an image study runs, and the engine that runs it. Any engine.Engine
// serves: the built-in diffusion engine (BuiltinImageModels) or, through the hook the node's
// --engine flags fill, a remote one.
type ImageModel struct {
	Ref    engine.ModelRef
	Engine engine.Engine
	// Profiles, when set, are the profiles this model runs under instead of the config's: a
	// remote engine runs under its one label (RemoteImageModels).
	Profiles []string
}

// BuiltinImageModels returns the built-in diffusion models names (base, finetuned, lora, ti),
// each on its own built-in engine.
func BuiltinImageModels(names ...string) ([]ImageModel, error) {
	var out []ImageModel
	for _, n := range names {
		nm, err := models.Diffusion(n)
		if err != nil {
			return nil, fmt.Errorf("study: model %q: %w", n, err)
		}
		e, err := diffusion.New(nm)
		if err != nil {
			return nil, fmt.Errorf("study: model %q: %w", n, err)
		}
		out = append(out, ImageModel{Ref: e.Models()[0], Engine: e})
	}
	return out, nil
}

// ProfileNames returns the names of tensor's preset profiles, exact first.
func ProfileNames() []string {
	var out []string
	for _, p := range tensor.Profiles() {
		out = append(out, p.Name)
	}
	return out
}

// DefaultSpecs are the hashes of Table 1: every imagehash kind at size 8, colorhash at
// binbits 3 (as `genquorum hash` computes by default).
func DefaultSpecs() []imghash.Spec {
	var out []imghash.Spec
	for _, k := range imghash.Kinds {
		size := 8
		if k == imghash.ColorHash {
			size = 3
		}
		out = append(out, imghash.Spec{Kind: k, Size: size})
	}
	return out
}

// ImageConfig is the grid of an image study: models x profiles x prompts x seeds, every image
// fingerprinted with every spec.
type ImageConfig struct {
	Models   []ImageModel
	Profiles []string
	Prompts  []string
	Seeds    []uint64
	Specs    []imghash.Spec
	Params   engine.ImageParams // sampler, steps, guidance, size
}

// Validate checks the grid is not empty.
func (c *ImageConfig) Validate() error {
	switch {
	case len(c.Models) == 0:
		return fmt.Errorf("study: no model")
	case len(c.Profiles) == 0:
		return fmt.Errorf("study: no profile")
	case len(c.Prompts) == 0:
		return fmt.Errorf("study: no prompt")
	case len(c.Seeds) == 0:
		return fmt.Errorf("study: no seed")
	case len(c.Specs) == 0:
		return fmt.Errorf("study: no hash kind")
	}
	return nil
}

// imageItem is one image to make.
type imageItem struct {
	key   string
	model ImageModel
	task  engine.Task
}

func (c *ImageConfig) items(study string) []imageItem {
	var out []imageItem
	for _, m := range c.Models {
		profiles := c.Profiles
		if len(m.Profiles) > 0 {
			profiles = m.Profiles
		}
		for _, prof := range profiles {
			for pi, p := range c.Prompts {
				for _, s := range c.Seeds {
					params := c.Params
					out = append(out, imageItem{
						key:   fmt.Sprintf("%s/%s/%s/p%d/s%d", study, m.Ref.Name, prof, pi, s),
						model: m,
						task: engine.Task{Kind: engine.KindImage, Model: m.Ref, Prompt: p, Seed: s, Profile: prof,
							Image: &params},
					})
				}
			}
		}
	}
	return out
}

// generateImages makes the items not yet in the dataset, fingerprints each with specs and
// records it.
func generateImages(ctx context.Context, r *Run, study string, items []imageItem, specs []imghash.Spec) error {
	var todo []imageItem
	for _, it := range items {
		if err := it.task.Validate(); err != nil {
			return fmt.Errorf("study: %s: %w", it.key, err)
		}
		done, err := r.Dataset.Done(it.key, it.task)
		if err != nil {
			return err
		}
		if !done {
			todo = append(todo, it)
		}
	}
	return r.Do(ctx, "generating", len(todo), func(ctx context.Context, i int) error {
		it := todo[i]
		if done, err := r.reuseImage(study, it, specs); done || err != nil {
			return err
		}
		start := time.Now()
		a, err := it.model.Engine.Run(ctx, it.task)
		if err != nil {
			return fmt.Errorf("study: %s: %w", it.key, err)
		}
		gen := float64(time.Since(start).Nanoseconds()) / 1e6
		fps, ms, err := ImageFingerprints(a.Data, specs)
		if err != nil {
			return fmt.Errorf("study: %s: %w", it.key, err)
		}
		ms["generate"] = gen
		e := Entry{Study: study, Key: it.key, MediaType: a.MediaType,
			Task:         NewTaskRecord(it.task, it.model.Engine.Name(), a.Info),
			Fingerprints: fps, Timings: ms}
		_, err = r.Dataset.Put(e, a.Data, ".png")
		return err
	})
}

// PlotTolerances are the tolerances of the consensus-vs-tolerance plot.
var PlotTolerances = []int{0, 1, 2, 3, 4, 5, 6, 8}

// RunTable1 makes the images of cfg (skipping those already in the dataset), then writes
// Table 1 (per model and hash kind: images, consensus % at t=0/1/2, outliers, aDist, ms per
// hash), the outlier distances and the drift of each profile against exact, with their plots.
// The outputs of one task (model, prompt, seed) under the different profiles form a group,
// as the outputs of one task on different machines do in the paper.
func RunTable1(ctx context.Context, r *Run, cfg ImageConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := generateImages(ctx, r, "table1", cfg.items("table1"), cfg.Specs); err != nil {
		return err
	}
	return AnalyzeTable1(r.Dir, r.Dataset.Entries("table1"), cfg.Specs)
}

// table1Group is the key of a Table 1 group: one task, all profiles.
func table1Group(e Entry) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%v", e.Task.Model, e.Task.ModelDigest, e.Task.Prompt, e.Task.Seed, e.Task.Image)
}

// byModel groups entries by model, keeping the models' first-seen order.
func byModel(entries []Entry) ([]string, map[string][]Entry) {
	var names []string
	m := map[string][]Entry{}
	for _, e := range entries {
		if _, ok := m[e.Task.Model]; !ok {
			names = append(names, e.Task.Model)
		}
		m[e.Task.Model] = append(m[e.Task.Model], e)
	}
	return names, m
}

// Table1Row is one row of Table 1.
type Table1Row struct {
	Model     string
	Scheme    string
	Images    int
	Groups    int
	Consensus []float64 // percent at each of PlotTolerances
	Outliers  []int     // at each of PlotTolerances
	ADist     float64
	MsPerHash float64
	// Distances[d] is the number of images at Hamming distance d from their group's mode.
	Distances []int
}

// Table1Rows computes Table 1 from dataset entries: per model (in first-seen order) and
// scheme (in specs order).
func Table1Rows(entries []Entry, specs []imghash.Spec) ([]Table1Row, error) {
	names, per := byModel(entries)
	var rows []Table1Row
	for _, model := range names {
		groups := map[string][]Entry{}
		for _, e := range per[model] {
			groups[table1Group(e)] = append(groups[table1Group(e)], e)
		}
		keys := slices.Sorted(maps.Keys(groups))
		for _, spec := range specs {
			scheme := fingerprint.ImageScheme(spec.Kind, spec.Size).String()
			var pool quorum.Pool
			row := Table1Row{Model: model, Scheme: scheme}
			var hashMs float64
			for _, k := range keys {
				var fps [][]byte
				for _, e := range groups[k] {
					fp, err := hex.DecodeString(e.Fingerprints[scheme])
					if err != nil || len(fp) == 0 {
						return nil, fmt.Errorf("study: %s: no fingerprint %s", e.Key, scheme)
					}
					fps = append(fps, fp)
					hashMs += e.Timings["hash:"+scheme]
				}
				st, err := quorum.Stats(fps, PlotTolerances)
				if err != nil {
					return nil, fmt.Errorf("study: %s: %w", scheme, err)
				}
				if err := pool.Add(st); err != nil {
					return nil, fmt.Errorf("study: %w", err)
				}
				for _, fp := range fps {
					d, _ := fingerprint.Distance(fp, st.Mode)
					for len(row.Distances) <= d {
						row.Distances = append(row.Distances, 0)
					}
					row.Distances[d]++
				}
			}
			row.Images, row.Groups = pool.Members(), pool.Groups()
			for i := range PlotTolerances {
				row.Consensus = append(row.Consensus, 100*pool.Consensus(i))
				row.Outliers = append(row.Outliers, pool.Outliers(i))
			}
			row.ADist = pool.ADist()
			if row.Images > 0 {
				row.MsPerHash = hashMs / float64(row.Images)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// Table1Columns are the paper's columns.
var Table1Columns = []string{"model", "hash", "images", "groups", "consensus_t0", "consensus_t1", "consensus_t2",
	"outliers_t0", "outliers_t1", "outliers_t2", "adist", "ms_per_hash"}

// AnalyzeTable1 writes Table 1, the outlier and drift tables and their plots from entries.
func AnalyzeTable1(dir string, entries []Entry, specs []imghash.Spec) error {
	if len(entries) == 0 {
		return fmt.Errorf("study: table1: no images in the dataset")
	}
	rows, err := Table1Rows(entries, specs)
	if err != nil {
		return err
	}
	t := &Table{Name: "table1", Order: 10, Columns: Table1Columns,
		Title: "Table 1: consensus of one task's images across numeric profiles, per model and hash",
		Note: "A group is one task (model, prompt, seed) run under every profile (simulated hardware); " +
			"consensus_t = 100 (1 - outliers_t / images), outliers at distance > t from the group's mode; " +
			"adist: mean distance of the t=0 outliers to their mode; ms_per_hash: one hash from decoded pixels."}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Model, r.Scheme, itoa(r.Images), itoa(r.Groups),
			f2(r.Consensus[0]), f2(r.Consensus[1]), f2(r.Consensus[2]),
			itoa(r.Outliers[0]), itoa(r.Outliers[1]), itoa(r.Outliers[2]), f3(r.ADist), f4(r.MsPerHash)})
	}
	if err := WriteTable(dir, t); err != nil {
		return err
	}
	// Outlier distances: images at each distance from their group's mode.
	maxD := 0
	for _, r := range rows {
		maxD = max(maxD, len(r.Distances)-1)
	}
	ot := &Table{Name: "table1-distances", Order: 11, Columns: []string{"model", "hash"},
		Title: "Distance of each image to its group's mode (images at d = 0, 1, ...)"}
	for d := 0; d <= maxD; d++ {
		ot.Columns = append(ot.Columns, "d"+itoa(d))
	}
	for _, r := range rows {
		cells := []string{r.Model, r.Scheme}
		for d := 0; d <= maxD; d++ {
			n := 0
			if d < len(r.Distances) {
				n = r.Distances[d]
			}
			cells = append(cells, itoa(n))
		}
		ot.Rows = append(ot.Rows, cells)
	}
	if err := WriteTable(dir, ot); err != nil {
		return err
	}
	drift, err := driftTable(entries, specs)
	if err != nil {
		return err
	}
	if drift != nil {
		if err := WriteTable(dir, drift); err != nil {
			return err
		}
	}
	return plotTable1(dir, rows, drift, specs)
}

// driftTable compares each image with the exact profile's image of the same task: per model,
// profile and scheme, the share of byte-identical PNGs, of identical fingerprints, and the
// mean and largest distance. Nil when no entry ran under exact.
func driftTable(entries []Entry, specs []imghash.Spec) (*Table, error) {
	exact := map[string]Entry{}
	for _, e := range entries {
		if e.Task.Profile == tensor.Exact.Name {
			exact[table1Group(e)] = e
		}
	}
	if len(exact) == 0 {
		return nil, nil
	}
	t := &Table{Name: "drift", Order: 12, Columns: []string{"model", "profile", "hash", "images", "same_png_pct",
		"same_hash_pct", "mean_distance", "max_distance"},
		Title: "Drift of each simulated hardware profile against exact (same task), per model and hash",
		Note: "Profiles are simulated hardware (package tensor): each changes the numeric choices " +
			"(reduction order, FMA, TF32/FP16/BF16 rounding) the way a GPU generation does, on this CPU."}
	names, per := byModel(entries)
	for _, model := range names {
		var profiles []string
		for _, e := range per[model] {
			if !slices.Contains(profiles, e.Task.Profile) && e.Task.Profile != tensor.Exact.Name {
				profiles = append(profiles, e.Task.Profile)
			}
		}
		for _, prof := range profiles {
			for _, spec := range specs {
				scheme := fingerprint.ImageScheme(spec.Kind, spec.Size).String()
				var n, samePNG, sameHash, sum, mx int
				for _, e := range per[model] {
					x, ok := exact[table1Group(e)]
					if e.Task.Profile != prof || !ok {
						continue
					}
					a, _ := hex.DecodeString(e.Fingerprints[scheme])
					b, _ := hex.DecodeString(x.Fingerprints[scheme])
					d, err := fingerprint.Distance(a, b)
					if err != nil {
						return nil, fmt.Errorf("study: drift %s: %w", e.Key, err)
					}
					n++
					if e.Digest == x.Digest {
						samePNG++
					}
					if d == 0 {
						sameHash++
					}
					sum += d
					mx = max(mx, d)
				}
				if n == 0 {
					continue
				}
				t.Rows = append(t.Rows, []string{model, prof, scheme, itoa(n), f2(100 * float64(samePNG) / float64(n)),
					f2(100 * float64(sameHash) / float64(n)), f3(float64(sum) / float64(n)), itoa(mx)})
			}
		}
	}
	return t, nil
}
