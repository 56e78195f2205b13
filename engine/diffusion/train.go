package diffusion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// TrainConfig are the hyperparameters of a training run. Together with the model's initial
// weights and the data they fix every bit of the run.
type TrainConfig struct {
	Batch       int     // images per step
	Micro       int     // images per micro-batch; divides Batch (0 means Batch)
	LR          float32 // peak learning rate of AdamW
	Warmup      int     // steps of linear learning-rate warm-up
	WeightDecay float32 // decoupled weight decay per unit of LR
	EMADecay    float32 // decay of the exponential moving average of the weights; 0 = none
	DropPrompt  float32 // probability of training on the empty prompt (for guidance)
	Seed        uint64  // seeds the data order, timesteps, noise and prompt drops
	Profile     tensor.Profile
}

// DefaultTrainConfig returns the hyperparameters of the shipped base model.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Batch: 32, Micro: 8, LR: 1e-3, Warmup: 100, EMADecay: 0.999, DropPrompt: 0.1, Seed: 1, Profile: tensor.Exact}
}

// Validate reports whether tc is usable.
func (tc *TrainConfig) Validate() error {
	switch {
	case tc.Batch <= 0 || tc.Batch > 4096:
		return fmt.Errorf("diffusion: batch %d, want 1 to 4096", tc.Batch)
	case tc.Micro < 0 || (tc.Micro > 0 && tc.Batch%tc.Micro != 0):
		return fmt.Errorf("diffusion: micro-batch %d does not divide batch %d", tc.Micro, tc.Batch)
	case !(tc.LR > 0 && tc.LR < 1):
		return fmt.Errorf("diffusion: learning rate %g, want 0 < lr < 1", tc.LR)
	case tc.Warmup < 0 || tc.WeightDecay < 0 || !(tc.EMADecay >= 0 && tc.EMADecay < 1) || !(tc.DropPrompt >= 0 && tc.DropPrompt < 1):
		return fmt.Errorf("diffusion: warm-up %d, weight decay %g, EMA decay %g or prompt drop %g out of range", tc.Warmup, tc.WeightDecay, tc.EMADecay, tc.DropPrompt)
	}
	return tc.Profile.Validate()
}

// Adam's moment decays and epsilon (PyTorch's defaults).
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// Trainer trains a model by DDPM's simplified objective: pick images, a timestep t and noise
// eps, and minimise |eps - Eps(x_t, t, prompt)|^2 with AdamW. The optimiser is written here
// rather than taken from tensor.AdamW because a checkpoint must hold its moments, which
// tensor.AdamW keeps private; its update is the same formula. Step k's random draws come from
// their own stream (seed, k), so a run resumed from a checkpoint continues with exactly the
// bits of an uninterrupted one.
//
// A batch is cut into micro-batches of Config.Micro images, each run forward and backward on
// its own replica of the model (concurrently, up to GOMAXPROCS at a time); the gradient is the
// sum of the micro-batch gradients in micro-batch order, divided by their number. Which
// goroutine runs which micro-batch cannot change a bit, so a run gives the same weights on any
// number of cores; the micro-batch size can, and is part of the configuration.
type Trainer struct {
	Model  *Model
	Config TrainConfig

	data      *Dataset
	step      int
	m, v, ema map[string][]float32
	replicas  []*Model // one per micro-batch
	// arenas lend each replica's tape its memory, taken back at the replica's next step.
	// They come from the process's arena pool at the first Step and go back to it on Close.
	arenas []*tensor.Arena
	// trainable names the parameters the optimiser updates (all, unless a variant restricts it).
	trainable []string
	condIDs   [NumClasses][]int
	uncondIDs []int

	// Inputs, when not nil, replaces the trainer's own random draws: it returns step k's
	// clean images, noise, timesteps and prompt ids (package train builds them, one seeded
	// stream per source of randomness). It is not saved in a checkpoint: set it again after
	// ResumeTrainer.
	Inputs func(k int) StepInputs
}

// StepInputs are one training step's inputs, for Trainer.Inputs. X0 and Noise hold Batch
// images of ImageSize x ImageSize pixels each (X0 in [-1, 1]); T and IDs have Batch entries
// (timesteps in [0, Timesteps) and ContextLen token ids).
type StepInputs struct {
	X0, Noise []float32
	T         []int
	IDs       [][]int
}

