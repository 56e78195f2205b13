package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// The training methods, by engine.TrainParams' names ("textual-inversion" is accepted for ti).
const (
	MethodTI   = "ti"   // textual inversion: one new token's embedding row
	MethodLoRA = "lora" // rank-4 adapters on the cross-attention projections
	MethodFull = "full" // every weight
)

// ParseMethod returns the canonical method name.
func ParseMethod(s string) (string, error) {
	switch strings.ToLower(s) {
	case MethodTI, "textual-inversion":
		return MethodTI, nil
	case MethodLoRA:
		return MethodLoRA, nil
	case MethodFull:
		return MethodFull, nil
	}
	return "", fmt.Errorf("train: method %q: want ti, lora or full", s)
}

// Source is one source of randomness of a training run.
type Source int

// The sources. The first six are the paper's switches; PromptDrop is a further source (the
// prompt dropout of classifier-free guidance). The micro-batch size is a further source of
// different bits that is not random: it fixes how a batch's gradient is summed, so it is a
// field of the Spec, not a switch.
const (
	Flip        Source = iota // horizontal flip of each image with probability 1/2
	Template                  // the prompt template of each image (TemplatesTI)
	Shuffle                   // the order of the data: a permutation per epoch
	SampleNoise               // stands for the VAE's latent sample: uniform dequantisation noise on x_0's pixels
	Timestep                  // the diffusion timestep t of each image
	SchedNoise                // the noise scheduler's eps in x_t = sqrt(ab_t) x_0 + sqrt(1-ab_t) eps
	PromptDrop                // replacing the prompt by the empty one with probability Spec.DropPrompt
	NumSources
)

var sourceNames = [NumSources]string{"flip", "template", "shuffle", "sample-noise", "timestep", "sched-noise", "prompt-drop"}

func (s Source) String() string {
	if s >= 0 && s < NumSources {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", int(s))
}

// ParseSource returns the source called name.
func ParseSource(name string) (Source, error) {
	for i, n := range sourceNames {
		if n == name {
			return Source(i), nil
		}
	}
	return 0, fmt.Errorf("train: randomness source %q: want one of %s", name, strings.Join(sourceNames[:], ", "))
}

// Switches says which sources are on. Off, a source is seeded from the task (Spec.Seed): the
// run is a pure function of the spec. On, it is seeded from the run (RunSeed: per run and per
// machine), as an ordinary training script would.
type Switches [NumSources]bool

// Any reports whether some source is on.
func (w Switches) Any() bool {
	for _, on := range w {
		if on {
			return true
		}
	}
	return false
}

// String lists the sources that are on ("none" when none is).
func (w Switches) String() string {
	var on []string
	for s, v := range w {
		if v {
			on = append(on, Source(s).String())
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, "+")
}

// Spec is a training task: everything that fixes a deterministic run's bits, given the
// profile it runs under.
type Spec struct {
	Base       engine.Digest // the base model's digest
	Method     string        // MethodTI, MethodLoRA or MethodFull
	Dataset    engine.Digest // the dataset's digest
	Steps      int           // total steps; a multiple of Every
	Batch      int           // images per step
	Micro      int           // images per micro-batch (0: Batch); part of the spec since it changes bits
	LR         float32       // AdamW's learning rate (constant, no warm-up)
	Seed       uint64        // the task seed: seeds every source that is off
	Every      int           // K: steps between checkpoints
	DropPrompt float32       // prompt-dropout probability (0: none)
	Switches   Switches      // sources seeded from the run instead of the task
	// Profile is the numeric profile the trainer declares: checkpoints commit to states under
	// it, and a dispute replays steps under it bit for bit. Verifiers may run other profiles
	// (judged within tolerance).
	Profile string
}

// Limits on a spec, so that a task cannot ask for unbounded work.
const (
	MaxSteps = 1_000_000
	MaxBatch = 1024
)

// Validate reports whether s is usable.
func (s *Spec) Validate() error {
	if _, err := ParseMethod(s.Method); err != nil {
		return err
	}
	switch {
	case s.Steps <= 0 || s.Steps > MaxSteps:
		return fmt.Errorf("train: %d steps, want 1 to %d", s.Steps, MaxSteps)
	case s.Every <= 0 || s.Steps%s.Every != 0:
		return fmt.Errorf("train: checkpoint interval %d does not divide %d steps", s.Every, s.Steps)
	case s.Batch <= 0 || s.Batch > MaxBatch:
		return fmt.Errorf("train: batch %d, want 1 to %d", s.Batch, MaxBatch)
	case s.Micro < 0 || (s.Micro > 0 && s.Batch%s.Micro != 0):
		return fmt.Errorf("train: micro-batch %d does not divide batch %d", s.Micro, s.Batch)
	case !(s.LR > 0 && s.LR < 1):
		return fmt.Errorf("train: learning rate %g, want 0 < lr < 1", s.LR)
	case !(s.DropPrompt >= 0 && s.DropPrompt < 1):
		return fmt.Errorf("train: prompt dropout %g, want 0 to 1", s.DropPrompt)
	}
	if _, err := tensor.ProfileByName(s.profileName()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

func (s *Spec) profileName() string {
	if s.Profile == "" {
		return tensor.Exact.Name
	}
	return s.Profile
}

// Checkpoints returns the number of checkpoints of a run: step 0, K, 2K, ..., Steps.
func (s *Spec) Checkpoints() int { return s.Steps/s.Every + 1 }

// Segments returns the number of segments (checkpoint intervals).
func (s *Spec) Segments() int { return s.Steps / s.Every }

// Digest returns the SHA-256 of the spec's canonical encoding: what seeds the fingerprint
// projection and names the task.
func (s *Spec) Digest() engine.Digest {
	b := []byte("gqtrain1")
	b = append(b, s.Base[:]...)
	b = append(b, s.Dataset[:]...)
	b = append(b, byte(len(s.Method)))
	b = append(b, s.Method...)
	for _, v := range []uint64{uint64(s.Steps), uint64(s.Batch), uint64(s.Micro), uint64(math.Float32bits(s.LR)),
		s.Seed, uint64(s.Every), uint64(math.Float32bits(s.DropPrompt))} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	for _, on := range s.Switches {
		if on {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	p := s.profileName()
	b = append(b, byte(len(p)))
	b = append(b, p...)
	return sha256.Sum256(b)
}

// sourceSeed returns the seed of source src: from the task when the switch is off, from the
// run when it is on.
func (s *Spec) sourceSeed(src Source, runSeed uint64) uint64 {
	if s.Switches[src] {
		return mix(runSeed, 0x7275_6e00+uint64(src))
	}
	return mix(s.Seed, 0x7461_736b_00+uint64(src))
}
