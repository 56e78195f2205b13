package study

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
	"github.com/genquorum/genquorum/train"
)

// TrainingConfig controls RunTraining (the paper's Figures 5 and 6 on the built-in model).
type TrainingConfig struct {
	Base  diffusion.Named // the base model
	Data  *train.Dataset  // the concept's images
	Steps int             // steps of each run
	Every int             // K: steps between checkpoints
	Batch int
	LR    float32
	Seed  uint64
	// DetProfiles are the profiles of Figure 5's deterministic runs (three in the paper); the
	// first is the trainer's in Figure 6.
	DetProfiles []string
	// Switched are the sources switched on, one per run, in Figure 5's other runs.
	Switched []train.Source
	// Verifiers are Figure 6's verifier profiles; Gossip is M, checkpoints between syncs.
	Verifiers []string
	Gossip    int
	// RunSeed seeds the switched-on sources of Figure 5's runs (run i: RunSeed ^ i), so that a
	// run can be reproduced; 0 takes each run's seed from the clock, as a machine would.
	RunSeed uint64
}

// DefaultTrainingConfig returns the settings of the README's figures: TI, 60 steps of 4
// images, checkpoints every 5, gossip every 3 checkpoints (the paper: 50 and 6 on a GPU; ours
// is sized for a 2-core machine).
func DefaultTrainingConfig() TrainingConfig {
	return TrainingConfig{Steps: 60, Every: 5, Batch: 4, LR: 0.01, Seed: 1,
		DetProfiles: []string{"exact", "cpu-avx2", "hopper-bf16"},
		Switched:    []train.Source{train.Flip, train.Shuffle, train.SchedNoise},
		Verifiers:   []string{"ampere-tf32", "ampere-fp16", "turing-fp16acc"}, Gossip: 3}
}

// toleranceFactor times the largest honest segment drift is the study's tolerance.
const toleranceFactor = 2

