package quorum

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// Errors returned for malformed input. Callers branch on them with errors.Is.
var (
	// ErrLength reports fingerprints of different lengths in one call.
	ErrLength = errors.New("quorum: fingerprints differ in length")
	// ErrRule reports an unknown voting rule.
	ErrRule = errors.New("quorum: unknown rule")
	// ErrTolerance reports a negative tolerance.
	ErrTolerance = errors.New("quorum: negative tolerance")
	// ErrReplicas reports a replica count below 1 or below the number of submissions.
	ErrReplicas = errors.New("quorum: bad replica count")
	// ErrEmpty reports a group without members.
	ErrEmpty = errors.New("quorum: empty group")
)

// Rule is a voting rule: how many of n replicas must agree for a verdict.
type Rule uint8

// The voting rules. The zero Rule is invalid.
const (
	// Majority needs more than half of the replicas: n/2 + 1.
	Majority Rule = 1
	// SuperMajority needs more than two thirds of the replicas: 2n/3 + 1.
	SuperMajority Rule = 2
)

// String returns "majority" or "supermajority" (ParseRule's spellings), or "Rule(k)" for an
// invalid rule.
func (r Rule) String() string {
	switch r {
	case Majority:
		return "majority"
	case SuperMajority:
		return "supermajority"
	default:
		return fmt.Sprintf("Rule(%d)", uint8(r))
	}
}

// Valid reports whether r is Majority or SuperMajority.
func (r Rule) Valid() bool { return r == Majority || r == SuperMajority }

// ParseRule parses "majority" or "supermajority" (also "super-majority", "super_majority"),
// case-insensitively. Other strings give an error wrapping ErrRule.
func ParseRule(s string) (Rule, error) {
	switch string(bytes.ToLower([]byte(s))) {
	case "majority":
		return Majority, nil
	case "supermajority", "super-majority", "super_majority":
		return SuperMajority, nil
	}
	return 0, fmt.Errorf("%w %q (want majority or supermajority)", ErrRule, s)
}

// Need returns the number of agreeing votes the rule needs among n replicas: n/2+1 for
// Majority, 2n/3+1 for SuperMajority (integer division: strictly more than half, strictly more
// than two thirds). It panics if r is invalid or n is negative.
func (r Rule) Need(n int) int {
	if n < 0 {
		panic(fmt.Sprintf("quorum: Need(%d): negative replica count", n))
	}
	switch r {
	case Majority:
		return n/2 + 1
	case SuperMajority:
		return 2*n/3 + 1
	}
	panic(fmt.Sprintf("quorum: Need on invalid %v", r))
}

// Distance returns the Hamming distance of a and b: the number of bit positions where they
// differ. It panics if their lengths differ.
func Distance(a, b []byte) int {
	if len(a) != len(b) {
		panic(fmt.Sprintf("quorum: Distance of %d and %d bytes", len(a), len(b)))
	}
	d := 0
	for len(a) >= 8 {
		d += bits.OnesCount64(binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b))
		a, b = a[8:], b[8:]
	}
	for i := range a {
		d += bits.OnesCount8(a[i] ^ b[i])
	}
	return d
}

