package diffusion

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image"
	"math"

	"github.com/genquorum/genquorum/tensor"
)

// Trajectory verification. An executor commits, with its image, the digests of the sampler's
// state (the pixel-space latent of this model) at a few steps of the sampling: At[0] = 0 (the
// seed's noise), ..., At[len-1] = Steps (the final state, whose rounding is the image). A spot
// verifier takes one segment [At[k], At[k+1]), fetches the two committed states (checking them
// against the digests), re-runs only those steps from the first state on its own hardware, and
// compares its result with the second within a tolerance. The ends are checked exactly for
// free: the first state is a function of the seed, the image is the rounding of the last. A
// run that is not the task's sampling (fewer steps, another sampler, another model or guidance
// scale) cannot produce states of which every segment is a step-exact continuation of the last,
// so one segment drawn at random after the commitment catches it with probability the share of
// segments it did not compute honestly; a segment costs (At[k+1]-At[k])/Steps of a generation.

// Trajectory is the sampler's state at some steps of one image's sampling.
type Trajectory struct {
	Steps  int         // the sampling's number of steps
	At     []int       // step indices, ascending: 0 first, Steps last
	States [][]float32 // States[i] is the state before step At[i] (after the last step for Steps)
}

// Digests returns the SHA-256 of each state (StateDigest), what an executor commits.
func (tr *Trajectory) Digests() [][32]byte {
	out := make([][32]byte, len(tr.States))
	for i, s := range tr.States {
		out[i] = StateDigest(s)
	}
	return out
}

// StateDigest is the SHA-256 of a state's float32 values, little-endian IEEE 754 bits.
func StateDigest(x []float32) [32]byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return sha256.Sum256(b)
}

// CheckpointSteps returns segments+1 evenly spaced step indices from 0 to steps (segments is
// capped at steps).
func CheckpointSteps(steps, segments int) []int {
	segments = max(1, min(segments, steps))
	at := make([]int, segments+1)
	for i := range at {
		at[i] = i * steps / segments
	}
	return at
}

// guidedEps returns the guided noise predictor of p on profile tp.
func (m *Model) guidedEps(tp *tensor.Tape, p SampleParams) func(xin []float32, t int) []float32 {
	n := p.Width * p.Height
	cond, uncond := m.TokenIDs(p.Prompt), m.TokenIDs(p.NegativePrompt)
	return func(xin []float32, t int) []float32 {
		if p.CFGScale == 1 {
			return m.Eps(tp, tensor.FromData(xin, 1, 1, p.Height, p.Width), []int{t}, [][]int{cond}).Data
		}
		both := make([]float32, 2*n)
		copy(both, xin)
		copy(both[n:], xin)
		out := m.Eps(tp, tensor.FromData(both, 2, 1, p.Height, p.Width), []int{t, t}, [][]int{cond, uncond}).Data
		e := make([]float32, n)
		for i := range e {
			ec, eu := out[i], out[n+i]
			e[i] = eu + float32(p.CFGScale*(ec-eu))
		}
		return e
	}
}

// SampleTrajectory is Sample that also records the sampler's state at the steps at (ascending,
// from 0 to p.Steps; nil means CheckpointSteps(p.Steps, 4)). The image is bit for bit Sample's.
func (m *Model) SampleTrajectory(ctx context.Context, p SampleParams, prof tensor.Profile, at []int) (*image.Gray, *Trajectory, error) {
	p, err := m.normalize(p)
	if err != nil {
		return nil, nil, err
	}
	if err := prof.Validate(); err != nil {
		return nil, nil, err
	}
	if at == nil {
		at = CheckpointSteps(p.Steps, 4)
	}
	if err := checkAt(at, p.Steps); err != nil {
		return nil, nil, err
	}
	guided := m.guidedEps(tensor.NoGrad(prof), p)
	x := m.sched.initState(p, p.Width*p.Height)
	tr := &Trajectory{Steps: p.Steps, At: append([]int(nil), at...)}
	tr.States = append(tr.States, append([]float32(nil), x...))
	for k := 1; k < len(at); k++ {
		if err := m.sched.steps(ctx, p, x, at[k-1], at[k], guided); err != nil {
			return nil, nil, err
		}
		tr.States = append(tr.States, append([]float32(nil), x...))
	}
	return stateImage(x, p), tr, nil
}

func checkAt(at []int, steps int) error {
	if len(at) < 2 || at[0] != 0 || at[len(at)-1] != steps {
		return fmt.Errorf("%w: checkpoints %v must run from 0 to %d", ErrParams, at, steps)
	}
	for i := 1; i < len(at); i++ {
		if at[i] <= at[i-1] {
			return fmt.Errorf("%w: checkpoints %v not ascending", ErrParams, at)
		}
	}
	return nil
}

