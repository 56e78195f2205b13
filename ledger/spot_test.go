package ledger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// spotNet is a chain of nodes serving m1 driven block by block, with chosen block randomness.
type spotNet struct {
	t      *testing.T
	st     *State
	client *Signer
	nodes  map[PubKey]*Signer
	keys   []PubKey // registration order
}

func newSpotNet(t *testing.T, p Params, nodes int, policies ...Policy) *spotNet {
	t.Helper()
	g := Genesis{ChainID: "spot", Params: p, Policies: policies}
	n := &spotNet{t: t, nodes: map[PubKey]*Signer{}}
	n.client = NewSigner(keyFor("spot client"), g.ChainID)
	g.Accounts = append(g.Accounts, GenesisAccount{Key: n.client.Key(), Balance: 1 << 30})
	var txs [][]byte
	for i := range nodes {
		s := NewSigner(keyFor(fmt.Sprint("spot node ", i)), g.ChainID)
		n.nodes[s.Key()] = s
		n.keys = append(n.keys, s.Key())
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 10000})
		txs = append(txs, s.RegisterNode(RegisterNode{Stake: 1000, Models: []Model{modelFor("m1")}}))
	}
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	n.block([32]byte{}, txs...)
	return n
}

// block finalizes and commits the next block with randomness rnd; every transaction must be
// accepted. It checks that the state survives MarshalState and UnmarshalState with its app
// hash.
func (n *spotNet) block(rnd [32]byte, txs ...[]byte) BlockResult {
	n.t.Helper()
	res := n.blockErr(rnd, txs...)
	for i, r := range res.TxResults {
		if r.Err != nil {
			n.t.Fatalf("height %d tx %d: %v", n.st.Height(), i, r.Err)
		}
	}
	return res
}

