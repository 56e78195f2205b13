package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/genquorum/genquorum/engine"
)

// FingerprintScale is the step of the integer fingerprints that reach the ledger: a
// fingerprint's numbers are rounded to multiples of 2^-20 (about 1e-6, far below any
// tolerance measured) and stored as int32, so that the ledger handles integers only.
const FingerprintScale = 1 << 20

// QuantizeFingerprint returns fp as integers (round(x * FingerprintScale), saturated).
func QuantizeFingerprint(fp []float32) []int32 {
	q := make([]int32, len(fp))
	for i, x := range fp {
		v := math.Round(float64(x) * FingerprintScale)
		q[i] = int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, v)))
	}
	return q
}

// SeriesRoot returns what a trainer commits to on chain for a whole series: the SHA-256 of
// the spec's digest and, per checkpoint in order, its step, state digest and integer
// fingerprint. Revealing the commitments lets anyone recompute it; a verifier that fetches
// checkpoint k's state checks it against the revealed digest.
func SeriesRoot(spec *Spec, cs []Commitment) engine.Digest {
	h := sha256.New()
	d := spec.Digest()
	h.Write([]byte("gqseries1"))
	h.Write(d[:])
	var b []byte
	for _, c := range cs {
		b = binary.BigEndian.AppendUint64(b[:0], uint64(c.Step))
		b = append(b, c.Digest[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.Fingerprint)))
		for _, v := range QuantizeFingerprint(c.Fingerprint) {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
		h.Write(b)
	}
	return engine.Digest(h.Sum(nil))
}

// PickSegments returns the c segments (of S) that verifier number v checks, drawn without
// replacement from SHA-256(randomness, v, draw): randomness is the ledger's block randomness
// after the trainer's reveal, so neither the trainer (who committed first) nor the verifier
// chooses them. The result is in draw order.
func PickSegments(randomness []byte, v, S, c int) ([]int, error) {
	if S <= 0 || c <= 0 || c > S {
		return nil, fmt.Errorf("train: pick %d of %d segments", c, S)
	}
	left := make([]int, S)
	for i := range left {
		left[i] = i
	}
	out := make([]int, 0, c)
	for draw := range c {
		h := sha256.New()
		h.Write(randomness)
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(v))
		binary.BigEndian.PutUint64(b[8:], uint64(draw))
		h.Write(b[:])
		// 64 bits reduced modulo at most 2^20 segments: bias below 2^-44.
		x := binary.BigEndian.Uint64(h.Sum(nil)[:8]) % uint64(len(left))
		out = append(out, left[x])
		left[x] = left[len(left)-1]
		left = left[:len(left)-1]
	}
	return out, nil
}
