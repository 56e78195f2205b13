package ledger

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/quorum"
)

// Verification policies. A Policy says how the tasks of one kind on one model are verified:
// the fingerprint scheme (one hash, or several laid out one after another, each with its own
// Hamming tolerance) and what a calibration study measured of it: Type I, the share of honest
// pairs (one task run on two hardware profiles) the policy accepts, and Type II, the share of
// pairs of different tasks it accepts (a guess passing), in parts per million, with the pair
// counts and the digest of the study's dataset so that anyone can reproduce them.
//
// Who registers. Policies are part of the genesis (Genesis.Policies): the chain's operator
// publishes them with the chain, every validator agrees to them by running it, and no
// transaction adds, changes or removes one. So neither a submitter nor an executor can loosen
// the tolerance of a model that has a policy, and a task is settled under the policy its model
// had when it was submitted (policies never change). A model without a policy keeps the
// submitter's scheme and tolerance, as before.
//
// What the ledger does with one. A SubmitTask for a (model, kind) with a policy must settle on
// fingerprints (Verify == VerifyEqual), declare the policy's fingerprint length (the sum of
// its parts' bytes) and, as Tolerance, the sum of its parts' tolerances (one part: that part's
// tolerance); otherwise it is refused with ErrPolicy, in CheckTx and in the block. Settlement
// then accepts a fingerprint when every part is within its own tolerance of the candidate
// (quorum.DecideParts). The scheme itself travels in the task's opaque parameters, which the
// ledger cannot read: executors compute the policy's scheme (State.Policy, the task query) and
// treat a task whose parameters name another as unrunnable. The measured rates are stored as
// integers and used off-chain only (package odds: the odds of a correct verdict and of a guess
// passing).

// Limits of a policy.
const (
	// MaxPolicyParts bounds the hashes of one policy.
	MaxPolicyParts = 4
	// MaxSchemeBytes bounds a scheme name.
	MaxSchemeBytes = 64
	// PPM is one in parts per million: the largest rate a policy records.
	PPM = 1_000_000
)

// PolicyPart is one hash of a policy: a scheme name as package fingerprint writes it
// ("image:phash/16") and its Hamming tolerance in bits.
type PolicyPart struct {
	Scheme    string
	Tolerance uint32
}

// Policy is a model's registered verification policy for one kind of task (see above).
type Policy struct {
	Model Model
	Kind  string // the task kind it applies to: "image"
	Parts []PolicyPart
	// TypeIPPM: honest pairs accepted per million, measured over TypeIPairs pairs.
	TypeIPPM   uint32
	TypeIPairs uint64
	// TypeIIPPM: different-task pairs accepted per million over TypeIIPairs pairs, and the
	// one-sided 95 % upper bound of that rate (TypeIIUpperPPM >= TypeIIPPM).
	TypeIIPPM      uint32
	TypeIIUpperPPM uint32
	TypeIIPairs    uint64
	// Dataset is the digest of the calibration study's dataset (its images and their
	// fingerprints), which reproduces the rates.
	Dataset [32]byte
}

// imageKindBits maps the image hash kinds (package imghash's names) to the bits of a hash of
// size s: s*s for the square hashes, 14*s for colorhash (s is its bin bits). The size ranges
// are imghash's.
var imageKindBits = map[string]struct {
	min, max int
	bits     func(s int) int
	pow2     bool
}{
	"average_hash":   {2, 64, func(s int) int { return s * s }, false},
	"dhash":          {2, 64, func(s int) int { return s * s }, false},
	"dhash_vertical": {1, 64, func(s int) int { return s * s }, false},
	"phash":          {2, 64, func(s int) int { return s * s }, false},
	"phash_simple":   {2, 64, func(s int) int { return s * s }, false},
	"whash":          {2, 64, func(s int) int { return s * s }, true},
	"colorhash":      {1, 16, func(s int) int { return 14 * s }, false},
}

// SchemeBits returns the bits of a fingerprint under the image scheme name
// ("image:<kind>/<size>", the kind one of imagehash's) and whether the ledger knows the
// scheme. Names are taken in their one canonical spelling: the size is always written.
func SchemeBits(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "image:")
	if !ok {
		return 0, false
	}
	kind, size, ok := strings.Cut(rest, "/")
	k, known := imageKindBits[kind]
	if !ok || !known {
		return 0, false
	}
	s, err := strconv.Atoi(size)
	if err != nil || strconv.Itoa(s) != size || s < k.min || s > k.max || (k.pow2 && s&(s-1) != 0) {
		return 0, false
	}
	return k.bits(s), true
}

