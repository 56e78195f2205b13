package train

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/ledger"
)

// The ledger's side of a training task (ledger.VerifySegments) is integers and digests only;
// these helpers are what a trainer, a verifier and a referee compute off-ledger.

// LedgerSeries returns the series a trainer commits to and reveals on the ledger:
// ledger.SeriesBytes of the checkpoints' state digests and QuantizeFingerprint'ed
// fingerprints.
func LedgerSeries(cs []Commitment) []byte {
	ds := make([][32]byte, len(cs))
	fps := make([][]int32, len(cs))
	for i, c := range cs {
		ds[i], fps[i] = c.Digest, QuantizeFingerprint(c.Fingerprint)
	}
	return ledger.SeriesBytes(ds, fps)
}

// LedgerSubmit fills the training fields of a ledger task for spec: VerifySegments, the
// segment layout, each verifier's number of checks, and FingerprintLen for fingerprints of
// dim numbers.
func LedgerSubmit(spec *Spec, dim, checks int) (verify uint8, seg ledger.SegmentSpec, fpLen uint32) {
	return ledger.VerifySegments, ledger.SegmentSpec{Segments: uint32(spec.Segments()), SegmentSteps: uint32(spec.Every),
		Checks: uint32(checks)}, ledger.SeriesLen(spec.Segments(), dim)
}

// LedgerCommitments decodes a series revealed on the ledger for spec: checkpoint i at step
// i*Every, its digest, and its fingerprint as integers and dequantized (x / FingerprintScale).
func LedgerCommitments(spec *Spec, series []byte) ([]Commitment, [][]int32, error) {
	n := spec.Checkpoints()
	if len(series) == 0 || len(series)%n != 0 {
		return nil, nil, fmt.Errorf("train: series of %d bytes for %d checkpoints", len(series), n)
	}
	cs := make([]Commitment, n)
	q := make([][]int32, n)
	for i := range n {
		d, fp := ledger.SeriesCheckpoint(series, uint32(n-1), i)
		f := make([]float32, len(fp))
		for j, v := range fp {
			f[j] = float32(float64(v) / FingerprintScale)
		}
		cs[i], q[i] = Commitment{Step: i * spec.Every, Digest: d, Fingerprint: f}, fp
	}
	return cs, q, nil
}

// VerifyLedgerSegment is VerifySegment for a series revealed on the ledger: the fetched
// state of checkpoint k must have the revealed digest, and its fingerprint must quantize to
// the revealed integers; the re-executed checkpoint k+1 is compared with the dequantized
// revealed fingerprint (the quantization step, 2^-20, is far below any tolerance). For
// segment 0 it also checks that checkpoint 0 is the spec's initial state (CheckInit).
func VerifyLedgerSegment(ctx context.Context, spec Spec, base diffusion.Named, data *Dataset, series []byte, k int, state []byte,
	opt Options, tol float64) (SegmentResult, error) {
	cs, q, err := LedgerCommitments(&spec, series)
	if err != nil {
		return SegmentResult{Segment: k}, reject("%v", err)
	}
	if k == 0 {
		d, err := InitDigest(spec, base, data)
		if err != nil {
			return SegmentResult{Segment: k}, err
		}
		if d != cs[0].Digest {
			return SegmentResult{Segment: k}, reject("checkpoint 0 (%.12s) is not the spec's initial state (%.12s)", cs[0].Digest.String(), d.String())
		}
	}
	return verifySegment(ctx, spec, data, cs, k, state, opt, tol, func(fp []float32) bool {
		return slices.Equal(QuantizeFingerprint(fp), q[k])
	})
}

// InitDigest returns the digest of the spec's initial state under its declared profile: the
// state "after step 0" that anyone can compute.
func InitDigest(spec Spec, base diffusion.Named, data *Dataset) (engine.Digest, error) {
	r, err := NewRun(spec, base, data, Options{})
	if err != nil {
		return engine.Digest{}, err
	}
	b, err := r.State()
	if err != nil {
		return engine.Digest{}, err
	}
	return sha256.Sum256(b), nil
}

// RefereeStep is the referee's work in a ledger dispute narrowed to one step, under the
// spec's declared profile: for step 0, the initial state built from base; otherwise the state
// after step-1 (agreed, fetched from either side and checked against the agreed digest),
// resumed and advanced one step. It returns the digest of the state after step.
func RefereeStep(ctx context.Context, spec Spec, base diffusion.Named, data *Dataset, step int, agreed []byte,
	agreedDigest engine.Digest) (engine.Digest, error) {
	if step == 0 {
		return InitDigest(spec, base, data)
	}
	if sha256.Sum256(agreed) != agreedDigest {
		return engine.Digest{}, fmt.Errorf("train: referee: the agreed state does not have the agreed digest %.12s", agreedDigest.String())
	}
	r, err := ResumeRun(spec, agreed, data, Options{})
	if err != nil {
		return engine.Digest{}, err
	}
	defer r.Close()
	if r.Steps() != step-1 {
		return engine.Digest{}, fmt.Errorf("train: referee: the agreed state records step %d, want %d", r.Steps(), step-1)
	}
	if err := r.RunTo(ctx, step); err != nil {
		return engine.Digest{}, err
	}
	b, err := r.State()
	if err != nil {
		return engine.Digest{}, err
	}
	return sha256.Sum256(b), nil
}
