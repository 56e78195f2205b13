package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
)

// TI and LoRA settings of every run (the built-in variants' settings).
const (
	ConceptInit = "photo" // the vocabulary word a textual inversion's token starts from
	LoRARank    = 4
	LoRAAlpha   = 4
)

// Checkpoint is one committed point of a run: its step, the SHA-256 of its state (the
// diffusion trainer's checkpoint file: weights, AdamW moments, step, configuration), the
// vector fingerprint of its trainable weights, and the state itself.
type Checkpoint struct {
	Step        int
	Digest      engine.Digest
	Fingerprint []float32
	State       []byte
}

// Commitment is what a trainer commits to for one checkpoint (the state travels off-ledger).
type Commitment struct {
	Step        int
	Digest      engine.Digest
	Fingerprint []float32
}

// Commitment returns c without its state.
func (c *Checkpoint) Commitment() Commitment {
	return Commitment{Step: c.Step, Digest: c.Digest, Fingerprint: c.Fingerprint}
}

// Series is a run's checkpoints at steps 0, K, 2K, ..., Steps.
type Series struct {
	Spec        Spec
	Checkpoints []Checkpoint
}

// Commitments returns the series' commitments.
func (s *Series) Commitments() []Commitment {
	cs := make([]Commitment, len(s.Checkpoints))
	for i := range s.Checkpoints {
		cs[i] = s.Checkpoints[i].Commitment()
	}
	return cs
}

// Options are how one node runs a spec: its profile and run seed (which seed the switches
// that are on), and, for tests and the demo, a cheat.
type Options struct {
	Profile tensor.Profile // zero value: the spec's declared profile
	RunSeed uint64         // seeds the sources that are on (per run and machine)
	Cheat   Cheat
}

// Run is a training run in progress.
type Run struct {
	Spec Spec
	tr   *diffusion.Trainer
	in   *inputs
	opt  Options
	last *Checkpoint // FewerSteps: the last real checkpoint
}

// prepare returns base's model, cloned, with the spec's method applied.
func prepare(spec *Spec, base diffusion.Named) (*diffusion.Model, error) {
	if base.Digest != spec.Base {
		return nil, fmt.Errorf("train: base model %.12s, spec wants %.12s", base.Digest.String(), spec.Base.String())
	}
	m := base.Model.Clone()
	var err error
	switch spec.Method {
	case MethodTI:
		err = m.AddConcept(diffusion.ConceptToken, ConceptInit)
	case MethodLoRA:
		err = m.AddLoRA(LoRARank, LoRAAlpha, m.AttentionLayers(), spec.Seed)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return m, nil
}

func (spec *Spec) trainConfig(p tensor.Profile) diffusion.TrainConfig {
	return diffusion.TrainConfig{Batch: spec.Batch, Micro: spec.Micro, LR: spec.LR, Seed: spec.Seed, Profile: p}
}

func (o *Options) profile(spec *Spec) (tensor.Profile, error) {
	if o.Profile.Name != "" {
		return o.Profile, nil
	}
	return tensor.ProfileByName(spec.profileName())
}

// NewRun starts a run of spec at step 0 on base and data, whose digests must be the spec's.
func NewRun(spec Spec, base diffusion.Named, data *Dataset, opt Options) (*Run, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec.Method, _ = ParseMethod(spec.Method)
	if err := data.Validate(); err != nil {
		return nil, err
	}
	if d := data.Digest(); d != spec.Dataset {
		return nil, fmt.Errorf("train: dataset %.12s, spec wants %.12s", d.String(), spec.Dataset.String())
	}
	m, err := prepare(&spec, base)
	if err != nil {
		return nil, err
	}
	p, err := opt.profile(&spec)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	tr, err := diffusion.NewTrainer(m, &diffusion.Dataset{Images: data.Images, Labels: data.Labels}, spec.trainConfig(p))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return newRun(spec, tr, data, opt)
}

func newRun(spec Spec, tr *diffusion.Trainer, data *Dataset, opt Options) (*Run, error) {
	r := &Run{Spec: spec, tr: tr, opt: opt}
	inSpec := spec
	if opt.Cheat.Kind == OtherSeed {
		inSpec.Seed = opt.Cheat.Seed
	}
	in, err := newInputs(&inSpec, data, tr.Model, opt.RunSeed)
	if err != nil {
		return nil, err
	}
	r.in = in
	tr.Inputs = in.step
	return r, nil
}

// ResumeRun continues a run of spec from a checkpoint's state, on opt's profile. The state's
// recorded configuration must be the spec's (step a multiple of nothing in particular: any
// step, so that bisection can resume mid-segment).
func ResumeRun(spec Spec, state []byte, data *Dataset, opt Options) (*Run, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec.Method, _ = ParseMethod(spec.Method)
	tr, err := diffusion.ResumeTrainerBytes(state, "checkpoint", &diffusion.Dataset{Images: data.Images, Labels: data.Labels})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	want := spec.trainConfig(tr.Config.Profile)
	got := tr.Config
	if want.Micro == 0 {
		want.Micro = want.Batch
	}
	if got.Batch != want.Batch || got.Micro != want.Micro || got.LR != want.LR || got.Seed != want.Seed ||
		got.Warmup != 0 || got.WeightDecay != 0 || got.EMADecay != 0 || got.DropPrompt != 0 {
		return nil, fmt.Errorf("train: checkpoint at step %d records batch %d/%d, lr %g, seed %d; spec wants %d/%d, %g, %d",
			tr.Steps(), got.Batch, got.Micro, got.LR, got.Seed, want.Batch, want.Micro, want.LR, want.Seed)
	}
	p, err := opt.profile(&spec)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	tr.Config.Profile = p
	return newRun(spec, tr, data, opt)
}

// Close gives the run's working memory back to the process for the next run to reuse (see
// diffusion.Trainer.Close); the run stays usable. Runs that step should be closed when done.
func (r *Run) Close() { r.tr.Close() }

// Steps returns the steps done (or claimed, by a cheater who skips).
func (r *Run) Steps() int { return r.tr.Steps() }

// Step does one step (or what the run's cheat does instead).
func (r *Run) Step() {
	c := &r.opt.Cheat
	k := r.tr.Steps() // 0-based index of this step; the state after it is step k+1
	if c.Kind != None && k >= c.From {
		switch c.Kind {
		case SkipSteps:
			if (k-c.From)%2 == 0 {
				r.tr.Skip()
				return
			}
		case FewerSteps:
			r.tr.Skip()
			return
		case OtherLR:
			lr := r.tr.Config.LR
			r.tr.Config.LR = c.LR
			defer func() { r.tr.Config.LR = lr }()
		case NoiseWeights:
			defer func() {
				if k == c.From || (c.Every > 0 && (k-c.From)%c.Every == 0) {
					r.addNoise(k)
				}
			}()
		}
	}
	r.tr.Step()
}

// addNoise adds Gaussian noise of standard deviation Cheat.Noise to every trainable weight.
func (r *Run) addNoise(k int) {
	g := newRNG(r.opt.Cheat.Seed, uint64(k))
	for _, n := range r.tr.Trainable() {
		p := r.tr.Model.Param(n)
		z := make([]float32, p.Len())
		g.normals(z)
		for i := range z {
			p.Data[i] += float32(r.opt.Cheat.Noise * z[i])
		}
	}
}

// RunTo does steps until Steps() reaches step; ctx is checked between steps.
func (r *Run) RunTo(ctx context.Context, step int) error {
	for r.tr.Steps() < step {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Step()
	}
	return nil
}

// State returns the run's state (the diffusion trainer's checkpoint bytes).
func (r *Run) State() ([]byte, error) {
	var b bytes.Buffer
	if err := r.tr.WriteCheckpoint(&b); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return b.Bytes(), nil
}

// Checkpoint returns the run's checkpoint now.
func (r *Run) Checkpoint() (Checkpoint, error) {
	b, err := r.State()
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Step: r.tr.Steps(), Digest: sha256.Sum256(b), Fingerprint: fingerprint(&r.Spec, r.tr), State: b}, nil
}