// RunTraining runs Figure 5 (six textual-inversion runs of one concept: deterministic on
// DetProfiles, and on the first of them with one source switched on each; all checkpoints
// projected on their first two principal components) and Figure 6 (the first deterministic
// run as trainer, full replays on each verifier profile with gossip every M checkpoints and
// without: distance to the trainer per checkpoint), plus the segment drift that calibrates
// the tolerance and the cost of one segment's re-execution against the whole training.
func RunTraining(ctx context.Context, r *Run, cfg TrainingConfig) error {
	if len(cfg.DetProfiles) == 0 {
		return fmt.Errorf("study: training: no profiles")
	}
	spec := train.Spec{Base: cfg.Base.Digest, Method: train.MethodTI, Dataset: cfg.Data.Digest(), Steps: cfg.Steps,
		Batch: cfg.Batch, LR: cfg.LR, Seed: cfg.Seed, Every: cfg.Every, Profile: cfg.DetProfiles[0]}
	if err := spec.Validate(); err != nil {
		return err
	}
	type runDef struct {
		name    string
		spec    train.Spec
		profile string
	}
	var defs []runDef
	for _, p := range cfg.DetProfiles {
		defs = append(defs, runDef{"deterministic " + p, spec, p})
	}
	for _, s := range cfg.Switched {
		sp := spec
		sp.Switches[s] = true
		defs = append(defs, runDef{s.String() + " on", sp, cfg.DetProfiles[0]})
	}
	series := make([]*train.Series, len(defs))
	secs := make([]float64, len(defs))
	err := r.Do(ctx, "figure 5 runs", len(defs), func(ctx context.Context, i int) error {
		p, err := tensor.ProfileByName(defs[i].profile)
		if err != nil {
			return err
		}
		start := time.Now()
		// "On" sources are seeded per run: here from the run's index and the clock's
		// nanoseconds, as a machine would, unless cfg.RunSeed fixes them.
		seed := cfg.RunSeed
		if seed == 0 {
			seed = uint64(start.UnixNano())
		}
		s, err := train.Train(ctx, defs[i].spec, cfg.Base, cfg.Data, train.Options{Profile: p, RunSeed: seed ^ uint64(i)})
		secs[i] = time.Since(start).Seconds()
		series[i] = s
		return err
	})
	if err != nil {
		return err
	}
	var pts [][]float32
	for _, s := range series {
		for _, c := range s.Checkpoints {
			pts = append(pts, c.Fingerprint)
		}
	}
	proj, explained, err := train.PCA(pts, 2)
	if err != nil {
		return err
	}
	t5 := &Table{Name: "figure5", Order: 50, Columns: []string{"run", "profile", "switch_on", "checkpoint", "step", "pc1", "pc2", "distance_to_first", "seconds"},
		Title: fmt.Sprintf("Figure 5: textual-inversion checkpoints on their first two principal components (PC1 %.1f%%, PC2 %.1f%% of the variance)", 100*explained[0], 100*explained[1]),
		Note: fmt.Sprintf("%d steps of %d images, lr %g, checkpoints every %d steps, %d images of the concept (dataset %.12s), base %.12s; distance_to_first: Euclidean distance of the embedding to the first run's at the same checkpoint; seconds: the run's wall time (loaded machine)",
			cfg.Steps, cfg.Batch, cfg.LR, cfg.Every, cfg.Data.Len(), spec.Dataset.String(), spec.Base.String())}
	var curves []Series
	j := 0
	for i, s := range series {
		cv := Series{Name: defs[i].name}
		for k, c := range s.Checkpoints {
			d := train.Distance(c.Fingerprint, series[0].Checkpoints[k].Fingerprint)
			t5.Rows = append(t5.Rows, []string{defs[i].name, defs[i].profile, defs[i].spec.Switches.String(), itoa(k), itoa(c.Step),
				g4(proj[j][0]), g4(proj[j][1]), g4(d), f2(secs[i])})
			cv.X = append(cv.X, proj[j][0])
			cv.Y = append(cv.Y, proj[j][1])
			j++
		}
		curves = append(curves, cv)
	}
	if err := WriteTable(r.Dir, t5); err != nil {
		return err
	}
	p5, err := LinePlot("Figure 5: textual-inversion trajectories (PCA of the embedding)", "PC1", "PC2", curves, nil)
	if err != nil {
		return err
	}
	if err := SavePlot(r.Dir, Figure{Name: "figure5", Order: 50,
		Caption: "Six textual-inversion runs of one concept, checkpoints every K steps projected on their first two principal components: three deterministic runs on three profiles (they overlap), three runs on the first profile with one source of randomness switched on each (they part)."}, p5); err != nil {
		return err
	}

	// Tolerance: the largest honest segment drift of the trainer's series on the verifiers' profiles.
	trainer := series[0]
	var vps []tensor.Profile
	for _, name := range cfg.Verifiers {
		p, err := tensor.ProfileByName(name)
		if err != nil {
			return err
		}
		vps = append(vps, p)
	}
	drift := make([][]float64, len(vps))
	err = r.Do(ctx, "segment drift", len(vps), func(ctx context.Context, i int) error {
		d, err := train.SegmentDrift(ctx, trainer, cfg.Data, vps[i:i+1])
		if err == nil {
			drift[i] = d[0]
		}
		return err
	})
	if err != nil {
		return err
	}
	maxDrift := 0.0
	td := &Table{Name: "training-segments", Order: 52, Columns: []string{"verifier_profile", "segment", "distance"},
		Title: "Segment re-execution: distance of each verifier's checkpoint k+1, re-run from the trainer's checkpoint k, to the trainer's"}
	for i, ds := range drift {
		for k, d := range ds {
			maxDrift = math.Max(maxDrift, d)
			td.Rows = append(td.Rows, []string{cfg.Verifiers[i], itoa(k), g4(d)})
		}
	}
	tol := toleranceFactor * maxDrift
	td.Note = fmt.Sprintf("largest honest segment distance %.4g; tolerance = %d x that = %.4g", maxDrift, toleranceFactor, tol)
	if err := WriteTable(r.Dir, td); err != nil {
		return err
	}
	// Figure 6: full replays with and without gossip.
	type replay struct{ with, without *train.ReplayResult }
	reps := make([]replay, len(vps))
	err = r.Do(ctx, "figure 6 replays", 2*len(vps), func(ctx context.Context, i int) error {
		m := cfg.Gossip
		if i%2 == 1 {
			m = 0
		}
		res, err := train.Replay(ctx, trainer, cfg.Base, cfg.Data, train.Options{Profile: vps[i/2]}, m, math.Inf(1))
		if i%2 == 0 {
			reps[i/2].with = res
		} else {
			reps[i/2].without = res
		}
		return err
	})
	if err != nil {
		return err
	}
	// A replay drifts for up to M segments between syncs, so its tolerance is M segment
	// tolerances (fixed before the replays, from the segment calibration).
	rtol := float64(max(cfg.Gossip, 1)) * tol
	t6 := &Table{Name: "figure6", Order: 51, Columns: []string{"verifier_profile", "checkpoint", "step", "distance_gossip", "adopted", "distance_no_gossip", "within_tolerance_gossip", "within_tolerance_no_gossip"},
		Title: fmt.Sprintf("Figure 6: distance of each verifier's full replay to the trainer (%s) per checkpoint, gossip every %d checkpoints and without", cfg.DetProfiles[0], cfg.Gossip)}
	var c6 []Series
	maxWith, maxWithout := 0.0, 0.0
	for i, rp := range reps {
		sw := Series{Name: cfg.Verifiers[i] + " gossip"}
		so := Series{Name: cfg.Verifiers[i] + " no gossip"}
		for k := range rp.with.Distance {
			dw, do := rp.with.Distance[k], rp.without.Distance[k]
			maxWith, maxWithout = math.Max(maxWith, dw), math.Max(maxWithout, do)
			step := float64(trainer.Checkpoints[k].Step)
			t6.Rows = append(t6.Rows, []string{cfg.Verifiers[i], itoa(k), itoa(trainer.Checkpoints[k].Step), g4(dw),
				strconv.FormatBool(rp.with.Adopted[k]), g4(do), strconv.FormatBool(dw <= rtol), strconv.FormatBool(do <= rtol)})
			sw.X, sw.Y = append(sw.X, step), append(sw.Y, dw)
			so.X, so.Y = append(so.X, step), append(so.Y, do)
		}
		c6 = append(c6, sw, so)
	}
	t6.Note = fmt.Sprintf("largest distance over all verifier profiles and checkpoints: with gossip %.4g, without %.4g; replay tolerance %.4g = M x the segment tolerance %.4g (training-segments)", maxWith, maxWithout, rtol, tol)
	if err := WriteTable(r.Dir, t6); err != nil {
		return err
	}
	p6, err := LinePlot("Figure 6: verifiers' distance to the trainer", "step", "distance (embedding, L2)", c6, nil)
	if err != nil {
		return err
	}
	if err := SavePlot(r.Dir, Figure{Name: "figure6", Order: 51,
		Caption: fmt.Sprintf("Full replays on other profiles: distance to the trainer's checkpoint per checkpoint, with gossip sync every %d checkpoints (the verifier adopts the trainer's checkpoint when within tolerance) and without. %s", cfg.Gossip, t6.Note)}, p6); err != nil {
		return err
	}
	return RunTrainingCost(ctx, r, cfg)
}

