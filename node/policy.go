package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

// ErrPolicy is wrapped by errors about verification policies: a measured policy file that
// does not make a ledger policy, or a task whose scheme is not its model's policy.
var ErrPolicy = errors.New("node: verification policy")

// measuredPolicy is the part of `genquorum study policy`'s output (tables/policy-<model>.json,
// models/diffusion/policy-<name>.json) that goes on the ledger.
type measuredPolicy struct {
	Model         string `json:"model"`
	ModelDigest   string `json:"model_digest"`
	DatasetDigest string `json:"dataset_digest"`
	Chosen        *struct {
		Parts []struct {
			Scheme    string `json:"scheme"`
			Tolerance int    `json:"tolerance"`
		} `json:"parts"`
		HonestPairs int `json:"HonestPairs"`
		HonestAgree int `json:"HonestAgree"`
		Type2Pairs  int `json:"Type2Pairs"`
		Type2Pass   int `json:"Type2Pass"`
	} `json:"chosen"`
	TypeIPPM     int64 `json:"type1_ppm"`
	TypeIIPPM    int64 `json:"type2_ppm"`
	Type2Upper95 int64 `json:"type2_upper95_ppm"`
}

// ParsePolicy reads a measured policy as `genquorum study policy` writes it and returns it as
// the ledger registers it for image tasks on the measured model: the chosen scheme's parts and
// tolerances, Type I and Type II in parts per million with their pair counts, the 95 % upper
// bound of Type II, and the study's dataset digest. It refuses a study that chose nothing,
// schemes package fingerprint or the ledger does not know (or spell differently), and rates
// that disagree with the counts they come from.
func ParsePolicy(b []byte) (ledger.Policy, error) {
	var m measuredPolicy
	if err := json.Unmarshal(b, &m); err != nil {
		return ledger.Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	if m.Chosen == nil {
		return ledger.Policy{}, fmt.Errorf("%w: the study of %q chose no policy", ErrPolicy, m.Model)
	}
	c := m.Chosen
	p := ledger.Policy{Model: ledger.Model{Name: m.Model}, Kind: string(engine.KindImage),
		TypeIPairs: uint64(max(c.HonestPairs, 0)), TypeIIPairs: uint64(max(c.Type2Pairs, 0))}
	model, err := engine.ParseDigest(m.ModelDigest)
	if err != nil {
		return ledger.Policy{}, fmt.Errorf("%w: model digest: %v", ErrPolicy, err)
	}
	dataset, err := engine.ParseDigest(m.DatasetDigest)
	if err != nil {
		return ledger.Policy{}, fmt.Errorf("%w: dataset digest: %v", ErrPolicy, err)
	}
	p.Model.Digest, p.Dataset = model, dataset
	for _, x := range c.Parts {
		s, err := fingerprint.ParseScheme(x.Scheme)
		if err != nil {
			return ledger.Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
		}
		if bits, ok := ledger.SchemeBits(x.Scheme); !ok || s.String() != x.Scheme || bits != s.Bits() {
			return ledger.Policy{}, fmt.Errorf("%w: scheme %q is not one the ledger knows", ErrPolicy, x.Scheme)
		}
		if x.Tolerance < 0 {
			return ledger.Policy{}, fmt.Errorf("%w: %s: tolerance %d", ErrPolicy, x.Scheme, x.Tolerance)
		}
		p.Parts = append(p.Parts, ledger.PolicyPart{Scheme: x.Scheme, Tolerance: uint32(x.Tolerance)})
	}
	ppm := func(a, n int) int64 { return int64(a) * ledger.PPM / int64(max(n, 1)) }
	switch {
	case m.TypeIPPM != ppm(c.HonestAgree, c.HonestPairs) || m.TypeIIPPM != ppm(c.Type2Pass, c.Type2Pairs):
		return ledger.Policy{}, fmt.Errorf("%w: rates %d and %d ppm disagree with the counts %d/%d and %d/%d", ErrPolicy,
			m.TypeIPPM, m.TypeIIPPM, c.HonestAgree, c.HonestPairs, c.Type2Pass, c.Type2Pairs)
	case m.Type2Upper95 < m.TypeIIPPM || m.Type2Upper95 > ledger.PPM:
		return ledger.Policy{}, fmt.Errorf("%w: Type II upper bound %d ppm", ErrPolicy, m.Type2Upper95)
	}
	p.TypeIPPM, p.TypeIIPPM, p.TypeIIUpperPPM = uint32(m.TypeIPPM), uint32(m.TypeIIPPM), uint32(m.Type2Upper95)
	if err := p.Validate(); err != nil {
		return ledger.Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	return p, nil
}

// LookupPolicy returns the policy registered on the ledger for kind tasks on model m, or nil
// when there is none.
func LookupPolicy(ctx context.Context, cc *chain.Client, m engine.ModelRef, kind engine.Kind) (*chain.PolicyView, error) {
	var all []chain.PolicyView
	if err := cc.QueryJSON(ctx, chain.QueryPolicies, nil, &all); err != nil {
		return nil, err
	}
	digest := hex.EncodeToString(m.Digest[:])
	for i := range all {
		if all[i].Model == m.Name && all[i].ModelDigest == digest && all[i].Kind == string(kind) {
			return &all[i], nil
		}
	}
	return nil, nil
}

// UsePolicy sets r's fingerprint scheme and tolerance to the policy's. This executor computes
// fingerprints of one scheme, so a policy of several parts is refused (the ledger settles
// them; see checkPolicy).
func (r *Request) UsePolicy(p *chain.PolicyView) error {
	s, err := policyScheme(p)
	if err != nil {
		return err
	}
	r.Scheme, r.Tolerance = s, p.Parts[0].Tolerance
	return nil
}

// policyScheme returns the scheme of a one-part policy.
func policyScheme(p *chain.PolicyView) (fingerprint.Scheme, error) {
	if len(p.Parts) != 1 {
		return fingerprint.Scheme{}, fmt.Errorf("%w: %s has %d parts; this node computes one-part policies only", ErrPolicy, p.Scheme(), len(p.Parts))
	}
	return fingerprint.ParseScheme(p.Parts[0].Scheme)
}

// checkPolicy is what an executor checks of a task settled under a policy (chain.TaskView's
// Policy) before running it: the task's parameters name the policy's scheme. The ledger has
// already checked the fingerprint length and tolerance but cannot read the parameters; a task
// naming another scheme of the same length (aHash/16 for pHash/16) would be settled with the
// policy's tolerance on hashes it was not measured for, so honest executors treat it as
// unrunnable.
func checkPolicy(p Payload, pv *chain.PolicyView) error {
	s, err := policyScheme(pv)
	if err != nil {
		return err
	}
	if p.Scheme != s {
		return fmt.Errorf("%w: the task names scheme %s, its model's policy %s", ErrPolicy, p.Scheme, s)
	}
	return nil
}

// PolicyOdds are the odds of a task's verdict under its policy, computed off-chain from the
// policy's measured rates and the round's vote counts (package odds; the ledger stores only
// integers). N executors, Need agreeing ones under the task's rule.
type PolicyOdds struct {
	N, Need int
	// TypeI is the measured share of honest pairs the policy accepts (p), TypeILow its
	// one-sided 95 % lower bound (Clopper-Pearson) from the pair counts.
	TypeI, TypeILow float64
	// Correct is the probability that N honest executors reach the right verdict at p =
	// TypeI; CorrectLow at p = TypeILow.
	Correct, CorrectLow float64
	// TypeIIUpper is the policy's one-sided 95 % upper bound of Type II (c); Guess is the
	// probability that a lone guesser's fingerprint is accepted among N-1 honest executors
	// at p = TypeI and c = TypeIIUpper (odds.Guess): an upper bound at 95 % confidence.
	TypeIIUpper, Guess float64
}

// VerdictOdds returns the odds of a verdict among n executors under rule (a quorum rule's
// name, as the task view writes it) for the policy pv.
func VerdictOdds(pv *chain.PolicyView, n int, ruleName string) (PolicyOdds, error) {
	rule, err := quorum.ParseRule(ruleName)
	if err != nil {
		return PolicyOdds{}, err
	}
	o := PolicyOdds{N: n, TypeI: float64(pv.TypeIPPM) / ledger.PPM, TypeIIUpper: float64(pv.TypeIIUpper) / ledger.PPM}
	agree := int(uint64(pv.TypeIPPM) * pv.TypeIPairs / ledger.PPM)
	est, err := odds.ClopperPearson(agree, int(pv.TypeIPairs), 0.90) // two-sided 90 %: one-sided 95 % bounds
	if err != nil {
		return PolicyOdds{}, err
	}
	o.TypeILow = est.Lo
	c, err := odds.Correct(n, o.TypeI, rule)
	if err != nil {
		return PolicyOdds{}, err
	}
	o.Need, o.Correct = c.Need, c.P
	if c, err = odds.Correct(n, o.TypeILow, rule); err != nil {
		return PolicyOdds{}, err
	}
	o.CorrectLow = c.P
	g, err := odds.Guess(n, 0, o.TypeI, o.TypeIIUpper, rule)
	if err != nil {
		return PolicyOdds{}, err
	}
	o.Guess = g.P
	return o, nil
}
