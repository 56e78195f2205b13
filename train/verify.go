package train

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
)

// ErrRejected is wrapped by every error that rejects a trainer's work (as opposed to a
// verifier's own failure).
var ErrRejected = errors.New("train: rejected")

func reject(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

// CheckSeries checks the shape of committed commitments against the spec: one per checkpoint,
// at steps 0, K, ..., Steps, fingerprints of the method's length.
func CheckSeries(spec *Spec, cs []Commitment, fpLen int) error {
	if len(cs) != spec.Checkpoints() {
		return reject("%d checkpoints committed, the spec needs %d", len(cs), spec.Checkpoints())
	}
	for i, c := range cs {
		if c.Step != i*spec.Every {
			return reject("checkpoint %d committed at step %d, want %d", i, c.Step, i*spec.Every)
		}
		if len(c.Fingerprint) != fpLen {
			return reject("checkpoint %d has a fingerprint of %d numbers, want %d", i, len(c.Fingerprint), fpLen)
		}
	}
	return nil
}

// CheckInit checks that the committed checkpoint 0 is exactly the spec's initial state
// (base with the method applied, optimiser at zero, under the declared profile): anyone can
// compute it, so it must match bit for bit.
func CheckInit(spec Spec, base diffusion.Named, data *Dataset, c0 Commitment) error {
	r, err := NewRun(spec, base, data, Options{})
	if err != nil {
		return err
	}
	ck, err := r.Checkpoint()
	if err != nil {
		return err
	}
	if ck.Digest != c0.Digest || !slices.Equal(ck.Fingerprint, c0.Fingerprint) {
		return reject("checkpoint 0 (%.12s) is not the spec's initial state (%.12s)", c0.Digest.String(), ck.Digest.String())
	}
	return nil
}

// SegmentResult is the outcome of one segment re-execution.
type SegmentResult struct {
	Segment  int     // k: from checkpoint k to k+1
	Distance float64 // between the verifier's checkpoint k+1 and the committed one
	Steps    int     // steps the verifier ran
}

// VerifySegment re-executes segment k: it checks the fetched state of checkpoint k against its
// committed digest and fingerprint and its recorded step and configuration against the spec,
// runs K steps on opt's profile, and compares the resulting fingerprint with the committed
// fingerprint of checkpoint k+1 within tol. A rejection wraps ErrRejected and says why.
func VerifySegment(ctx context.Context, spec Spec, data *Dataset, cs []Commitment, k int, state []byte, opt Options, tol float64) (SegmentResult, error) {
	return verifySegment(ctx, spec, data, cs, k, state, opt, tol, func(fp []float32) bool { return slices.Equal(fp, cs[k].Fingerprint) })
}

// verifySegment is VerifySegment with the check of checkpoint k's fingerprint given (exact
// floats, or the integers of a series revealed on the ledger).
func verifySegment(ctx context.Context, spec Spec, data *Dataset, cs []Commitment, k int, state []byte, opt Options, tol float64,
	sameFP func([]float32) bool) (SegmentResult, error) {
	res := SegmentResult{Segment: k}
	if k < 0 || k+1 >= len(cs) {
		return res, fmt.Errorf("train: segment %d of %d checkpoints", k, len(cs))
	}
	if d := sha256.Sum256(state); d != cs[k].Digest {
		return res, reject("checkpoint %d: fetched state %.12s, committed %.12s", k, engine.Digest(d).String(), cs[k].Digest.String())
	}
	r, err := ResumeRun(spec, state, data, opt)
	if err != nil {
		return res, reject("checkpoint %d: %v", k, err)
	}
	defer r.Close()
	if r.Steps() != cs[k].Step {
		return res, reject("checkpoint %d records step %d, committed at step %d", k, r.Steps(), cs[k].Step)
	}
	if fp := fingerprint(&r.Spec, r.tr); !sameFP(fp) {
		return res, reject("checkpoint %d: fingerprint of the state differs from the committed one", k)
	}
	if err := r.RunTo(ctx, cs[k+1].Step); err != nil {
		return res, err
	}
	res.Steps = cs[k+1].Step - cs[k].Step
	res.Distance = Distance(fingerprint(&r.Spec, r.tr), cs[k+1].Fingerprint)
	if !(res.Distance <= tol) {
		return res, reject("segment %d: re-executed checkpoint %d is %.3g from the committed one, tolerance %.3g", k, k+1, res.Distance, tol)
	}
	return res, nil
}

// ReplayResult is a full replay's distance to the trainer at every checkpoint.
type ReplayResult struct {
	Distance []float64 // at checkpoint i, before any adoption
	Adopted  []bool    // whether the verifier adopted the trainer's checkpoint i (gossip)
}

// Max returns the largest distance.
func (r *ReplayResult) Max() float64 {
	m := 0.0
	for _, d := range r.Distance {
		m = math.Max(m, d)
	}
	return m
}

// Replay re-runs the whole series on opt's profile from the spec's initial state. With
// gossip every m checkpoints (m > 0), at checkpoints m, 2m, ... the verifier adopts the
// trainer's checkpoint (its state, checked against the committed digest) when its own is
// within tol of it, so drift cannot accumulate; with m = 0 it never does. It stops with a
// rejection at the first checkpoint beyond tol.
func Replay(ctx context.Context, series *Series, base diffusion.Named, data *Dataset, opt Options, m int, tol float64) (*ReplayResult, error) {
	spec := series.Spec
	r, err := NewRun(spec, base, data, opt)
	if err != nil {
		return nil, err
	}
	defer func() { r.Close() }() // r is replaced when a checkpoint is adopted
	res := &ReplayResult{}
	for i, c := range series.Checkpoints {
		if err := r.RunTo(ctx, c.Step); err != nil {
			return res, err
		}
		d := Distance(fingerprint(&r.Spec, r.tr), c.Fingerprint)
		res.Distance = append(res.Distance, d)
		res.Adopted = append(res.Adopted, false)
		if !(d <= tol) {
			return res, reject("replay: checkpoint %d is %.3g from the trainer's, tolerance %.3g", i, d, tol)
		}
		if m > 0 && i > 0 && i%m == 0 && i+1 < len(series.Checkpoints) {
			if sha256.Sum256(c.State) != c.Digest {
				return res, reject("replay: checkpoint %d's state does not match its digest", i)
			}
			adopted, err := ResumeRun(spec, c.State, data, opt)
			if err != nil {
				return res, reject("replay: checkpoint %d: %v", i, err)
			}
			r.Close()
			r = adopted
			res.Adopted[i] = true
		}
	}
	return res, nil
}

// CatchProbability returns the probability that v verifiers, each re-executing c of S
// segments drawn uniformly without replacement (independently of each other), check at
// least one of the s segments a cheater falsified: 1 - (C(S-s, c) / C(S, c))^v, assuming a
// falsified segment that is checked is caught (measured per cheat in the tests).
func CatchProbability(S, s, c, v int) float64 {
	if s <= 0 || c <= 0 || v <= 0 {
		return 0
	}
	if c > S {
		c = S
	}
	miss := 1.0 // C(S-s, c)/C(S, c) = prod_{i<c} (S-s-i)/(S-i)
	for i := range c {
		miss *= math.Max(0, float64(S-s-i)) / float64(S-i)
	}
	return 1 - math.Pow(miss, float64(v))
}

// SegmentDrift re-executes every segment of an honest series on each profile (from the
// trainer's checkpoint k) and returns the distances to the trainer's checkpoint k+1, by
// profile then segment: the honest drift a tolerance must cover.
func SegmentDrift(ctx context.Context, series *Series, data *Dataset, profiles []tensor.Profile) ([][]float64, error) {
	cs := series.Commitments()
	out := make([][]float64, len(profiles))
	for i, p := range profiles {
		for k := range series.Spec.Segments() {
			res, err := VerifySegment(ctx, series.Spec, data, cs, k, series.Checkpoints[k].State, Options{Profile: p}, math.Inf(1))
			if err != nil {
				return nil, fmt.Errorf("train: drift on %s: %w", p.Name, err)
			}
			out[i] = append(out[i], res.Distance)
		}
	}
	return out, nil
}