// NewTrainer returns a trainer at step 0 for model m on data.
func NewTrainer(m *Model, data *Dataset, tc TrainConfig) (*Trainer, error) {
	if err := tc.Validate(); err != nil {
		return nil, err
	}
	if m.Config.ImageSize < SourceSize {
		return nil, fmt.Errorf("diffusion: train: image size %d below the data's %d", m.Config.ImageSize, SourceSize)
	}
	if data.Len() == 0 {
		return nil, errors.New("diffusion: train: no data")
	}
	t := &Trainer{Model: m, Config: tc, data: data, m: map[string][]float32{}, v: map[string][]float32{}, ema: map[string][]float32{}}
	if t.Config.Micro == 0 {
		t.Config.Micro = tc.Batch
	}
	t.trainable = m.Names()
	if m.only != nil {
		t.trainable = slices.Clone(m.only)
	}
	for range tc.Batch / t.Config.Micro {
		t.replicas = append(t.replicas, m.clone())
	}
	for _, n := range t.trainable {
		p := m.params[n]
		for _, r := range t.replicas {
			r.params[n].Param()
		}
		t.m[n] = make([]float32, p.Len())
		t.v[n] = make([]float32, p.Len())
		if tc.EMADecay > 0 {
			t.ema[n] = append([]float32(nil), p.Data...)
		}
	}
	for c := range NumClasses {
		t.condIDs[c] = m.TokenIDs(data.prompt(c))
	}
	t.uncondIDs = m.TokenIDs("")
	return t, nil
}

// Steps returns the number of steps done.
func (t *Trainer) Steps() int { return t.step }

// batch draws step k's training batch: noisy images x_t, the noise, the timesteps, the
// prompt ids.
func (t *Trainer) batch(k int) (xt, noise *tensor.Tensor, ts []int, ids [][]int) {
	c := &t.Model.Config
	size, b := c.ImageSize, t.Config.Batch
	if t.Inputs != nil {
		return t.inputs(k)
	}
	pad := (size - SourceSize) / 2
	r := newRNG(t.Config.Seed, uint64(k)+1)
	xt = tensor.New(b, 1, size, size)
	noise = tensor.New(b, 1, size, size)
	r.normals(noise.Data)
	ts = make([]int, b)
	ids = make([][]int, b)
	s := t.Model.sched
	for i := range b {
		j := r.intn(t.data.Len())
		ts[i] = r.intn(c.Timesteps)
		ids[i] = t.condIDs[t.data.Labels[j]]
		if r.uniform() <= t.Config.DropPrompt {
			ids[i] = t.uncondIDs
		}
		sa, s1 := s.sqrtAB[ts[i]], s.sqrt1mAB[ts[i]]
		img := t.data.Images[j*SourceSize*SourceSize : (j+1)*SourceSize*SourceSize]
		dst := xt.Data[i*size*size : (i+1)*size*size]
		nz := noise.Data[i*size*size : (i+1)*size*size]
		for y := range size {
			for x := range size {
				x0 := float32(-1)
				if sy, sx := y-pad, x-pad; sy >= 0 && sy < SourceSize && sx >= 0 && sx < SourceSize {
					x0 = float32(img[sy*SourceSize+sx])/127.5 - 1
				}
				dst[y*size+x] = float32(sa*x0) + float32(s1*nz[y*size+x])
			}
		}
	}
	return xt, noise, ts, ids
}

// inputs is batch with Trainer.Inputs: x_t = sqrt(alphaBar_t) x_0 + sqrt(1-alphaBar_t) eps.
func (t *Trainer) inputs(k int) (xt, noise *tensor.Tensor, ts []int, ids [][]int) {
	size, b := t.Model.Config.ImageSize, t.Config.Batch
	in := t.Inputs(k)
	n := size * size
	if len(in.X0) != b*n || len(in.Noise) != b*n || len(in.T) != b || len(in.IDs) != b {
		panic(fmt.Sprintf("diffusion: step %d inputs: %d pixels, %d noise, %d timesteps, %d prompts for a batch of %d images of %d pixels",
			k, len(in.X0), len(in.Noise), len(in.T), len(in.IDs), b, n))
	}
	xt = tensor.New(b, 1, size, size)
	noise = tensor.FromData(slices.Clone(in.Noise), b, 1, size, size)
	s := t.Model.sched
	for i, ti := range in.T {
		if ti < 0 || ti >= t.Model.Config.Timesteps || len(in.IDs[i]) != t.Model.Config.ContextLen {
			panic(fmt.Sprintf("diffusion: step %d inputs: timestep %d or %d prompt ids out of range", k, ti, len(in.IDs[i])))
		}
		sa, s1 := s.sqrtAB[ti], s.sqrt1mAB[ti]
		for j := i * n; j < (i+1)*n; j++ {
			xt.Data[j] = float32(sa*in.X0[j]) + float32(s1*in.Noise[j])
		}
	}
	return xt, noise, slices.Clone(in.T), in.IDs
}