func (n *spotNet) blockErr(rnd [32]byte, txs ...[]byte) BlockResult {
	n.t.Helper()
	res, err := n.st.FinalizeBlock(Block{Height: n.st.Height() + 1, Rand: rnd, Txs: txs}, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	if full := n.st.fullAppHash(); full != res.AppHash {
		n.t.Fatalf("height %d: incremental app hash %x, from scratch %x", n.st.Height(), res.AppHash, full)
	}
	r, err := UnmarshalState(n.st.MarshalState())
	if err != nil {
		n.t.Fatalf("height %d: UnmarshalState: %v", n.st.Height(), err)
	}
	if r.AppHash() != res.AppHash || !bytes.Equal(r.MarshalState(), n.st.MarshalState()) {
		n.t.Fatalf("height %d: restored state differs", n.st.Height())
	}
	return res
}

func (n *spotNet) task(id TaskID) Task {
	n.t.Helper()
	tk, ok := n.st.Task(id)
	if !ok {
		n.t.Fatalf("no task %v", id)
	}
	return tk
}

// randFor returns block randomness under which the spot draw of id at ppm comes out drawn.
func randFor(id TaskID, ppm uint32, drawn bool) [32]byte {
	for i := 0; ; i++ {
		r := sha256.Sum256([]byte(fmt.Sprint("spot rand ", i)))
		if SpotDrawn(r, id, ppm) == drawn {
			return r
		}
	}
}

func salt(k PubKey) [32]byte { return sha256.Sum256(k[:]) }

// commitAll returns the commitments of the given executors to their fingerprints.
func (n *spotNet) commits(id TaskID, fps map[PubKey][]byte, who []PubKey) [][]byte {
	var txs [][]byte
	for _, k := range who {
		txs = append(txs, n.nodes[k].Commit(id, fps[k], salt(k)))
	}
	return txs
}

func (n *spotNet) reveals(id TaskID, fps map[PubKey][]byte, who []PubKey) [][]byte {
	var txs [][]byte
	for _, k := range who {
		txs = append(txs, n.nodes[k].Reveal(id, fps[k], salt(k), [32]byte{}))
	}
	return txs
}

func findEvent(evs []Event, typ EventType) (Event, bool) {
	for _, e := range evs {
		if e.Type == typ {
			return e, true
		}
	}
	return Event{}, false
}

func allEvents(r BlockResult) []Event {
	var evs []Event
	for _, x := range r.TxResults {
		evs = append(evs, x.Events...)
	}
	return append(evs, r.Events...)
}

func spotParams() Params {
	p := DefaultParams()
	p.SpotVerifiers = 2
	return p
}

// TestSpotDrawnRate: SpotDrawn's reference (exact big-integer floor(x * 10^6 / 2^64) < ppm)
// agrees, 0 never and 10^6 always verifies, and 10 % verifies within four binomial standard
// deviations over 20,000 draws.
func TestSpotDrawnRate(t *testing.T) {
	const draws = 20000
	hits := 0
	for i := range draws {
		r := sha256.Sum256([]byte(fmt.Sprint("r", i)))
		id := TaskID(sha256.Sum256([]byte(fmt.Sprint("t", i))))
		h := sha256.Sum256(slices.Concat([]byte("genquorum/spot/v1"), r[:], id[:]))
		x := new(big.Int).SetBytes(h[:8])
		x.Mul(x, big.NewInt(PPM)).Rsh(x, 64)
		for _, ppm := range []uint32{1, 99_999, 100_000, 500_000, 999_999} {
			if got, want := SpotDrawn(r, id, ppm), x.Cmp(big.NewInt(int64(ppm))) < 0; got != want {
				t.Fatalf("draw %d ppm %d: SpotDrawn %t, reference %t", i, ppm, got, want)
			}
		}
		if SpotDrawn(r, id, 0) || !SpotDrawn(r, id, PPM) {
			t.Fatalf("draw %d: ppm 0 or 10^6 not decided", i)
		}
		if SpotDrawn(r, id, 100_000) {
			hits++
		}
	}
	mean, sd := draws*0.1, math.Sqrt(draws*0.1*0.9)
	if math.Abs(float64(hits)-mean) > 4*sd {
		t.Errorf("ppm 100000: %d of %d drawn, want %.0f ± %.0f", hits, draws, mean, 4*sd)
	}
}

// TestSpotTask runs spot-checked tasks through real transactions: the draw is made at the end
// of the block after the executor's commitment from that block's randomness (deterministic:
// the tests choose it), verifiers are never the executor or the submitter, a cheating
// executor is caught when drawn and goes unverified when not.
func TestSpotTask(t *testing.T) {
	honest, cheat := []byte{0x12, 0x34}, []byte{0xed, 0xcb}
	cases := []struct {
		name    string
		nodes   int
		ppm     uint32
		drawn   bool // the randomness of the draw block verifies
		cheater bool // the executor reveals a fingerprint far from the honest one
		// want
		verifiers int
		status    TaskStatus
		value     []byte
		reason    string
		slashed   bool // the executor lost SlashOutlierBPS
		fee       uint64
	}{
		{name: "not drawn", nodes: 5, ppm: 100_000, status: StatusAccepted, value: honest, reason: ReasonUnverified, fee: 90},
		{name: "not drawn, cheater unverified", nodes: 5, ppm: 100_000, cheater: true, status: StatusAccepted, value: cheat,
			reason: ReasonUnverified, fee: 90},
		{name: "drawn, honest", nodes: 5, ppm: 100_000, drawn: true, verifiers: 2, status: StatusAccepted, value: honest, fee: 30},
		{name: "drawn, cheater caught", nodes: 5, ppm: 100_000, drawn: true, cheater: true, verifiers: 2,
			status: StatusAccepted, value: honest, slashed: true},
		{name: "always drawn", nodes: 3, ppm: PPM, drawn: true, cheater: true, verifiers: 2, status: StatusAccepted,
			value: honest, slashed: true},
		{name: "drawn, too few free verifiers", nodes: 2, ppm: 100_000, drawn: true, cheater: true, status: StatusAccepted,
			value: cheat, reason: ReasonUnverified + "; " + ReasonSpotNoVerifiers, fee: 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newSpotNet(t, spotParams(), c.nodes)
			raw, id := n.client.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: 1, Rule: quorum.Majority,
				FingerprintLen: 2, Fee: 90, SpotPPM: c.ppm})
			n.block([32]byte{1}, raw)
			tk := n.task(id)
			if len(tk.Executors) != 1 || tk.Status != StatusCommit {
				t.Fatalf("after submission: %d executors, status %s", len(tk.Executors), tk.Status)
			}
			ex := tk.Executors[0].Node
			fps := map[PubKey][]byte{}
			for _, k := range n.keys {
				fps[k] = honest
			}
			if c.cheater {
				fps[ex] = cheat
			}
			n.block([32]byte{2}, n.commits(id, fps, []PubKey{ex})...)
			if tk := n.task(id); tk.Status != StatusSpotDraw || tk.Spot.DrawAt != n.st.Height()+1 {
				t.Fatalf("after the commitment: status %s, draw at %d (height %d)", tk.Status, tk.Spot.DrawAt, n.st.Height())
			}
			// Continue on a restored copy: the pending draw must survive a restart.
			r, err := UnmarshalState(n.st.MarshalState())
			if err != nil {
				t.Fatal(err)
			}
			n.st = r
			// The executor cannot reveal before the draw: in the draw block itself, its reveal
			// is refused.
			res := n.blockErr(randFor(id, c.ppm, c.drawn), n.reveals(id, fps, []PubKey{ex})...)
			if err := res.TxResults[0].Err; !errors.Is(err, ErrRevealTooEarly) {
				t.Fatalf("reveal in the draw block: %v, want ErrRevealTooEarly", err)
			}
			e, ok := findEvent(res.Events, EventSpotDrawn)
			if !ok || (e.Amount == 1) != c.drawn || len(e.Nodes) != c.verifiers {
				t.Fatalf("spot-drawn event %+v (found %t), want drawn %t with %d verifiers", e, ok, c.drawn, c.verifiers)
			}
			tk = n.task(id)
			if len(tk.Executors) != 1+c.verifiers {
				t.Fatalf("%d executors, want %d", len(tk.Executors), 1+c.verifiers)
			}
			var vs []PubKey
			for _, x := range tk.Executors[1:] {
				if x.Node == ex || x.Node == n.client.Key() {
					t.Fatalf("verifier %v is the executor or the submitter", x.Node)
				}
				vs = append(vs, x.Node)
			}
			if c.verifiers > 0 {
				// The executor's commitment stands; it cannot reveal until the verifiers committed.
				if tk.Status != StatusCommit {
					t.Fatalf("status %s after verifiers were drawn", tk.Status)
				}
				res := n.blockErr([32]byte{4}, n.reveals(id, fps, []PubKey{ex})...)
				if err := res.TxResults[0].Err; !errors.Is(err, ErrRevealTooEarly) {
					t.Fatalf("reveal before the verifiers committed: %v", err)
				}
				n.block([32]byte{5}, n.commits(id, fps, vs)...)
			}
			stake := n.st.nodes[ex].Stake
			bal := n.st.Account(ex).Balance
			n.block([32]byte{6}, n.reveals(id, fps, append([]PubKey{ex}, vs...))...)
			tk = n.task(id)
			if tk.Status != c.status || !bytes.Equal(tk.Value, c.value) || tk.Reason != c.reason {
				t.Fatalf("settled %s value %x reason %q, want %s %x %q", tk.Status, tk.Value, tk.Reason, c.status, c.value, c.reason)
			}
			wantStake := stake
			if c.slashed {
				wantStake -= stake * uint64(n.st.params.SlashOutlierBPS) / 10000
			}
			if got := n.st.nodes[ex].Stake; got != wantStake {
				t.Errorf("executor stake %d, want %d", got, wantStake)
			}
			// The executor's reveal transaction paid TxFee (0 here).
			if got := n.st.Account(ex).Balance - bal; got != c.fee {
				t.Errorf("executor earned %d, want %d", got, c.fee)
			}
			for _, k := range n.keys {
				if nd := n.st.nodes[k]; nd.Open != 0 {
					t.Errorf("node %v has %d open assignments after settlement", k, nd.Open)
				}
			}
		})
	}
}