// FingerprintLen returns the bytes of a fingerprint under p: each part's bits rounded up to
// whole bytes, added up. It is 0 for a policy with an unknown scheme.
func (p *Policy) FingerprintLen() uint32 {
	var n uint32
	for _, x := range p.Parts {
		b, ok := SchemeBits(x.Scheme)
		if !ok {
			return 0
		}
		n += uint32((b + 7) / 8)
	}
	return n
}

// Tolerance returns the sum of the parts' tolerances: what a task under p declares as its
// Tolerance (the largest total distance an accepted fingerprint can have).
func (p *Policy) Tolerance() uint32 {
	var t uint32
	for _, x := range p.Parts {
		t += x.Tolerance
	}
	return t
}

// QuorumParts returns p's parts as quorum.DecideParts takes them.
func (p *Policy) QuorumParts() []quorum.Part {
	out := make([]quorum.Part, len(p.Parts))
	for i, x := range p.Parts {
		b, _ := SchemeBits(x.Scheme)
		out[i] = quorum.Part{Bytes: (b + 7) / 8, Tolerance: int(x.Tolerance)}
	}
	return out
}

// Validate reports the first rule p breaks: names within MaxNameBytes, kind "image", 1 to
// MaxPolicyParts parts of known, distinct schemes, each tolerance at most its scheme's bits,
// a fingerprint of at most MaxFingerprintBytes, rates at most PPM with TypeIIUpperPPM >=
// TypeIIPPM, pair counts above 0 and a dataset digest.
func (p *Policy) Validate() error {
	switch {
	case len(p.Model.Name) == 0 || len(p.Model.Name) > MaxNameBytes:
		return fmt.Errorf("%w: model name of %d bytes", ErrPolicy, len(p.Model.Name))
	case p.Kind != "image":
		return fmt.Errorf("%w: kind %q (policies are for image tasks)", ErrPolicy, p.Kind)
	case len(p.Parts) == 0 || len(p.Parts) > MaxPolicyParts:
		return fmt.Errorf("%w: %d parts (want 1..%d)", ErrPolicy, len(p.Parts), MaxPolicyParts)
	case p.TypeIPPM > PPM || p.TypeIIPPM > PPM || p.TypeIIUpperPPM > PPM:
		return fmt.Errorf("%w: rate over %d ppm", ErrPolicy, PPM)
	case p.TypeIIUpperPPM < p.TypeIIPPM:
		return fmt.Errorf("%w: Type II upper bound %d ppm below the rate %d ppm", ErrPolicy, p.TypeIIUpperPPM, p.TypeIIPPM)
	case p.TypeIPairs == 0 || p.TypeIIPairs == 0:
		return fmt.Errorf("%w: no measured pairs", ErrPolicy)
	case p.Dataset == [32]byte{}:
		return fmt.Errorf("%w: no dataset digest", ErrPolicy)
	}
	total := 0
	for i, x := range p.Parts {
		if len(x.Scheme) > MaxSchemeBytes {
			return fmt.Errorf("%w: scheme name of %d bytes", ErrPolicy, len(x.Scheme))
		}
		bits, ok := SchemeBits(x.Scheme)
		if !ok {
			return fmt.Errorf("%w: unknown scheme %q", ErrPolicy, x.Scheme)
		}
		if int64(x.Tolerance) > int64(bits) {
			return fmt.Errorf("%w: %s: tolerance %d over its %d bits", ErrPolicy, x.Scheme, x.Tolerance, bits)
		}
		if slices.ContainsFunc(p.Parts[:i], func(o PolicyPart) bool { return o.Scheme == x.Scheme }) {
			return fmt.Errorf("%w: scheme %s listed twice", ErrPolicy, x.Scheme)
		}
		total += (bits + 7) / 8
	}
	if total > MaxFingerprintBytes {
		return fmt.Errorf("%w: fingerprints of %d bytes (limit %d)", ErrPolicy, total, MaxFingerprintBytes)
	}
	return nil
}

func (p *Policy) clone() Policy {
	c := *p
	c.Parts = slices.Clone(p.Parts)
	return c
}

// policyKey is the state key of the policy of kind on model:
// SHA-256("genquorum/policy/v1" || str model name || model digest || str kind).
func policyKey(m Model, kind string) [32]byte {
	e := encoder{b: []byte("genquorum/policy/v1")}
	e.model(m)
	e.str(kind)
	return sha256.Sum256(e.b)
}