// arenaPool keeps the arenas of closed trainers for the next ones in the process, so that a
// node's second training or segment check reuses the memory its first one faulted in instead
// of touching fresh pages again (see Trainer.Close). Every buffer an arena lends is zeroed, so
// which arena a trainer gets cannot change a bit. At most maxPooledArenas are kept; each holds
// the buffers of the last steps it served (tens of MB for the built-in models).
var arenaPool struct {
	sync.Mutex
	free []*tensor.Arena
}

// maxPooledArenas bounds the arenas kept between trainers: enough for a few concurrent
// trainers' micro-batch replicas.
const maxPooledArenas = 16

// takeArena returns a pooled arena, or a new one when none is free.
func takeArena() *tensor.Arena {
	arenaPool.Lock()
	defer arenaPool.Unlock()
	if n := len(arenaPool.free); n > 0 {
		a := arenaPool.free[n-1]
		arenaPool.free[n-1] = nil
		arenaPool.free = arenaPool.free[:n-1]
		return a
	}
	return tensor.NewArena()
}

// Close gives the trainer's arenas back to the process's pool, for the next trainer to reuse.
// The trainer stays usable (its next Step takes arenas again); tensors its tapes made must not
// be used after Close (none escape Step). Not calling Close only forgoes the reuse.
func (t *Trainer) Close() {
	arenaPool.Lock()
	defer arenaPool.Unlock()
	for _, a := range t.arenas {
		a.Reset()
		if len(arenaPool.free) < maxPooledArenas {
			arenaPool.free = append(arenaPool.free, a)
		}
	}
	t.arenas = nil
}

// Skip advances the step counter without training: what a node that skips work claims.
// Package train plays such a cheater with it in tests; honest code never calls it.
func (t *Trainer) Skip() { t.step++ }

// Trainable returns the names of the parameters the trainer updates, in canonical order.
func (t *Trainer) Trainable() []string { return slices.Clone(t.trainable) }

// Step does one training step and returns its loss (before the update): the mean of the
// micro-batch losses, in order.
func (t *Trainer) Step() float32 {
	xt, noise, ts, ids := t.batch(t.step)
	k, mb := len(t.replicas), t.Config.Micro
	for len(t.arenas) < k {
		t.arenas = append(t.arenas, takeArena())
	}
	per := xt.Len() / t.Config.Batch * mb
	losses := make([]float32, k)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, r := range t.replicas {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, n := range t.trainable {
				p := r.params[n]
				copy(p.Data, t.Model.params[n].Data)
				p.ZeroGrad()
			}
			shape := slices.Clone(xt.Shape)
			shape[0] = mb
			x := tensor.FromData(xt.Data[i*per:(i+1)*per], shape...)
			y := tensor.FromData(noise.Data[i*per:(i+1)*per], shape...)
			a := t.arenas[i]
			a.Reset() // the previous step's tensors are dead: its gradients were summed
			tp := tensor.NewTape(t.Config.Profile).WithArena(a)
			loss := tp.MSE(r.Eps(tp, x, ts[i*mb:(i+1)*mb], ids[i*mb:(i+1)*mb]), y)
			tp.Backward(loss)
			losses[i] = loss.Item()
		})
	}
	wg.Wait()
	inv := 1 / float32(k)
	for _, n := range t.trainable {
		var g []float32
		for _, r := range t.replicas {
			rg := r.params[n].Grad
			if rg == nil {
				continue
			}
			if g == nil {
				g = slices.Clone(rg)
				continue
			}
			for j, v := range rg {
				g[j] += v
			}
		}
		for j := range g {
			g[j] = float32(g[j] * inv)
		}
		t.Model.params[n].Grad = g
	}
	t.update()
	for _, n := range t.trainable {
		t.Model.params[n].ZeroGrad()
	}
	t.step++
	var sum float32
	for _, l := range losses {
		sum += l
	}
	return float32(sum * inv)
}

