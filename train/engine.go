package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
)

// MediaTypeFingerprint marks a training artifact: what the run learned, the final checkpoint's
// fingerprint minus the initial one's, as little-endian float32s (what fingerprint's
// vector:simhash/<bits> scheme reads). The difference, not the final vector: a SimHash compares
// angles, and a short fine-tune barely turns the weights themselves.
const MediaTypeFingerprint = "application/x-genquorum-fingerprint-f32"

// Engine runs training tasks (engine.KindTrain) on diffusion base models and datasets held
// locally, all switches off (a pure function of the task under one profile). engine.TrainParams
// carries method, steps, checkpoint interval and dataset; batch and learning rate are the
// engine's (Batch, and LRTI or LR by method) until tasks carry them. The artifact is the learned
// change of the fingerprint (MediaTypeFingerprint); Info records the spec digest, the series root and the
// final checkpoint's digest. This is the full-replication mode: every executor trains the
// whole task and the ledger compares SimHash sketches of the final fingerprints. Tasks with
// segment verification (ledger.VerifySegments) use TrainSeries, VerifySegment and StateAt.
type Engine struct {
	Batch    int
	LRTI, LR float32
	// Tolerance is the largest fingerprint distance a verifier accepts between its
	// re-executed checkpoint and the committed one (segment verification; calibrate it from
	// honest runs across profiles, see SegmentDrift). 0: this engine does not verify.
	Tolerance float64
	// FirstSegmentLRs widens the tolerance of segment 0 to at least this many learning rates
	// of the task (SegmentTolerance: AdamW's first step flips near-zero gradients' updates
	// between profiles). 0: no widening.
	FirstSegmentLRs float64
	bases           []diffusion.Named
	mu              sync.RWMutex
	datasets        map[engine.Digest]*Dataset
}

// NewEngine returns an engine serving bases (unique names) and datasets.
func NewEngine(bases []diffusion.Named, datasets ...*Dataset) (*Engine, error) {
	seen := map[string]bool{}
	for _, b := range bases {
		if b.Name == "" || seen[b.Name] {
			return nil, fmt.Errorf("train: base model name %q empty or repeated", b.Name)
		}
		seen[b.Name] = true
	}
	e := &Engine{Batch: 4, LRTI: 0.01, LR: 2e-4, bases: append([]diffusion.Named(nil), bases...), datasets: map[engine.Digest]*Dataset{}}
	for _, d := range datasets {
		if err := e.AddDataset(d); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// AddDataset makes d available to tasks that name its digest.
func (e *Engine) AddDataset(d *Dataset) error {
	if err := d.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.datasets[d.Digest()] = d
	return nil
}

// Name returns "train".
func (e *Engine) Name() string { return "train" }

// Kinds returns the one kind the engine runs: train.
func (e *Engine) Kinds() []engine.Kind { return []engine.Kind{engine.KindTrain} }

// Models lists the base models.
func (e *Engine) Models() []engine.ModelRef {
	refs := make([]engine.ModelRef, len(e.bases))
	for i, b := range e.bases {
		refs[i] = engine.ModelRef{Name: b.Name, Digest: b.Digest}
	}
	return refs
}

// SpecOf returns the spec of a training task under this engine's batch and learning rates.
func (e *Engine) SpecOf(task engine.Task) (Spec, error) {
	if task.Kind != engine.KindTrain || task.Train == nil {
		return Spec{}, fmt.Errorf("%w: train engine: %s task", engine.ErrUnsupported, task.Kind)
	}
	p := task.Train
	method, err := ParseMethod(p.Method)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %w", engine.ErrInvalidTask, err)
	}
	every := p.Checkpoint
	if every == 0 {
		every = p.Steps
	}
	lr := e.LR
	if method == MethodTI {
		lr = e.LRTI
	}
	s := Spec{Base: task.Model.Digest, Method: method, Dataset: p.Dataset, Steps: p.Steps, Batch: e.Batch, LR: lr,
		Seed: task.Seed, Every: every, Profile: task.Profile}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", engine.ErrInvalidTask, err)
	}
	return s, nil
}

// Run trains the task and returns the final fingerprint.
func (e *Engine) Run(ctx context.Context, task engine.Task) (*engine.Artifact, error) {
	if err := task.Validate(); err != nil {
		return nil, err
	}
	spec, err := e.SpecOf(task)
	if err != nil {
		return nil, err
	}
	var base diffusion.Named
	found := false
	for _, b := range e.bases {
		if b.Name == task.Model.Name && (task.Model.Digest.IsZero() || b.Digest == task.Model.Digest) {
			base, found = b, true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: train engine: model %s", engine.ErrUnsupported, task.Model)
	}
	spec.Base = base.Digest
	e.mu.RLock()
	data := e.datasets[spec.Dataset]
	e.mu.RUnlock()
	if data == nil {
		return nil, fmt.Errorf("%w: train engine: dataset %.12s not held here", engine.ErrUnsupported, spec.Dataset.String())
	}
	s, err := Train(ctx, spec, base, data, Options{})
	if err != nil {
		return nil, err
	}
	last, first := s.Checkpoints[len(s.Checkpoints)-1], s.Checkpoints[0]
	b := make([]byte, 0, 4*len(last.Fingerprint))
	for i, x := range last.Fingerprint {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x-first.Fingerprint[i]))
	}
	return &engine.Artifact{MediaType: MediaTypeFingerprint, Data: b, Info: map[string]string{
		"engine": "train/1", "profile": spec.profileName(), "spec": spec.Digest().String(),
		"series_root": SeriesRoot(&spec, s.Commitments()).String(), "checkpoint": last.Digest.String(),
		"batch": fmt.Sprint(spec.Batch), "lr": fmt.Sprint(spec.LR)}}, nil
}
