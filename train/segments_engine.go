package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
)

// The Engine's side of training tasks with segment verification (ledger.VerifySegments): the
// node daemon calls these for the trainer, the verifiers and the disputes' sides and referee.
// The task's Profile is the trainer's declared profile throughout (the spec's); a verifier's
// own profile is passed on its own.

// ParseCheat returns a trainer's cheat by name (for tests and demos of a network): "" or
// "honest", or skip-steps, fewer-steps, other-lr, other-seed, noise-weights, copy, with
// parameters fixed relative to the spec (cheating from the second segment where a step
// matters, another lr twice the spec's, another seed, noise of 0.01, another concept's run).
func ParseCheat(name string, spec *Spec) (Cheat, error) {
	from := spec.Every
	switch name {
	case "", "honest":
		return Cheat{}, nil
	case "skip-steps":
		return Cheat{Kind: SkipSteps, From: from}, nil
	case "fewer-steps":
		return Cheat{Kind: FewerSteps, From: from}, nil
	case "other-lr":
		return Cheat{Kind: OtherLR, LR: 2 * spec.LR}, nil
	case "other-seed":
		return Cheat{Kind: OtherSeed, Seed: spec.Seed ^ 0x9e3779b97f4a7c15}, nil
	case "noise-weights":
		return Cheat{Kind: NoiseWeights, From: from + 1, Noise: 0.01, Seed: 1}, nil
	case "copy":
		return Cheat{Kind: CopySeries}, nil
	}
	return Cheat{}, fmt.Errorf("train: unknown cheat %q", name)
}

// segmentSetup returns the spec, base and dataset of a training task.
func (e *Engine) segmentSetup(task engine.Task) (Spec, diffusion.Named, *Dataset, error) {
	spec, err := e.SpecOf(task)
	if err != nil {
		return Spec{}, diffusion.Named{}, nil, err
	}
	var base diffusion.Named
	found := false
	for _, b := range e.bases {
		if b.Name == task.Model.Name && (task.Model.Digest.IsZero() || b.Digest == task.Model.Digest) {
			base, found = b, true
		}
	}
	if !found {
		return Spec{}, diffusion.Named{}, nil, fmt.Errorf("%w: train engine: model %s", engine.ErrUnsupported, task.Model)
	}
	spec.Base = base.Digest
	e.mu.RLock()
	data := e.datasets[spec.Dataset]
	e.mu.RUnlock()
	if data == nil {
		return Spec{}, diffusion.Named{}, nil, fmt.Errorf("%w: train engine: dataset %.12s not held here", engine.ErrUnsupported, spec.Dataset.String())
	}
	return spec, base, data, nil
}

// FingerprintDim returns the length of a training task's fingerprints (the ledger's series
// layout needs it).
func (e *Engine) FingerprintDim(task engine.Task) (int, error) {
	spec, base, data, err := e.segmentSetup(task)
	if err != nil {
		return 0, err
	}
	r, err := NewRun(spec, base, data, Options{})
	if err != nil {
		return 0, err
	}
	return len(fingerprint(&r.Spec, r.tr)), nil
}

// TrainSeries trains the task as its trainer, with cheat (a ParseCheat name; "" honest), and
// returns the series for the ledger (LedgerSeries) and every checkpoint's state. A copier
// ("copy") trains another concept (the dataset's images inverted) and commits that run's
// checkpoints: it stands for a trainer that fetched another's series.
func (e *Engine) TrainSeries(ctx context.Context, task engine.Task, cheat string) ([]byte, [][]byte, error) {
	spec, base, data, err := e.segmentSetup(task)
	if err != nil {
		return nil, nil, err
	}
	c, err := ParseCheat(cheat, &spec)
	if err != nil {
		return nil, nil, err
	}
	var s *Series
	if c.Kind == CopySeries {
		other := &Dataset{Images: append([]uint8(nil), data.Images...), Labels: data.Labels}
		for i := range other.Images {
			other.Images[i] = 255 - other.Images[i]
		}
		os := spec
		os.Dataset = other.Digest()
		o, err := Train(ctx, os, base, other, Options{})
		if err != nil {
			return nil, nil, err
		}
		s = Copy(spec, o)
	} else if s, err = Train(ctx, spec, base, data, Options{Cheat: c}); err != nil {
		return nil, nil, err
	}
	states := make([][]byte, len(s.Checkpoints))
	for i := range s.Checkpoints {
		states[i] = s.Checkpoints[i].State
	}
	return LedgerSeries(s.Commitments()), states, nil
}