// update applies AdamW and the EMA for step t.step (0-based).
func (t *Trainer) update() {
	k := t.step + 1
	b1t, b2t := 1.0, 1.0
	for range k {
		b1t = float64(b1t * adamBeta1)
		b2t = float64(b2t * adamBeta2)
	}
	c1, c2 := float32(1-b1t), float32(1-b2t)
	lr := t.Config.LR
	if t.Config.Warmup > 0 && k < t.Config.Warmup {
		lr = float32(lr*float32(k)) / float32(t.Config.Warmup)
	}
	decay := 1 - float32(lr*t.Config.WeightDecay)
	ed := t.Config.EMADecay
	if f := float32(1+t.step) / float32(10+t.step); f < ed {
		ed = f
	}
	for _, n := range t.trainable {
		p := t.Model.params[n]
		if p.Grad == nil {
			continue
		}
		m, v := t.m[n], t.v[n]
		for i, g := range p.Grad {
			m[i] = float32(adamBeta1*m[i]) + float32((1-adamBeta1)*g)
			v[i] = float32(adamBeta2*v[i]) + float32(float32((1-adamBeta2)*g)*g)
			upd := (m[i] / c1) / (float32(math.Sqrt(float64(v[i]/c2))) + adamEps)
			p.Data[i] = float32(p.Data[i]*decay) - float32(lr*upd)
		}
		if e := t.ema[n]; e != nil {
			for i, x := range p.Data {
				e[i] = float32(ed*e[i]) + float32((1-ed)*x)
			}
		}
	}
}

