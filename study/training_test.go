package study

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/train"
)

// TestRunTraining runs the training study on a tiny model and synthetic images: the tables and
// plots exist, the deterministic run on the trainer's profile is the trainer itself, the
// deterministic runs on other profiles stay closer to it than the runs with a switch on, and
// replays start at distance zero.
func TestRunTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 6 tiny runs and replays")
	}
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 7)
	if err != nil {
		t.Fatal(err)
	}
	base, err := diffusion.NamedModel("base", m)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainingConfig()
	cfg.Base, cfg.Data = base, train.Synthetic(8, 1)
	cfg.Steps, cfg.Every, cfg.Gossip = 6, 2, 2
	cfg.Verifiers = []string{"hopper-bf16"}
	cfg.RunSeed = 1 // reproducible: the clock's seeds made this test depend on the draw
	dir := t.TempDir()
	r, err := Open("training", Options{Dir: dir, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunTraining(context.Background(), r, cfg); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tables/figure5.tsv", "tables/figure6.tsv", "tables/training-segments.tsv", "tables/training-cost.tsv",
		"plots/figure5.svg", "plots/figure5.png", "plots/figure6.svg", "plots/figure6.png", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	t5, err := ReadTable(dir, "figure5")
	if err != nil {
		t.Fatal(err)
	}
	// Largest distance to the first run, per run, at the last checkpoint.
	last := map[string]float64{}
	for i, row := range t5.Rows {
		d, err := t5.Float(i, "distance_to_first")
		if err != nil {
			t.Fatal(err)
		}
		last[row[t5.Col("run")]] = math.Max(last[row[t5.Col("run")]], d)
	}
	if last["deterministic exact"] != 0 {
		t.Errorf("the first run is %g from itself", last["deterministic exact"])
	}
	// A run with one source on runs on the first run's profile: any distance is that source's.
	// (Whether it exceeds the other profiles' drift depends on the draw and the run's length:
	// 6 steps of 8 images here; Figure 5 in the README shows it for the default 60 steps.)
	for _, s := range cfg.Switched {
		if on := last[s.String()+" on"]; !(on > 0) {
			t.Errorf("run with %s on is %g from the first: the switched source changed nothing", s, on)
		}
	}
	t6, err := ReadTable(dir, "figure6")
	if err != nil {
		t.Fatal(err)
	}
	if len(t6.Rows) != 4 || t6.Rows[0][t6.Col("distance_gossip")] != "0" || t6.Rows[2][t6.Col("adopted")] != "true" {
		t.Errorf("figure6 rows %q", t6.Rows)
	}
}