// stateImage rounds a final state to the image.
func stateImage(x []float32, p SampleParams) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, p.Width, p.Height))
	for i, v := range x {
		img.Pix[i] = toByte(v)
	}
	return img
}

// RunSegment runs steps from..to-1 of p's sampling on profile prof, starting from the state x
// (not changed), and returns the state after them.
func (m *Model) RunSegment(ctx context.Context, p SampleParams, prof tensor.Profile, from, to int, x []float32) ([]float32, error) {
	p, err := m.normalize(p)
	if err != nil {
		return nil, err
	}
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	if from < 0 || to > p.Steps || from >= to {
		return nil, fmt.Errorf("%w: segment [%d, %d) of %d steps", ErrParams, from, to, p.Steps)
	}
	if len(x) != p.Width*p.Height {
		return nil, fmt.Errorf("%w: state of %d values for %dx%d", ErrParams, len(x), p.Width, p.Height)
	}
	y := append([]float32(nil), x...)
	if err := m.sched.steps(ctx, p, y, from, to, m.guidedEps(tensor.NoGrad(prof), p)); err != nil {
		return nil, err
	}
	return y, nil
}

// DefaultSegmentTol is the default tolerance of VerifySegment on the RMS difference between the
// verifier's continuation and the committed state, in the state's units (pixels are [-1, 1]).
// Measured on the base model, DDIM 20 steps in 4 segments, one task, verifier on exact
// (TestTrajectoryHonestAndCheaters): honest segments made on the six profiles differ by at most
// 0.0065 RMS (hopper-bf16; the CPU-like profiles by 0); the substitutes' segments by at least
// 0.014 (the fine-tuned model's first segment), 0.016 (10 steps instead of 20), 0.024 (guidance
// 1.5) and 0.16 (Euler). 0.01 sits between; the calibration is one task's and thin.
const DefaultSegmentTol = 0.01

// SegmentCheck is the outcome of one segment's re-run.
type SegmentCheck struct {
	From, To int
	RMS      float64 // root mean square of the difference
	MaxAbs   float64 // largest absolute difference
	OK       bool    // RMS <= the tolerance and both states well-formed
}

// VerifySegment checks the committed states xFrom (before step from) and xTo (before step to) of
// p's sampling: it re-runs the segment from xFrom on profile prof and compares the result with
// xTo (OK when the RMS difference is at most tol). Non-finite values fail the check.
func (m *Model) VerifySegment(ctx context.Context, p SampleParams, prof tensor.Profile, from, to int, xFrom, xTo []float32, tol float64) (SegmentCheck, error) {
	c := SegmentCheck{From: from, To: to}
	y, err := m.RunSegment(ctx, p, prof, from, to, xFrom)
	if err != nil {
		return c, err
	}
	if len(xTo) != len(y) {
		return c, fmt.Errorf("%w: committed state of %d values, want %d", ErrParams, len(xTo), len(y))
	}
	c.RMS, c.MaxAbs = stateDiff(y, xTo)
	c.OK = !math.IsNaN(c.RMS) && !math.IsInf(c.RMS, 0) && c.RMS <= tol
	return c, nil
}

// stateDiff returns the RMS and largest absolute difference of two states (NaN when either
// holds a non-finite value).
func stateDiff(a, b []float32) (rms, maxAbs float64) {
	var ss float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return math.NaN(), math.NaN()
		}
		ss += d * d
		maxAbs = max(maxAbs, math.Abs(d))
	}
	return math.Sqrt(ss / float64(len(a))), maxAbs
}

// VerifyEnds checks the parts of a trajectory that need no model: the first state is the seed's
// initial state of p's sampler exactly, and the image's pixels are the rounding of the last
// state exactly. It returns nil when both hold.
func (m *Model) VerifyEnds(p SampleParams, first, last []float32, img *image.Gray) error {
	p, err := m.normalize(p)
	if err != nil {
		return err
	}
	want := m.sched.initState(p, p.Width*p.Height)
	if len(first) != len(want) || len(last) != len(want) {
		return fmt.Errorf("diffusion: trajectory: states of %d and %d values, want %d", len(first), len(last), len(want))
	}
	for i := range want {
		if math.Float32bits(first[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("diffusion: trajectory: first state differs from the seed's noise at value %d", i)
		}
	}
	if img == nil || img.Rect.Dx() != p.Width || img.Rect.Dy() != p.Height {
		return fmt.Errorf("diffusion: trajectory: image is not %dx%d", p.Width, p.Height)
	}
	got := stateImage(last, p)
	for y := range p.Height {
		for x := range p.Width {
			if got.Pix[y*got.Stride+x] != img.Pix[y*img.Stride+x] {
				return fmt.Errorf("diffusion: trajectory: pixel (%d, %d) is not the rounding of the last state", x, y)
			}
		}
	}
	return nil
}