// Run does steps until Steps() reaches total, calling progress (when not nil) after each with
// the step count and loss, and checkpoint (when not nil) every every steps and at the end.
// It returns ctx's error when ctx ends, between steps.
func (t *Trainer) Run(ctx context.Context, total, every int, progress func(step int, loss float32), checkpoint func() error) error {
	for t.step < total {
		if err := ctx.Err(); err != nil {
			return err
		}
		loss := t.Step()
		if progress != nil {
			progress(t.step, loss)
		}
		if checkpoint != nil && ((every > 0 && t.step%every == 0) || t.step == total) {
			if err := checkpoint(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Weights returns the model to ship: the EMA of the weights when the run keeps one, else the
// live weights, as a new model sharing nothing with the trainer.
func (t *Trainer) Weights() *Model {
	m := t.Model.clone()
	if len(t.ema) > 0 {
		for _, n := range t.trainable {
			copy(m.params[n].Data, t.ema[n])
		}
	}
	return m
}

// Clone returns a deep copy of m's parameters (not of gradients), as plain tensors, with its
// variant (adapters, trainable set).
func (m *Model) Clone() *Model { return m.clone() }

// clone returns a deep copy of m's parameters (not of gradients), as plain tensors.
func (m *Model) clone() *Model {
	c := &Model{Config: m.Config, Vocab: append([]string(nil), m.Vocab...), params: map[string]*tensor.Tensor{}, sched: m.sched, lora: m.lora, only: m.only}
	for _, n := range m.names {
		c.add(n, m.params[n].Clone())
	}
	return c
}

// Checkpoint metadata keys.
const (
	keyStep   = "training.step"
	keySeed   = "training.seed"
	keyBatch  = "training.batch"
	keyMicro  = "training.micro_batch"
	keyLR     = "training.lr"
	keyWarmup = "training.warmup"
	keyWD     = "training.weight_decay"
	keyEMA    = "training.ema_decay"
	keyDrop   = "training.drop_prompt"
	keyProf   = "training.profile"
	keyOnly   = "training.only"
)

// WriteCheckpoint writes the full training state as GGUF: the model's metadata and live
// weights (so a checkpoint also loads as a model), the training configuration and step, and
// the tensors "adam.m.NAME", "adam.v.NAME" and "ema.NAME".
func (t *Trainer) WriteCheckpoint(w io.Writer) error {
	tc := &t.Config
	kvs := append(append(t.Model.configKVs(), t.Model.variantKVs()...),
		gguf.KV{Key: keyStep, Value: uint64(t.step)},
		gguf.KV{Key: keySeed, Value: tc.Seed},
		gguf.KV{Key: keyBatch, Value: uint32(tc.Batch)},
		gguf.KV{Key: keyMicro, Value: uint32(tc.Micro)},
		gguf.KV{Key: keyLR, Value: tc.LR},
		gguf.KV{Key: keyWarmup, Value: uint32(tc.Warmup)},
		gguf.KV{Key: keyWD, Value: tc.WeightDecay},
		gguf.KV{Key: keyEMA, Value: tc.EMADecay},
		gguf.KV{Key: keyDrop, Value: tc.DropPrompt},
		gguf.KV{Key: keyProf, Value: tc.Profile.Name},
	)
	if t.Model.only != nil {
		kvs = append(kvs, gguf.KV{Key: keyOnly, Value: gguf.Array{Type: gguf.TypeString, Values: slices.Clone(t.Model.only)}})
	}
	ts := t.Model.weightTensors()
	for _, n := range t.trainable {
		shape := t.Model.params[n].Shape
		ts = append(ts, f32Tensor("adam.m."+n, tensor.FromData(t.m[n], shape...)),
			f32Tensor("adam.v."+n, tensor.FromData(t.v[n], shape...)))
		if e := t.ema[n]; e != nil {
			ts = append(ts, f32Tensor("ema."+n, tensor.FromData(e, shape...)))
		}
	}
	return gguf.Write(w, kvs, ts)
}

// SaveCheckpoint writes the checkpoint to path atomically.
func (t *Trainer) SaveCheckpoint(path string) error {
	return writeFileAtomic(path, t.WriteCheckpoint)
}

// ResumeTrainer restores a trainer from a checkpoint written by SaveCheckpoint, to continue on
// data (which must be the data of the original run, prompts included, for the same bits). A
// variant's checkpoint (LoRA, textual inversion) resumes training only the variant's
// parameters.
func ResumeTrainer(path string, data *Dataset) (*Trainer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return resume(f, path, data)
}

// ResumeTrainerBytes is ResumeTrainer on a checkpoint held in memory (WriteCheckpoint's
// bytes); name names it in errors.
func ResumeTrainerBytes(b []byte, name string, data *Dataset) (*Trainer, error) {
	f, err := readBytes(b)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", name, err)
	}
	return resume(f, name, data)
}

func resume(f *gguf.File, path string, data *Dataset) (*Trainer, error) {
	m, err := ReadGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", path, err)
	}
	var tc TrainConfig
	bad := func(err error) (*Trainer, error) {
		return nil, fmt.Errorf("resume %s: %w: %w", path, ErrFormat, err)
	}
	step, err := f.Int64(keyStep)
	if err != nil {
		return bad(err)
	}
	seed, ok := f.Value(keySeed)
	if tc.Seed, _ = seed.(uint64); !ok {
		return bad(fmt.Errorf("no %s", keySeed))
	}
	batch, err1 := f.Uint32(keyBatch)
	warm, err2 := f.Uint32(keyWarmup)
	micro, err7 := f.Uint32(keyMicro)
	tc.Micro = int(micro)
	tc.LR, err = f.Float32(keyLR)
	tc.Batch, tc.Warmup = int(batch), int(warm)
	var err3, err4, err5 error
	tc.WeightDecay, err3 = f.Float32(keyWD)
	tc.EMADecay, err4 = f.Float32(keyEMA)
	tc.DropPrompt, err5 = f.Float32(keyDrop)
	pname, err6 := f.String(keyProf)
	if err := errors.Join(err, err1, err2, err3, err4, err5, err6, err7); err != nil {
		return bad(err)
	}
	if tc.Profile, err = tensor.ProfileByName(pname); err != nil {
		return bad(err)
	}
	if _, ok := f.Value(keyOnly); ok {
		only, err := f.Strings(keyOnly)
		if err != nil {
			return bad(err)
		}
		for _, n := range only {
			if m.params[n] == nil {
				return bad(fmt.Errorf("trainable parameter %q not in the model", n))
			}
		}
		m.only = slices.Clone(only)
	}
	t, err := NewTrainer(m, data, tc)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", path, err)
	}
	t.step = int(step)
	for _, n := range t.trainable {
		shape := m.params[n].Shape
		for prefix, dst := range map[string]map[string][]float32{"adam.m.": t.m, "adam.v.": t.v, "ema.": t.ema} {
			if prefix == "ema." && tc.EMADecay == 0 {
				continue
			}
			x, err := readF32(f, prefix+n, shape)
			if err != nil {
				return nil, fmt.Errorf("resume %s: %w", path, err)
			}
			dst[n] = x.Data
		}
	}
	return t, nil
}