// Train runs spec from step 0 to its end and returns its checkpoint series.
func Train(ctx context.Context, spec Spec, base diffusion.Named, data *Dataset, opt Options) (*Series, error) {
	r, err := NewRun(spec, base, data, opt)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Series(ctx)
}

// Series runs to the spec's end, keeping a checkpoint every K steps from the current step
// (which must be a multiple of K).
func (r *Run) Series(ctx context.Context) (*Series, error) {
	s := &Series{Spec: r.Spec}
	if r.Steps()%r.Spec.Every != 0 {
		return nil, fmt.Errorf("train: series from step %d, not a multiple of %d", r.Steps(), r.Spec.Every)
	}
	for step := r.Steps(); ; step += r.Spec.Every {
		if err := r.RunTo(ctx, step); err != nil {
			return nil, err
		}
		c := &r.opt.Cheat
		if c.Kind == FewerSteps && step > c.From && r.last != nil {
			s.Checkpoints = append(s.Checkpoints, *r.last) // stopped training: repeats itself
		} else {
			ck, err := r.Checkpoint()
			if err != nil {
				return nil, err
			}
			s.Checkpoints = append(s.Checkpoints, ck)
			r.last = &s.Checkpoints[len(s.Checkpoints)-1]
		}
		if step >= r.Spec.Steps {
			return s, nil
		}
	}
}

// fingerprint returns the vector fingerprint of the trainer's trainable weights: for a
// textual inversion the learned embedding itself; otherwise a fixed random projection
// (Achlioptas' +-1 signs, from the digest of the spec without its profile) of all trainable weights onto ProjDim
// dimensions, summed in float64 in canonical order and scaled by 1/sqrt(ProjDim).
func fingerprint(spec *Spec, tr *diffusion.Trainer) []float32 {
	if spec.Method == MethodTI {
		return append([]float32(nil), tr.Model.Param("text.ti_emb").Data...)
	}
	ps := *spec
	ps.Profile = "" // the projection must not depend on who trains: one per task
	d := ps.Digest()
	g := newRNG(seedOf(d), 0x9f)
	var acc [ProjDim]float64
	for _, n := range tr.Trainable() {
		for _, w := range tr.Model.Param(n).Data {
			bits := g.next()
			for j := range ProjDim {
				if bits>>j&1 == 1 {
					acc[j] += float64(w)
				} else {
					acc[j] -= float64(w)
				}
			}
		}
	}
	fp := make([]float32, ProjDim)
	for j, a := range acc {
		fp[j] = float32(a / math.Sqrt(ProjDim))
	}
	return fp
}

// ProjDim is the dimension of a LoRA or full fine-tune's fingerprint.
const ProjDim = 64

func seedOf(d engine.Digest) uint64 {
	var s uint64
	for _, b := range d[:8] {
		s = s<<8 | uint64(b)
	}
	return s
}

// Distance is the Euclidean distance between two fingerprints (math.Inf(1) when their
// lengths differ).
func Distance(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}