// VerifySegment is a verifier's check of segment k of a series revealed on the ledger
// (VerifyLedgerSegment) on profile, from the fetched state of checkpoint k, under the engine's
// Tolerance, widened for segment 0 by FirstSegmentLRs (SegmentTolerance). It returns ok false
// and the reason when it rejects the trainer's work.
func (e *Engine) VerifySegment(ctx context.Context, task engine.Task, profile string, series []byte, k int, state []byte) (bool, string, error) {
	spec, base, data, err := e.segmentSetup(task)
	if err != nil {
		return false, "", err
	}
	opt, err := optionsFor(profile)
	if err != nil {
		return false, "", err
	}
	if e.Tolerance <= 0 {
		return false, "", errors.New("train: engine has no segment tolerance")
	}
	_, err = VerifyLedgerSegment(ctx, spec, base, data, series, k, state, opt, SegmentTolerance(&spec, k, e.Tolerance, e.FirstSegmentLRs))
	if errors.Is(err, ErrRejected) {
		return false, err.Error(), nil
	}
	return err == nil, "", err
}

// StateAt replays the task under its declared profile from start (a state; nil: the initial
// state) to step, as the trainer with cheat would (a ParseCheat name; a copier replays
// honestly from its copied checkpoint), and returns the state: a side's answer in a dispute,
// and the referee's re-execution.
func (e *Engine) StateAt(ctx context.Context, task engine.Task, start []byte, step int, cheat string) ([]byte, error) {
	spec, base, data, err := e.segmentSetup(task)
	if err != nil {
		return nil, err
	}
	c, err := ParseCheat(cheat, &spec)
	if err != nil {
		return nil, err
	}
	if c.Kind == CopySeries {
		c = Cheat{}
	}
	var r *Run
	if start == nil {
		r, err = NewRun(spec, base, data, Options{Cheat: c})
	} else {
		r, err = ResumeRun(spec, start, data, Options{Cheat: c})
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if step < r.Steps() {
		return nil, fmt.Errorf("train: state at step %d before the start %d", step, r.Steps())
	}
	if err := r.RunTo(ctx, step); err != nil {
		return nil, err
	}
	return r.State()
}

// optionsFor returns the options of a run on the named profile ("" the declared one).
func optionsFor(profile string) (Options, error) {
	if profile == "" {
		return Options{}, nil
	}
	p, err := tensor.ProfileByName(profile)
	if err != nil {
		return Options{}, fmt.Errorf("train: %w", err)
	}
	return Options{Profile: p}, nil
}

// FingerprintDimOf returns the length of the fingerprints of a method's runs on base: the
// textual-inversion embedding's width, or ProjDim for lora and full.
func FingerprintDimOf(base diffusion.Named, method string) (int, error) {
	m, err := ParseMethod(method)
	if err != nil {
		return 0, err
	}
	if m != MethodTI {
		return ProjDim, nil
	}
	spec := Spec{Base: base.Digest, Method: m}
	model, err := prepare(&spec, base)
	if err != nil {
		return 0, err
	}
	p := model.Param("text.ti_emb")
	if p == nil {
		return 0, fmt.Errorf("train: %s has no textual-inversion row", base.Name)
	}
	return len(p.Data), nil
}

// HasDataset reports whether the engine holds the dataset with digest d.
func (e *Engine) HasDataset(d engine.Digest) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.datasets[d] != nil
}

// AddDatasetBytes decodes a dataset's canonical encoding (Dataset.Encode, as nodes exchange
// it over p2p by its digest) and adds it; it returns the digest.
func (e *Engine) AddDatasetBytes(b []byte) (engine.Digest, error) {
	d, err := DecodeDataset(b)
	if err != nil {
		return engine.Digest{}, err
	}
	return d.Digest(), e.AddDataset(d)
}

// DatasetBytes returns the canonical encodings of the datasets held, in digest order.
func (e *Engine) DatasetBytes() [][]byte {
	e.mu.RLock()
	defer e.mu.RUnlock()
	keys := make([]engine.Digest, 0, len(e.datasets))
	for k := range e.datasets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b engine.Digest) int { return bytes.Compare(a[:], b[:]) })
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = e.datasets[k].Encode()
	}
	return out
}