// Distance64 returns the Hamming distance of two 64-bit fingerprints. A 64-bit fingerprint x
// is the same as the 8 bytes binary.BigEndian.AppendUint64(nil, x).
func Distance64(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// checkSameLength returns an error wrapping ErrLength unless all fps have the same length.
func checkSameLength(fps [][]byte) error {
	for i := 1; i < len(fps); i++ {
		if len(fps[i]) != len(fps[0]) {
			return fmt.Errorf("%w: fingerprint %d has %d bytes, fingerprint 0 has %d",
				ErrLength, i, len(fps[i]), len(fps[0]))
		}
	}
	return nil
}

// Verdict is the outcome of a vote among the submissions of one task.
type Verdict struct {
	// Accepted is true when a value reached the rule's threshold; false means no verdict.
	Accepted bool
	// Value is a copy of the accepted fingerprint (one of the submitted values), or nil without
	// verdict.
	Value []byte
	// Agreeing holds the indices into the submissions within tolerance of Value, ascending. Nil
	// without verdict.
	Agreeing []int
	// Outliers holds the other indices, ascending. Without verdict it holds every index: no
	// submission is confirmed.
	Outliers []int
	// Best is the index of the first submission holding the best candidate value (the value
	// that the most submissions lie within tolerance of, ties to the smallest value), whether or
	// not it was accepted; -1 when nothing was submitted.
	Best int
	// Support is the number of submissions within tolerance of the best candidate, whether or
	// not it reached Need.
	Support int
	// Need is the number of agreeing submissions the rule needs among the replicas.
	Need int
}

// Decide returns the verdict on the fingerprints submitted for one task replicated on replicas
// executors (replicas >= len(fps) >= 0; submissions that never came count against the
// threshold, since Need is taken of replicas).
//
// The candidate values are the submitted ones. The support of a candidate is the number of
// submissions within tolerance of it (itself included). The best candidate has the largest
// support; among equal supports the smallest value (big-endian unsigned) wins. It is accepted
// when its support is at least rule.Need(replicas).
//
// Decide uses integer arithmetic only, takes O(len(fps)^2) distance computations and allocates
// only the result. Errors wrap ErrRule, ErrTolerance, ErrReplicas or ErrLength.
func Decide(fps [][]byte, replicas, tolerance int, rule Rule) (Verdict, error) {
	if tolerance < 0 {
		return Verdict{}, fmt.Errorf("quorum: decide: %w %d", ErrTolerance, tolerance)
	}
	return decide(fps, replicas, rule, func(a, b []byte) bool { return Distance(a, b) <= tolerance })
}

// classify sets v.Agreeing and v.Outliers once v.Best and v.Support are known. With no
// verdict (no best, or support short of v.Need) all n submissions are outliers; otherwise it
// sets v.Accepted and puts submission i among the agreeing when agrees(i), else among the
// outliers. Both lists ascend and share one allocation; Outliers stays nil when empty.
func (v *Verdict) classify(n int, agrees func(i int) bool) {
	idx := make([]int, n)
	if v.Best < 0 || v.Support < v.Need {
		for i := range idx {
			idx[i] = i
		}
		if n > 0 {
			v.Outliers = idx
		}
		return
	}
	v.Accepted = true
	a, o := 0, n-1
	for i := range n { // agreeing fill idx from the front, outliers from the back
		if agrees(i) {
			idx[a] = i
			a++
		} else {
			idx[o] = i
			o--
		}
	}
	v.Agreeing = idx[:a:a]
	if out := idx[a:]; len(out) > 0 {
		slices.Reverse(out)
		v.Outliers = out
	}
}

// decide is Decide with the acceptance test within(candidate, submission) in place of a
// single Hamming tolerance. within must be symmetric and reflexive.
func decide(fps [][]byte, replicas int, rule Rule, within func(a, b []byte) bool) (Verdict, error) {
	if !rule.Valid() {
		return Verdict{}, fmt.Errorf("quorum: decide: %w %d", ErrRule, uint8(rule))
	}
	if replicas < 1 || replicas < len(fps) {
		return Verdict{}, fmt.Errorf("quorum: decide: %w: %d replicas for %d submissions",
			ErrReplicas, replicas, len(fps))
	}
	if err := checkSameLength(fps); err != nil {
		return Verdict{}, fmt.Errorf("quorum: decide: %w", err)
	}
	v := Verdict{Best: -1, Need: rule.Need(replicas)}
	for i, c := range fps {
		if i > 0 && v.Best >= 0 && bytes.Equal(c, fps[v.Best]) {
			continue // same value as the current best: same support
		}
		s := 0
		for _, f := range fps {
			if within(c, f) {
				s++
			}
		}
		if v.Best < 0 || s > v.Support || (s == v.Support && bytes.Compare(c, fps[v.Best]) < 0) {
			v.Best, v.Support = i, s
		}
	}
	v.classify(len(fps), func(i int) bool { return within(fps[v.Best], fps[i]) })
	if v.Accepted {
		v.Value = bytes.Clone(fps[v.Best])
	}
	return v, nil
}