// TestSpotSubmissionRules: spot checks need 1 replica and verify equal (stateless), and a
// chain with SpotVerifiers 0 refuses them in CheckTx and in the block.
func TestSpotSubmissionRules(t *testing.T) {
	base := SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: 1, Rule: quorum.Majority, FingerprintLen: 2, Fee: 9, SpotPPM: 5}
	bad := []func(*SubmitTask){
		func(b *SubmitTask) { b.Replicas = 3 },
		func(b *SubmitTask) { b.Verify = VerifyScore },
		func(b *SubmitTask) { b.SpotPPM = PPM + 1 },
	}
	s := NewSigner(keyFor("rules"), "spot")
	for i, f := range bad {
		b := base
		f(&b)
		if _, err := DecodeTx(s.Sign(&b)); !errors.Is(err, ErrMalformedTx) {
			t.Errorf("case %d: %v, want ErrMalformedTx", i, err)
		}
	}
	// A spot flag with probability 0 is not canonical.
	raw := encodeUnsigned(s.Key(), 1, &base)
	raw = raw[:len(raw)-4]
	raw = append(raw, 0, 0, 0, 0)
	if _, err := DecodeTx(append(raw, make([]byte, sigLen)...)); !errors.Is(err, ErrMalformedTx) {
		t.Errorf("spot flag with 0 ppm: %v", err)
	}
	// The round trip keeps SpotPPM; without it the encoding is the old one.
	tx, err := DecodeTx(s.Sign(&base))
	if err != nil || tx.Body.(*SubmitTask).SpotPPM != 5 {
		t.Fatalf("round trip: %v %+v", err, tx)
	}
	plain := base
	plain.SpotPPM = 0
	if a, b := encodeUnsigned(s.Key(), 1, &plain), encodeUnsigned(s.Key(), 1, &base); len(b) != len(a)+4 || a[len(a)-1] != VerifyEqual {
		t.Errorf("plain encoding changed: %d and %d bytes", len(a), len(b))
	}

	n := newSpotNet(t, DefaultParams(), 3) // SpotVerifiers 0: off
	raw, _ = n.client.SubmitTask(base)
	if _, err := n.st.CheckTx(raw, nil); !errors.Is(err, ErrInvalidTask) {
		t.Errorf("CheckTx on a chain without spot checks: %v", err)
	}
	if res := n.blockErr([32]byte{}, raw); !errors.Is(res.TxResults[0].Err, ErrInvalidTask) {
		t.Errorf("block on a chain without spot checks: %v", res.TxResults[0].Err)
	}

	// In a SubmitBatch: refused on that chain, a spot-checked task on one with spot checks.
	raw, _ = n.client.SubmitBatch([]SubmitTask{base})
	if _, err := n.st.CheckTx(raw, nil); !errors.Is(err, ErrInvalidTask) {
		t.Errorf("CheckTx of a batch on a chain without spot checks: %v", err)
	}
	n = newSpotNet(t, spotParams(), 3)
	raw, ids := n.client.SubmitBatch([]SubmitTask{base})
	n.block([32]byte{1}, raw)
	tk := n.task(ids[0])
	if tk.Spec.SpotPPM != 5 || len(tk.Executors) != 1 {
		t.Fatalf("batch item: spot %d, %d executors", tk.Spec.SpotPPM, len(tk.Executors))
	}
	ex := tk.Executors[0].Node
	n.block([32]byte{2}, n.nodes[ex].Commit(ids[0], []byte{1, 2}, salt(ex)))
	if st := n.task(ids[0]).Status; st != StatusSpotDraw {
		t.Errorf("batch item after its commitment: %s, want spot-draw", st)
	}
}

