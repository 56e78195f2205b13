package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/quorum"
)

// testPolicy is the built-in image model's measured policy (models/diffusion/policy-base.json)
// for model m: pHash/16 at tolerance 10.
func testPolicy(m Model) Policy {
	return Policy{Model: m, Kind: "image", Parts: []PolicyPart{{Scheme: "image:phash/16", Tolerance: 10}},
		TypeIPPM: 1_000_000, TypeIPairs: 1500, TypeIIPPM: 0, TypeIIUpperPPM: 20, TypeIIPairs: 149_500,
		Dataset: [32]byte{0xd9, 0x42}}
}

// twoParts is a policy of two 8-byte hashes: pHash/8 at tolerance 2, dHash/8 at 0.
func twoParts(m Model) Policy {
	p := testPolicy(m)
	p.Parts = []PolicyPart{{Scheme: "image:phash/8", Tolerance: 2}, {Scheme: "image:dhash/8", Tolerance: 0}}
	return p
}

func TestPolicyValidate(t *testing.T) {
	m := modelFor("m1")
	tests := []struct {
		name string
		edit func(p *Policy)
		bad  string // part of the error; "" for valid
	}{
		{"measured policy", func(*Policy) {}, ""},
		{"two parts", func(p *Policy) { *p = twoParts(m) }, ""},
		{"colorhash", func(p *Policy) { p.Parts = []PolicyPart{{"image:colorhash/3", 42}} }, ""},
		{"text kind", func(p *Policy) { p.Kind = "text" }, "kind"},
		{"no model name", func(p *Policy) { p.Model.Name = "" }, "model name"},
		{"long model name", func(p *Policy) { p.Model.Name = strings.Repeat("m", MaxNameBytes+1) }, "model name"},
		{"no parts", func(p *Policy) { p.Parts = nil }, "parts"},
		{"too many parts", func(p *Policy) {
			p.Parts = []PolicyPart{{"image:phash/8", 1}, {"image:dhash/8", 1}, {"image:average_hash/8", 1}, {"image:whash/8", 1}, {"image:phash_simple/8", 1}}
		}, "parts"},
		{"imagehash has no ahash", func(p *Policy) { p.Parts[0].Scheme = "image:ahash/8" }, "unknown scheme"},
		{"size written twice", func(p *Policy) { p.Parts[0].Scheme = "image:phash/016" }, "unknown scheme"},
		{"size left out", func(p *Policy) { p.Parts[0].Scheme = "image:phash" }, "unknown scheme"},
		{"whash of no power of 2", func(p *Policy) { p.Parts[0].Scheme = "image:whash/6" }, "unknown scheme"},
		{"text scheme", func(p *Policy) { p.Parts[0].Scheme = "text:tokens" }, "unknown scheme"},
		{"hash too large", func(p *Policy) { p.Parts[0].Scheme = "image:phash/65" }, "unknown scheme"},
		{"long scheme name", func(p *Policy) { p.Parts[0].Scheme = "image:phash/" + strings.Repeat("1", MaxSchemeBytes) }, "scheme name"},
		{"tolerance over the bits", func(p *Policy) { p.Parts[0].Tolerance = 257 }, "tolerance"},
		{"tolerance at the bits", func(p *Policy) { p.Parts[0].Tolerance = 256 }, ""},
		{"scheme twice", func(p *Policy) { p.Parts = append(p.Parts, p.Parts[0]) }, "twice"},
		{"Type I over a million", func(p *Policy) { p.TypeIPPM = PPM + 1 }, "rate"},
		{"upper bound below rate", func(p *Policy) { p.TypeIIPPM = 30 }, "upper bound"},
		{"no honest pairs", func(p *Policy) { p.TypeIPairs = 0 }, "pairs"},
		{"no dataset", func(p *Policy) { p.Dataset = [32]byte{} }, "dataset"},
	}
	for _, tt := range tests {
		p := testPolicy(m)
		tt.edit(&p)
		err := p.Validate()
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.bad != "" && (!errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%s: error %v, want ErrPolicy about %q", tt.name, err, tt.bad)
		}
	}
}

// TestSchemeBitsMatchesFingerprint: the ledger's scheme names and bit counts are package
// fingerprint's, for every image hash kind and size the ledger takes, and it refuses what
// fingerprint refuses.
func TestSchemeBitsMatchesFingerprint(t *testing.T) {
	for _, k := range imghash.Kinds {
		for size := 0; size <= 70; size++ {
			name := fmt.Sprintf("image:%v/%d", k, size)
			bits, ok := SchemeBits(name)
			s, err := fingerprint.ParseScheme(name)
			if ok && (err != nil || s.Bits() != bits || s.String() != name) {
				t.Errorf("%s: ledger %d bits, fingerprint %v (%v)", name, bits, s.Bits(), err)
			}
			if !ok && err == nil && size <= 64 {
				t.Errorf("%s: fingerprint takes it, the ledger does not", name)
			}
		}
	}
}