func encodePolicy(e *encoder, p *Policy) {
	e.model(p.Model)
	e.str(p.Kind)
	e.u32(uint32(len(p.Parts)))
	for _, x := range p.Parts {
		e.str(x.Scheme)
		e.u32(x.Tolerance)
	}
	e.u32(p.TypeIPPM)
	e.u64(p.TypeIPairs)
	e.u32(p.TypeIIPPM)
	e.u32(p.TypeIIUpperPPM)
	e.u64(p.TypeIIPairs)
	e.fixed(p.Dataset[:])
}

func decodePolicy(d *decoder) *Policy {
	p := &Policy{Model: d.model("policy model"), Kind: d.str("policy kind", MaxNameBytes)}
	if n := d.count("policy parts", MaxPolicyParts, 8); n > 0 {
		p.Parts = make([]PolicyPart, n)
		for i := range p.Parts {
			p.Parts[i] = PolicyPart{Scheme: d.str("scheme", MaxSchemeBytes), Tolerance: d.u32()}
		}
	}
	p.TypeIPPM = d.u32()
	p.TypeIPairs = d.u64()
	p.TypeIIPPM = d.u32()
	p.TypeIIUpperPPM = d.u32()
	p.TypeIIPairs = d.u64()
	p.Dataset = d.fixed32()
	return p
}

// Policy returns the registered policy of kind tasks on model m.
func (s *State) Policy(m Model, kind string) (Policy, bool) {
	p := s.policies[policyKey(m, kind)]
	if p == nil {
		return Policy{}, false
	}
	return p.clone(), true
}

// Policies returns every registered policy, in the order of their state keys.
func (s *State) Policies() []Policy {
	var out []Policy
	for _, k := range sortedKeys(s.policies) {
		out = append(out, s.policies[k].clone())
	}
	return out
}

// addPolicies registers the genesis policies.
func (s *State) addPolicies(ps []Policy) error {
	for i := range ps {
		p := ps[i].clone()
		if err := p.Validate(); err != nil {
			return fmt.Errorf("ledger: genesis: policy %d: %w", i, err)
		}
		k := policyKey(p.Model, p.Kind)
		if s.policies[k] != nil {
			return fmt.Errorf("ledger: genesis: %w: two policies for %s tasks on %v", ErrPolicy, p.Kind, p.Model)
		}
		s.policies[k] = &p
	}
	return nil
}

// checkPolicy refuses a submission that disagrees with its model's policy (see above).
func (s *State) checkPolicy(b *SubmitTask) error {
	p := s.policies[policyKey(b.Model, b.Kind)]
	if p == nil {
		return nil
	}
	switch {
	case b.Verify == VerifyTrajectory: // the image fingerprint is the policy's, checked exactly by the verifiers
		if b.FingerprintLen != p.FingerprintLen()+TrajectoryDigestsLen(b.Segment.Segments) {
			return fmt.Errorf("%w: %v has a policy for %s tasks: image fingerprints of %d bytes, not %d", ErrPolicy, b.Model, b.Kind,
				p.FingerprintLen(), b.FingerprintLen-TrajectoryDigestsLen(b.Segment.Segments))
		}
	case b.Verify != VerifyEqual:
		return fmt.Errorf("%w: %v has a policy for %s tasks: they settle on fingerprints (verify mode %d)", ErrPolicy, b.Model, b.Kind, b.Verify)
	case b.FingerprintLen != p.FingerprintLen() || b.Tolerance != p.Tolerance():
		return fmt.Errorf("%w: %v has a policy for %s tasks: fingerprints of %d bytes at tolerance %d, not %d at %d",
			ErrPolicy, b.Model, b.Kind, p.FingerprintLen(), p.Tolerance(), b.FingerprintLen, b.Tolerance)
	}
	return nil
}

// decideTask decides the revealed fingerprints fps of t's current round of n executors: under
// its model's policy when it has one, by the task's single tolerance otherwise.
func (s *State) decideTask(t *Task, fps [][]byte, n int) (quorum.Verdict, error) {
	if p := s.policies[policyKey(t.Spec.Model, t.Spec.Kind)]; p != nil && t.Spec.Verify == VerifyEqual {
		return quorum.DecideParts(fps, n, p.QuorumParts(), t.Spec.Rule)
	}
	return quorum.Decide(fps, n, int(t.Spec.Tolerance), t.Spec.Rule)
}