// RunTrainingCost measures what a verifier pays: the trainer's whole run, then every segment's
// re-execution (load checkpoint k, check its digest and fingerprint, run K steps), all on the
// trainer's profile, one after the other in this process (so both see the same machine), and
// writes the training-cost table.
func RunTrainingCost(ctx context.Context, r *Run, cfg TrainingConfig) error {
	spec := train.Spec{Base: cfg.Base.Digest, Method: train.MethodTI, Dataset: cfg.Data.Digest(), Steps: cfg.Steps,
		Batch: cfg.Batch, LR: cfg.LR, Seed: cfg.Seed, Every: cfg.Every, Profile: cfg.DetProfiles[0]}
	start := time.Now()
	s, err := train.Train(ctx, spec, cfg.Base, cfg.Data, train.Options{})
	if err != nil {
		return err
	}
	total := time.Since(start).Seconds()
	t := &Table{Name: "training-cost", Order: 53, Columns: []string{"segment", "segment_seconds", "training_seconds", "fraction", "one_over_segments", "checkpoint_bytes"},
		Title: fmt.Sprintf("Cost of verifying one segment against the whole training (%d steps, %d segments, profile %s; wall time, one after the other, loaded machine)", spec.Steps, spec.Segments(), spec.Profile),
		Note:  "segment_seconds: loading checkpoint k from memory (SHA-256 and fingerprint checked), re-running K steps, comparing; the transfer of checkpoint_bytes over p2p is not included."}
	cs := s.Commitments()
	sum := 0.0
	for k := range spec.Segments() {
		st := time.Now()
		if _, err := train.VerifySegment(ctx, spec, cfg.Data, cs, k, s.Checkpoints[k].State, train.Options{}, 0); err != nil {
			return fmt.Errorf("study: training cost: honest segment %d: %w", k, err)
		}
		sec := time.Since(st).Seconds()
		sum += sec
		t.Rows = append(t.Rows, []string{itoa(k), f3(sec), f2(total), g4(sec / total), g4(1 / float64(spec.Segments())), itoa(len(s.Checkpoints[k].State))})
	}
	t.Note += fmt.Sprintf(" Mean fraction %.4g (1/segments %.4g); all segments together %.3g of the training.", sum/float64(spec.Segments())/total, 1/float64(spec.Segments()), sum/total)
	return WriteTable(r.Dir, t)
}

func g4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