// policyNet is a chain with policies, three nodes serving m1 and a client.
func policyNet(t *testing.T, policies ...Policy) *loadNet {
	t.Helper()
	g := Genesis{ChainID: "load", Params: DefaultParams(), Policies: policies}
	n := &loadNet{t: t}
	n.client = NewSigner(keyFor("load client"), g.ChainID)
	g.Accounts = append(g.Accounts, GenesisAccount{Key: n.client.Key(), Balance: 1 << 40})
	var txs [][]byte
	for i := range 3 {
		s := NewSigner(keyFor(fmt.Sprintf("load node %d", i)), g.ChainID)
		n.nodes = append(n.nodes, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1 << 30})
		txs = append(txs, s.RegisterNode(RegisterNode{Stake: 10000, Models: []Model{modelFor("m1")}}))
	}
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	for _, r := range n.block(1000, txs...).TxResults {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return n
}

// TestGenesisPolicies: genesis registers policies, refuses an invalid one or two for one model
// and kind; they are in the app hash and survive MarshalState / UnmarshalState; a state
// without policies encodes as before (no policy section), and a snapshot with a broken policy
// section is refused.
func TestGenesisPolicies(t *testing.T) {
	m := modelFor("m1")
	base := Genesis{ChainID: "g", Params: DefaultParams()}
	with := base
	with.Policies = []Policy{testPolicy(m), twoParts(modelFor("m2"))}
	for _, tt := range []struct {
		name     string
		policies []Policy
	}{
		{"two for one model and kind", []Policy{testPolicy(m), twoParts(m)}},
		{"invalid", []Policy{{Model: m, Kind: "image"}}},
	} {
		g := base
		g.Policies = tt.policies
		if _, err := New(g); !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: New: %v, want ErrPolicy", tt.name, err)
		}
	}
	plain, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(with)
	if err != nil {
		t.Fatal(err)
	}
	if plain.AppHash() == st.AppHash() {
		t.Error("policies do not change the app hash")
	}
	if st.fullAppHash() != st.AppHash() {
		t.Error("incremental and full app hash differ")
	}
	if got, ok := st.Policy(m, "image"); !ok || got.Parts[0].Scheme != "image:phash/16" || got.TypeIIUpperPPM != 20 {
		t.Errorf("Policy(m1, image) = %+v, %v", got, ok)
	}
	if _, ok := st.Policy(m, "text"); ok {
		t.Error("a policy for text tasks that nobody registered")
	}
	if n := len(st.Policies()); n != 2 {
		t.Errorf("%d policies, want 2", n)
	}
	enc := st.MarshalState()
	back, err := UnmarshalState(enc)
	if err != nil {
		t.Fatal(err)
	}
	if back.AppHash() != st.AppHash() || !bytes.Equal(back.MarshalState(), enc) {
		t.Error("policies do not survive a snapshot")
	}
	plainEnc := plain.MarshalState()
	if !bytes.HasPrefix(enc, plainEnc) || len(enc) == len(plainEnc) {
		t.Error("the policy section is not appended")
	}
	if b, err := UnmarshalState(plainEnc); err != nil || len(b.Policies()) != 0 {
		t.Errorf("a state without policies: %v, %d policies", err, len(b.Policies()))
	}
	for name, bad := range map[string][]byte{
		"truncated":              enc[:len(enc)-1],
		"empty policy section":   append(bytes.Clone(plainEnc), 0, 0, 0, 0),
		"trailing after section": append(bytes.Clone(enc), 0),
	} {
		if _, err := UnmarshalState(bad); !errors.Is(err, ErrMalformedState) {
			t.Errorf("%s: %v, want ErrMalformedState", name, err)
		}
	}
}

