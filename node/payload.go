package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// Payload is what a task carries for its executors, in ledger.SubmitTask.Params: the
// fingerprint scheme every executor must use and the engine task. The ledger treats it as
// opaque bytes; its canonical encoding is a uvarint-prefixed scheme name followed by the
// engine task's canonical encoding.
type Payload struct {
	Scheme fingerprint.Scheme
	Task   engine.Task
}

// MarshalBinary returns the canonical encoding.
func (p Payload) MarshalBinary() ([]byte, error) {
	t, err := p.Task.MarshalBinary()
	if err != nil {
		return nil, err
	}
	name := p.Scheme.String()
	b := binary.AppendUvarint(nil, uint64(len(name)))
	b = append(b, name...)
	return append(b, t...), nil
}

// ErrPayload is wrapped by errors decoding a payload.
var ErrPayload = errors.New("node: malformed task payload")

// UnmarshalBinary decodes a payload.
func (p *Payload) UnmarshalBinary(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 128 || uint64(len(b)-k) < n {
		return fmt.Errorf("%w: bad scheme length", ErrPayload)
	}
	s, err := fingerprint.ParseScheme(string(b[k : k+int(n)]))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPayload, err)
	}
	var t engine.Task
	if err := t.UnmarshalBinary(b[k+int(n):]); err != nil {
		return fmt.Errorf("%w: %v", ErrPayload, err)
	}
	p.Scheme, p.Task = s, t
	return nil
}

// Request is a task as a client asks for it.
type Request struct {
	Task      engine.Task
	Scheme    fingerprint.Scheme
	Replicas  uint32
	MaxRounds bool   // allow one adaptive round with more executors when there is no verdict
	Tolerance uint32 // Hamming bits
	Rule      quorum.Rule
	Fee       uint64
	// ScoreCheck asks for score-based verdicts (text:tokens only): when the executors' token
	// sequences differ, they check each other's with the task's model (ledger.VerifyScore).
	ScoreCheck bool
	// SegmentChecks > 0 asks for segment verification of a training task (ledger.VerifySegments):
	// one trainer, Replicas-1 verifiers each re-executing SegmentChecks of its segments (one per
	// Task.Train.Checkpoint steps), fingerprints of SegmentDim numbers (the engine's
	// FingerprintDim). Scheme and Tolerance are not used.
	SegmentChecks int
	SegmentDim    int
	// SpotPPM > 0 asks for a spot-checked task (Replicas 1): verified by the chain's
	// SpotVerifiers with probability SpotPPM parts per million, drawn after the executor
	// committed (ledger doc, "Spot checks and escalation").
	SpotPPM uint32
	// TrajectorySegments > 0 asks for trajectory verification of an image task
	// (ledger.VerifyTrajectory): one generator commits, with its image fingerprint, the
	// digests of its sampling states at TrajectorySegments+1 evenly spaced steps; Replicas-1
	// verifiers each re-run the TrajectoryChecks segments drawn after its reveal (default 1).
	// Tolerance must be 0 and MaxRounds false.
	TrajectorySegments int
	TrajectoryChecks   int
}

// familyOf is the fingerprint family each kind of task's artifacts are read with.
var familyOf = map[engine.Kind]fingerprint.Family{
	engine.KindText:  fingerprint.Tokens,
	engine.KindImage: fingerprint.Image,
	engine.KindTrain: fingerprint.Vector,
}

// checkPayload is what an executor checks of a task before running it, and a client before
// submitting it: the engine task is valid, the scheme is valid and reads the kind's artifacts,
// and the ledger's fingerprint length is the scheme's. A task failing it can be run by no
// one (executors commit to ledger.UnrunnableFingerprint).
func checkPayload(p Payload, fingerprintLen uint32) error {
	if err := p.Task.Validate(); err != nil {
		return err
	}
	if err := p.Scheme.Validate(); err != nil {
		return err
	}
	if f, ok := familyOf[p.Task.Kind]; !ok || f != p.Scheme.Family {
		return fmt.Errorf("%w: scheme %s does not read %s artifacts", ErrPayload, p.Scheme, p.Task.Kind)
	}
	if want := uint32((p.Scheme.Bits() + 7) / 8); fingerprintLen != want {
		return fmt.Errorf("%w: fingerprints of %d bytes, scheme %s gives %d", ErrPayload, fingerprintLen, p.Scheme, want)
	}
	return nil
}