// TestEscalation: a thin verdict (agreeing executors exactly the rule's need) or one with an
// agreeing fingerprint within EscalateMarginBits of the tolerance draws EscalateVerifiers more
// verifiers (never the executors) before settling; the round then settles over all its
// executors, and never escalates twice. Too few free nodes, or escalation off, settles as
// before.
func TestEscalation(t *testing.T) {
	v := []byte{0x00, 0x00}
	cases := []struct {
		name      string
		nodes     int
		k, margin uint32
		tol       uint32
		fps       [][]byte // the three executors' reveals (nil: does not commit)
		extra     []byte   // what the escalation verifiers reveal
		// want
		escalated string // EventEscalated.Reason, "" for none
		support   uint32
		reason    string
		outliers  int
	}{
		{name: "unanimous", nodes: 6, k: 2, fps: [][]byte{v, v, v}, support: 3},
		{name: "thin: outlier", nodes: 6, k: 2, fps: [][]byte{v, v, {0xff, 0xff}}, extra: v, escalated: ReasonThin,
			support: 4, outliers: 1},
		{name: "thin: silent executor", nodes: 6, k: 2, fps: [][]byte{v, v, nil}, extra: v, escalated: ReasonThin, support: 4},
		{name: "thin, extra verifiers disagree with the majority", nodes: 6, k: 2, fps: [][]byte{v, v, {0xff, 0xff}},
			extra: []byte{0xff, 0xff}, escalated: ReasonThin, support: 3, outliers: 2},
		{name: "thin, escalation off", nodes: 6, fps: [][]byte{v, v, {0xff, 0xff}}, support: 2, outliers: 1},
		{name: "thin, too few free nodes", nodes: 4, k: 2, fps: [][]byte{v, v, {0xff, 0xff}}, support: 2, outliers: 1,
			reason: ReasonEscalationSkipped},
		{name: "near the edge", nodes: 6, k: 2, margin: 1, tol: 4, fps: [][]byte{v, v, {0x07, 0x00}}, extra: v,
			escalated: ReasonNearEdge, support: 5},
		{name: "inside the margin", nodes: 6, k: 2, margin: 1, tol: 4, fps: [][]byte{v, v, {0x03, 0x00}}, support: 3},
		{name: "margin off", nodes: 6, k: 2, tol: 4, fps: [][]byte{v, v, {0x07, 0x00}}, support: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultParams()
			p.EscalateVerifiers, p.EscalateMarginBits = c.k, c.margin
			n := newSpotNet(t, p, c.nodes)
			raw, id := n.client.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: 3, Rule: quorum.Majority,
				FingerprintLen: 2, Tolerance: c.tol, Fee: 100})
			n.block([32]byte{1}, raw)
			tk := n.task(id)
			fps := map[PubKey][]byte{}
			var who []PubKey
			for i, x := range tk.Executors {
				if c.fps[i] != nil {
					fps[x.Node] = c.fps[i]
					who = append(who, x.Node)
				}
			}
			n.block([32]byte{2}, n.commits(id, fps, who)...)
			if len(who) < 3 { // the silent executor's window ends at the deadline
				for n.task(id).Status == StatusCommit {
					n.block([32]byte{3})
				}
			}
			res := n.block([32]byte{4}, n.reveals(id, fps, who)...)
			e, ok := findEvent(allEvents(res), EventEscalated)
			if ok != (c.escalated != "") || e.Reason != c.escalated {
				t.Fatalf("escalated %t %q, want %q", ok, e.Reason, c.escalated)
			}
			if ok {
				tk := n.task(id)
				if tk.Status != StatusCommit || len(tk.Executors) != 3+int(c.k) || tk.Spot.From != 3 {
					t.Fatalf("after escalation: status %s, %d executors, from %d", tk.Status, len(tk.Executors), tk.Spot.From)
				}
				var extra []PubKey
				for _, x := range tk.Executors[3:] {
					if slices.ContainsFunc(tk.Executors[:3], func(y Executor) bool { return y.Node == x.Node }) {
						t.Fatalf("escalation verifier %v is already an executor", x.Node)
					}
					fps[x.Node] = c.extra
					extra = append(extra, x.Node)
				}
				// An executor of the first group that did not commit cannot commit now that the
				// fingerprints are public.
				for _, x := range tk.Executors[:3] {
					if !x.Committed {
						res := n.blockErr([32]byte{5}, n.nodes[x.Node].Commit(id, v, salt(x.Node)))
						if !errors.Is(res.TxResults[0].Err, ErrCommitClosed) {
							t.Fatalf("late commitment of the first group: %v", res.TxResults[0].Err)
						}
					}
				}
				n.block([32]byte{6}, n.commits(id, fps, extra)...)
				if st := n.task(id).Status; st != StatusReveal {
					t.Fatalf("status %s after the escalation verifiers committed: the window did not close early", st)
				}
				res = n.block([32]byte{7}, n.reveals(id, fps, extra)...)
				if _, again := findEvent(allEvents(res), EventEscalated); again {
					t.Fatal("escalated twice")
				}
			}
			tk = n.task(id)
			outliers := 0
			for _, x := range tk.Executors {
				if x.Outcome == OutcomeOutlier {
					outliers++
				}
			}
			if tk.Status != StatusAccepted || tk.Support != c.support || tk.Reason != c.reason || outliers != c.outliers {
				t.Errorf("settled %s support %d reason %q outliers %d, want accepted %d %q %d",
					tk.Status, tk.Support, tk.Reason, outliers, c.support, c.reason, c.outliers)
			}
			for _, k := range n.keys {
				if nd := n.st.nodes[k]; nd.Open != 0 {
					t.Errorf("node has %d open assignments after settlement", nd.Open)
				}
			}
		})
	}
}