// TestPolicySubmit: a task on a model with a policy for its kind must declare the policy's
// fingerprint length and tolerance and settle on fingerprints; CheckTx and the block refuse it
// otherwise (ErrPolicy). Other kinds on the model, and other models, are not bound.
func TestPolicySubmit(t *testing.T) {
	n := policyNet(t, testPolicy(modelFor("m1")))
	tests := []struct {
		name string
		spec SubmitTask
		err  error
	}{
		{"the policy's", SubmitTask{Kind: "image", FingerprintLen: 32, Tolerance: 10}, nil},
		{"looser tolerance", SubmitTask{Kind: "image", FingerprintLen: 32, Tolerance: 12}, ErrPolicy},
		{"stricter tolerance", SubmitTask{Kind: "image", FingerprintLen: 32, Tolerance: 2}, ErrPolicy},
		{"aHash/8 length", SubmitTask{Kind: "image", FingerprintLen: 8, Tolerance: 10}, ErrPolicy},
		{"score verdicts", SubmitTask{Kind: "image", FingerprintLen: 32, Tolerance: 0, Verify: VerifyScore}, ErrPolicy},
		{"text on the model", SubmitTask{Kind: "text", FingerprintLen: 32, Tolerance: 0}, nil},
		{"trajectory, the policy's image fingerprint", SubmitTask{Kind: "image", FingerprintLen: 32 + TrajectoryDigestsLen(4),
			Verify: VerifyTrajectory, Segment: SegmentSpec{Segments: 4, Checks: 1}}, nil},
		{"trajectory, aHash/8 image fingerprint", SubmitTask{Kind: "image", FingerprintLen: 8 + TrajectoryDigestsLen(4),
			Verify: VerifyTrajectory, Segment: SegmentSpec{Segments: 4, Checks: 1}}, ErrPolicy},
	}
	for _, tt := range tests {
		spec := tt.spec
		spec.Model, spec.Replicas, spec.Rule, spec.Fee = modelFor("m1"), 3, quorum.Majority, 90
		raw, _ := n.client.SubmitTask(spec)
		if _, err := n.st.CheckTx(raw, nil); !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: CheckTx: %v, want %v", tt.name, err, tt.err)
		}
		res := n.block(1000, raw)
		if err := res.TxResults[0].Err; !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: in the block: %v, want %v", tt.name, err, tt.err)
		}
		if tt.err != nil && Code(res.TxResults[0].Err) != Code(ErrPolicy) {
			t.Errorf("%s: code %d", tt.name, Code(res.TxResults[0].Err))
		}
	}
}

// TestPolicySettle: settlement accepts a fingerprint only when every part of the policy is
// within its own tolerance. With pHash/8 at 2 and dHash/8 at 0, two bits of drift in the
// pHash part agree, while two bits in the dHash part make an outlier although the task's
// total tolerance (2) would have accepted it.
func TestPolicySettle(t *testing.T) {
	m := modelFor("m1")
	a := bytes.Repeat([]byte{0x5a}, 16)
	flip := func(i int, mask byte) []byte { b := bytes.Clone(a); b[i] ^= mask; return b }
	tests := []struct {
		name     string
		fps      [][]byte
		outcomes string
		value    []byte
	}{
		{"equal", [][]byte{a, a, a}, "agreed agreed agreed", a},
		// Support ties: the smallest value is the verdict's.
		{"drift in pHash part", [][]byte{a, flip(3, 0x03), a}, "agreed agreed agreed", flip(3, 0x03)},
		{"drift in dHash part", [][]byte{a, flip(12, 0x03), a}, "agreed outlier agreed", a},
		{"one bit in dHash part", [][]byte{a, a, flip(15, 0x01)}, "agreed agreed outlier", a},
		{"pHash part past 2 bits", [][]byte{flip(0, 0x07), a, a}, "outlier agreed agreed", a},
	}
	for _, tt := range tests {
		n := policyNet(t, twoParts(m))
		raw, id := n.client.SubmitTask(SubmitTask{Kind: "image", Model: m, Replicas: 3, Rule: quorum.Majority,
			FingerprintLen: 16, Tolerance: 2, Fee: 90})
		if err := n.block(1000, raw).TxResults[0].Err; err != nil {
			t.Fatal(err)
		}
		tk, _ := n.st.Task(id)
		var commits, reveals [][]byte
		for j := range tk.Executors {
			s := n.signerOf(tk.Executors[j].Node)
			commits = append(commits, s.Commit(id, tt.fps[j], [32]byte{byte(j)}))
			reveals = append(reveals, s.Reveal(id, tt.fps[j], [32]byte{byte(j)}, [32]byte{}))
		}
		n.block(1000, commits...)
		n.block(1000, reveals...)
		tk, _ = n.st.Task(id)
		var got []string
		for _, x := range tk.Executors {
			got = append(got, x.Outcome.String())
		}
		if strings.Join(got, " ") != tt.outcomes || !bytes.Equal(tk.Value, tt.value) {
			t.Errorf("%s: outcomes %v value %x, want %s %x", tt.name, got, tk.Value, tt.outcomes, tt.value)
		}
		if n.st.fullAppHash() != n.st.AppHash() {
			t.Errorf("%s: incremental and full app hash differ", tt.name)
		}
	}
}

// signerOf returns the node signer with key k.
func (n *loadNet) signerOf(k PubKey) *Signer {
	for _, s := range n.nodes {
		if s.Key() == k {
			return s
		}
	}
	n.t.Fatalf("no node %v", k)
	return nil
}
