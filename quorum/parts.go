package quorum

import (
	"errors"
	"fmt"
)

// ErrParts reports a part layout that does not cover the fingerprints exactly, or a part of no
// bytes.
var ErrParts = errors.New("quorum: bad fingerprint parts")

// Part is one hash of a fingerprint made of several (a verification policy that combines, say,
// pHash/16 and dHash/16): Bytes consecutive bytes of the fingerprint compared with their own
// Hamming Tolerance.
type Part struct {
	Bytes     int
	Tolerance int
}

// WithinParts reports whether a and b, laid out as parts one after another, are within every
// part's tolerance. a and b must have the parts' total length (DecideParts checks).
func WithinParts(a, b []byte, parts []Part) bool {
	off := 0
	for _, p := range parts {
		if Distance(a[off:off+p.Bytes], b[off:off+p.Bytes]) > p.Tolerance {
			return false
		}
		off += p.Bytes
	}
	return true
}

// DecideParts is Decide for fingerprints made of parts: a submission supports a candidate when
// it lies within every part's tolerance of it (all parts must agree; one part alone is Decide
// with that part's tolerance). The parts' bytes must add up to the fingerprints' length.
// Errors wrap ErrParts, ErrRule, ErrTolerance, ErrReplicas or ErrLength.
func DecideParts(fps [][]byte, replicas int, parts []Part, rule Rule) (Verdict, error) {
	if len(parts) == 0 {
		return Verdict{}, fmt.Errorf("quorum: decide: %w: none", ErrParts)
	}
	total := 0
	for i, p := range parts {
		if p.Bytes <= 0 {
			return Verdict{}, fmt.Errorf("quorum: decide: %w: part %d has %d bytes", ErrParts, i, p.Bytes)
		}
		if p.Tolerance < 0 {
			return Verdict{}, fmt.Errorf("quorum: decide: part %d: %w %d", i, ErrTolerance, p.Tolerance)
		}
		total += p.Bytes
	}
	for i, f := range fps {
		if len(f) != total {
			return Verdict{}, fmt.Errorf("quorum: decide: %w: fingerprint %d has %d bytes, the parts %d",
				ErrParts, i, len(f), total)
		}
	}
	return decide(fps, replicas, rule, func(a, b []byte) bool { return WithinParts(a, b, parts) })
}
