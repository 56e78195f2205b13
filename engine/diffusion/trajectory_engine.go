package diffusion

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// The engine's side of trajectory-verified image tasks (ledger.VerifyTrajectory): the
// generator runs the task recording the states at CheckpointSteps(steps, segments) and serves
// them as EncodeState bytes, whose SHA-256 is StateDigest; a verifier checks the ends
// (TrajectoryInitialState, TrajectoryImage) and re-runs segments (CheckTrajectorySegment) on
// the profile of its task.

// Trajectory cheats (RunTrajectory's cheat, for tests and studies): what a generator that
// substitutes a cheaper or other run for the task's does.
const (
	CheatFewerSteps = "fewer-steps" // half the task's steps, states at the same fractions
	CheatSampler    = "sampler"     // Euler for DDIM (DDIM for the others)
	CheatGuidance   = "guidance"    // half the task's guidance scale
	CheatOtherModel = "other-model" // the first other model the engine serves
)

// EncodeState returns a state's bytes as served over p2p: its float32 values, little-endian
// IEEE 754 bits (their SHA-256 is StateDigest).
func EncodeState(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// DecodeState parses a state served by a peer: exactly n float32 values, all finite.
func DecodeState(b []byte, n int) ([]float32, error) {
	if n < 0 || len(b) != 4*n {
		return nil, fmt.Errorf("%w: state of %d bytes, want %d values", ErrParams, len(b), n)
	}
	x := make([]float32, n)
	for i := range x {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: state value %d is not finite", ErrParams, i)
		}
		x[i] = v
	}
	return x, nil
}

// sampling returns the model, normalized sampling parameters and profile of an image task.
func (e *Engine) sampling(task engine.Task) (Named, SampleParams, tensor.Profile, error) {
	if task.Kind != engine.KindImage {
		return Named{}, SampleParams{}, tensor.Profile{}, fmt.Errorf("%w: diffusion engine runs image tasks, not %q", engine.ErrUnsupported, task.Kind)
	}
	nm, ok := e.Lookup(task.Model)
	if !ok {
		return Named{}, SampleParams{}, tensor.Profile{}, fmt.Errorf("%w: model %s", engine.ErrUnsupported, task.Model)
	}
	if err := task.Validate(); err != nil {
		return Named{}, SampleParams{}, tensor.Profile{}, err
	}
	profName := task.Profile
	if profName == "" {
		profName = tensor.Exact.Name
	}
	prof, err := tensor.ProfileByName(profName)
	if err != nil {
		return Named{}, SampleParams{}, tensor.Profile{}, fmt.Errorf("%w: %w", engine.ErrUnsupported, err)
	}
	ip := task.Image
	p := SampleParams{Prompt: task.Prompt, NegativePrompt: ip.NegativePrompt, Sampler: ip.Sampler, Steps: ip.Steps,
		CFGScale: ip.CFGScale, Width: ip.Width, Height: ip.Height, Seed: task.Seed}
	p, err = nm.Model.normalize(p)
	return nm, p, prof, err
}

// RunTrajectory runs an image task as Run does (the artifact is Run's, bit for bit, when cheat
// is "") and returns the states at CheckpointSteps(steps, segments), EncodeState bytes. cheat
// names a substitute (CheatFewerSteps, ...) whose states are recorded at the same number of
// checkpoints of its own run; tests use it.
func (e *Engine) RunTrajectory(ctx context.Context, task engine.Task, segments int, cheat string) (*engine.Artifact, [][]byte, error) {
	nm, p, prof, err := e.sampling(task)
	if err != nil {
		return nil, nil, err
	}
	if segments < 1 || segments > p.Steps {
		return nil, nil, fmt.Errorf("%w: %d segments of %d steps", ErrParams, segments, p.Steps)
	}
	switch cheat {
	case "":
	case CheatFewerSteps:
		p.Steps = max(segments, p.Steps/2)
	case CheatSampler:
		if p.Sampler == SamplerDDIM {
			p.Sampler = SamplerEuler
		} else {
			p.Sampler = SamplerDDIM
		}
	case CheatGuidance:
		p.CFGScale /= 2
	case CheatOtherModel:
		other := -1
		for i, m := range e.models {
			if m.Digest != nm.Digest && other < 0 {
				other = i
			}
		}
		if other < 0 {
			return nil, nil, fmt.Errorf("diffusion: cheat %s: no other model served", cheat)
		}
		nm = e.models[other]
	default:
		return nil, nil, fmt.Errorf("diffusion: unknown trajectory cheat %q", cheat)
	}
	img, tr, err := nm.Model.SampleTrajectory(ctx, p, prof, CheckpointSteps(p.Steps, segments))
	if err != nil {
		return nil, nil, err
	}
	data, err := EncodePNG(img)
	if err != nil {
		return nil, nil, err
	}
	states := make([][]byte, len(tr.States))
	for i, s := range tr.States {
		states[i] = EncodeState(s)
	}
	return &engine.Artifact{MediaType: "image/png", Data: data, Info: map[string]string{
		"engine": Version, "model": nm.Name, "model_digest": nm.Digest.String(), "profile": prof.Name,
		"sampler": p.Sampler, "steps": strconv.Itoa(p.Steps), "segments": strconv.Itoa(segments),
	}}, states, nil
}

// TrajectoryInitialState returns the state before the first step of the task's sampling (the
// seed's noise), EncodeState bytes: a verifier compares its digest with the first committed one.
func (e *Engine) TrajectoryInitialState(task engine.Task) ([]byte, error) {
	nm, p, _, err := e.sampling(task)
	if err != nil {
		return nil, err
	}
	return EncodeState(nm.Model.sched.initState(p, p.Width*p.Height)), nil
}

// TrajectoryImage returns the PNG of the rounding of a served final state: the image whose
// fingerprint the generator must have revealed.
func (e *Engine) TrajectoryImage(task engine.Task, last []byte) (*engine.Artifact, error) {
	_, p, _, err := e.sampling(task)
	if err != nil {
		return nil, err
	}
	x, err := DecodeState(last, p.Width*p.Height)
	if err != nil {
		return nil, err
	}
	data, err := EncodePNG(stateImage(x, p))
	if err != nil {
		return nil, err
	}
	return &engine.Artifact{MediaType: "image/png", Data: data}, nil
}

// CheckTrajectorySegment re-runs segment k of the task's sampling in segments segments on the
// task's profile (the verifier's) from the served state from and compares the result with the
// served state to (VerifySegment, tolerance DefaultSegmentTol). Served bytes that are not a
// state of the task's size with finite values fail the segment (OK false, RMS NaN).
func (e *Engine) CheckTrajectorySegment(ctx context.Context, task engine.Task, segments, k int, from, to []byte) (SegmentCheck, error) {
	nm, p, prof, err := e.sampling(task)
	if err != nil {
		return SegmentCheck{}, err
	}
	if segments < 1 || segments > p.Steps || k < 0 || k >= segments {
		return SegmentCheck{}, fmt.Errorf("%w: segment %d of %d (%d steps)", ErrParams, k, segments, p.Steps)
	}
	at := CheckpointSteps(p.Steps, segments)
	n := p.Width * p.Height
	xFrom, errFrom := DecodeState(from, n)
	xTo, errTo := DecodeState(to, n)
	if errFrom != nil || errTo != nil { // malformed served states fail the segment
		return SegmentCheck{From: at[k], To: at[k+1], RMS: math.NaN(), MaxAbs: math.NaN()}, nil
	}
	return nm.Model.VerifySegment(ctx, p, prof, at[k], at[k+1], xFrom, xTo, DefaultSegmentTol)
}