// Spec returns the ledger submission for r. It refuses what executors could not run: the
// parameters are encoded, decoded back as an executor decodes them, and checked as an
// executor checks them (checkPayload).
func (r Request) Spec() (ledger.SubmitTask, error) {
	if err := r.Task.Validate(); err != nil {
		return ledger.SubmitTask{}, err
	}
	if err := r.Scheme.Validate(); err != nil {
		return ledger.SubmitTask{}, err
	}
	if int(r.Tolerance) > r.Scheme.MaxTolerance() {
		return ledger.SubmitTask{}, fmt.Errorf("node: tolerance %d is meaningless for %s (max %d)", r.Tolerance, r.Scheme, r.Scheme.MaxTolerance())
	}
	params, err := Payload{Scheme: r.Scheme, Task: r.Task}.MarshalBinary()
	if err != nil {
		return ledger.SubmitTask{}, err
	}
	spec := ledger.SubmitTask{
		Kind:           string(r.Task.Kind),
		Model:          ledger.Model{Name: r.Task.Model.Name, Digest: r.Task.Model.Digest},
		Prompt:         []byte(r.Task.Prompt),
		Seed:           r.Task.Seed,
		Params:         params,
		Replicas:       r.Replicas,
		Tolerance:      r.Tolerance,
		Rule:           r.Rule,
		FingerprintLen: uint32((r.Scheme.Bits() + 7) / 8),
		Fee:            r.Fee,
		SpotPPM:        r.SpotPPM,
	}
	if r.MaxRounds {
		spec.MaxReplicas = 2*r.Replicas + 1
	}
	p, err := payloadOf(spec.Kind, spec.Model.Name, spec.Model.Digest, spec.Prompt, spec.Seed, spec.Params)
	if err == nil {
		err = checkPayload(p, spec.FingerprintLen)
	}
	if err != nil {
		return ledger.SubmitTask{}, fmt.Errorf("node: executors could not run this task: %w", err)
	}
	if r.SegmentChecks > 0 {
		tp := r.Task.Train
		if r.Task.Kind != engine.KindTrain || tp == nil || tp.Checkpoint <= 0 || tp.Steps%tp.Checkpoint != 0 || r.SegmentDim <= 0 {
			return ledger.SubmitTask{}, fmt.Errorf("node: segment verification needs a training task with steps a multiple of its checkpoint interval and a fingerprint dimension")
		}
		S := tp.Steps / tp.Checkpoint
		spec.Verify, spec.Tolerance = ledger.VerifySegments, 0
		spec.Segment = ledger.SegmentSpec{Segments: uint32(S), SegmentSteps: uint32(tp.Checkpoint), Checks: uint32(r.SegmentChecks)}
		spec.FingerprintLen = ledger.SeriesLen(S, r.SegmentDim)
	}
	if r.TrajectorySegments > 0 {
		checks := max(1, r.TrajectoryChecks)
		if r.Task.Kind != engine.KindImage || r.Task.Image == nil || r.TrajectorySegments > r.Task.Image.Steps || checks > r.TrajectorySegments {
			return ledger.SubmitTask{}, fmt.Errorf("node: trajectory verification needs an image task of at least %d steps and at most as many checks", r.TrajectorySegments)
		}
		S := uint32(r.TrajectorySegments)
		spec.Verify = ledger.VerifyTrajectory
		spec.Segment = ledger.SegmentSpec{Segments: S, Checks: uint32(checks)}
		spec.FingerprintLen += ledger.TrajectoryDigestsLen(S)
	}
	if r.ScoreCheck {
		if r.Task.Kind != engine.KindText || r.Scheme.Family != fingerprint.Tokens {
			return ledger.SubmitTask{}, fmt.Errorf("node: score checks are for text:tokens tasks, not %s %s", r.Task.Kind, r.Scheme)
		}
		spec.Verify = ledger.VerifyScore
	}
	return spec, nil
}

// payloadOf decodes a task's payload and checks that it agrees with the ledger's spec, so a
// submitter cannot show the ledger one model or seed and the executors another.
func payloadOf(kind, model string, digest [32]byte, prompt []byte, seed uint64, params []byte) (Payload, error) {
	var p Payload
	if err := p.UnmarshalBinary(params); err != nil {
		return p, err
	}
	t := p.Task
	if string(t.Kind) != kind || t.Model.Name != model || t.Model.Digest != engine.Digest(digest) ||
		t.Prompt != string(prompt) || t.Seed != seed {
		return p, fmt.Errorf("%w: engine task disagrees with the ledger's spec", ErrPayload)
	}
	return p, nil
}