// TestEscalationPerPolicyPart: under a model's verification policy the near-edge test is
// per part. pHash/8 and dHash/8 at tolerance 3 each make a task tolerance of 6; an agreeing
// fingerprint two bits off in one part is within the margin (1) of that part's edge although
// far from the total's, and escalates; one bit off in each part does not.
func TestEscalationPerPolicyPart(t *testing.T) {
	m := modelFor("m1")
	pol := Policy{Model: m, Kind: "image", Parts: []PolicyPart{{Scheme: "image:phash/8", Tolerance: 3}, {Scheme: "image:dhash/8", Tolerance: 3}},
		TypeIPPM: PPM, TypeIPairs: 10, TypeIIUpperPPM: 10, TypeIIPairs: 10, Dataset: [32]byte{1}}
	a := make([]byte, 16)
	off := func(i ...int) []byte {
		b := slices.Clone(a)
		for _, j := range i {
			b[j/8] ^= 1 << (j % 8)
		}
		return b
	}
	for _, c := range []struct {
		name     string
		third    []byte
		escalate bool
	}{
		{"two bits in the pHash part", off(0, 1), true},
		{"one bit in each part", off(0, 64), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultParams()
			p.EscalateVerifiers, p.EscalateMarginBits = 2, 1
			n := newSpotNet(t, p, 6, pol)
			raw, id := n.client.SubmitTask(SubmitTask{Kind: "image", Model: m, Replicas: 3, Rule: quorum.Majority,
				FingerprintLen: 16, Tolerance: 6, Fee: 90})
			n.block([32]byte{1}, raw)
			fps := map[PubKey][]byte{}
			var who []PubKey
			for i, x := range n.task(id).Executors {
				fps[x.Node] = a
				if i == 2 {
					fps[x.Node] = c.third
				}
				who = append(who, x.Node)
			}
			n.block([32]byte{2}, n.commits(id, fps, who)...)
			res := n.block([32]byte{3}, n.reveals(id, fps, who)...)
			e, ok := findEvent(allEvents(res), EventEscalated)
			if ok != c.escalate || (ok && e.Reason != ReasonNearEdge) {
				t.Fatalf("escalated %t (%q), want %t", ok, e.Reason, c.escalate)
			}
			if tk := n.task(id); !c.escalate && (tk.Status != StatusAccepted || tk.Support != 3) {
				t.Errorf("status %s support %d, want accepted with 3", tk.Status, tk.Support)
			}
		})
	}
}

// TestSpotEvents: the new events' attributes.
func TestSpotEvents(t *testing.T) {
	e := Event{Type: EventSpotDrawn, Amount: 1, Nodes: []PubKey{{1}}}
	if s := fmt.Sprint(e.Attributes()); !strings.Contains(s, "verify 1") || e.Type.String() != "spot-drawn" {
		t.Errorf("spot-drawn attributes %s", s)
	}
	e = Event{Type: EventEscalated, Reason: ReasonThin, Support: 2, Need: 2}
	if s := fmt.Sprint(e.Attributes()); !strings.Contains(s, "reason thin") || e.Type.String() != "escalated" {
		t.Errorf("escalated attributes %s", s)
	}
	if StatusSpotDraw.String() != "spot-draw" {
		t.Errorf("status %s", StatusSpotDraw)
	}
}
