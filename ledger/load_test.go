package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// loadNet is a small chain for the load rules: nodes serving m1 with the given capacities,
// one funded client, params p.
type loadNet struct {
	t      *testing.T
	st     *State
	nodes  []*Signer
	client *Signer
	time   uint64 // block time, ms
}

func newLoadNet(t *testing.T, p Params, capacities ...uint32) *loadNet {
	t.Helper()
	g := Genesis{ChainID: "load", Params: p}
	n := &loadNet{t: t}
	n.client = NewSigner(keyFor("load client"), g.ChainID)
	g.Accounts = append(g.Accounts, GenesisAccount{Key: n.client.Key(), Balance: 1 << 40})
	var txs [][]byte
	for i, c := range capacities {
		s := NewSigner(keyFor(fmt.Sprintf("load node %d", i)), g.ChainID)
		n.nodes = append(n.nodes, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1 << 30})
		txs = append(txs, s.RegisterNode(RegisterNode{Stake: 10000, Models: []Model{modelFor("m1")}, Capacity: c}))
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

// block finalizes and commits a block dt ms after the previous one.
func (n *loadNet) block(dt uint64, txs ...[]byte) BlockResult {
	n.t.Helper()
	n.time += dt
	res, err := n.st.FinalizeBlock(Block{Height: n.st.Height() + 1, Time: n.time, Txs: txs}, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	return res
}

func (n *loadNet) submit(replicas uint32) ([]byte, TaskID) {
	return n.client.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: replicas,
		Rule: quorum.Majority, FingerprintLen: 4, Fee: 90})
}

func hasEvent(evs []Event, typ EventType) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TestCheckTxAgainstState: CheckTx refuses, with a distinct code per reason, what would not
// pay its fee in a block: an unfunded key, a replay (even with an empty signature cache), a
// balance below the fee; an admitted transaction whose body fails in its block pays the fee
// and uses its nonce.
func TestCheckTxAgainstState(t *testing.T) {
	p := DefaultParams()
	p.TxFee = 5
	n := newLoadNet(t, p, 0, 0, 0)
	stranger := NewSigner(keyFor("never funded"), "load")
	poor := NewSigner(keyFor("poor"), "load")
	fund := n.client.Transfer(poor.Key(), 3)
	if r := n.block(1000, fund).TxResults[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	okTx, _ := n.submit(3)
	if _, err := n.st.CheckTx(okTx, nil); err != nil {
		t.Fatalf("good submission refused: %v", err)
	}
	n.block(1000, okTx)
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"unfunded key", stranger.Transfer(n.client.Key(), 1), ErrUnknownAccount},
		{"replay, cold cache", okTx, ErrNonce},
		{"balance below fee", poor.Transfer(n.client.Key(), 1), ErrInsufficientFunds},
		{"task fee above balance", first(poor.SubmitTask(SubmitTask{Kind: "t", Model: modelFor("m1"), Replicas: 1, Rule: quorum.Majority, FingerprintLen: 4, Fee: 1 << 50})), ErrInsufficientFunds},
		{"unknown model", first(n.client.SubmitTask(SubmitTask{Kind: "t", Model: modelFor("m9"), Replicas: 1, Rule: quorum.Majority, FingerprintLen: 4})), ErrNotEnoughNodes},
		{"commit to unknown task", n.nodes[0].Sign(&Commit{Task: TaskID{1}}), ErrUnknownTask},
		{"unjail when free", n.nodes[0].Unjail(), ErrJail},
		{"bad signature", append(stranger.Transfer(n.client.Key(), 1)[:60], make([]byte, 100)...), ErrMalformedTx},
	}
	codes := map[uint32]string{}
	for _, c := range cases {
		_, err := n.st.CheckTx(c.raw, NewSigCache("load", 16))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: CheckTx error %v, want %v", c.name, err, c.want)
		}
		if prev, ok := codes[Code(err)]; ok && prev != c.want.Error() {
			t.Errorf("%s: code %d shared with %s", c.name, Code(err), prev)
		}
		codes[Code(err)] = c.want.Error()
	}
	// A transaction that passes CheckTx and fails in its block pays its fee: a commitment to
	// a task whose window another block closed in between.
	before := n.st.Account(n.client.Key())
	bad := n.client.Transfer(poor.Key(), 1<<41) // passes nothing: refused at CheckTx ...
	if _, err := n.st.CheckTx(bad, nil); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("overdraft: CheckTx %v", err)
	}
	// ... but if a proposer includes it anyway, the fee is taken and the nonce used.
	r := n.block(1000, bad).TxResults[0]
	if !errors.Is(r.Err, ErrInsufficientFunds) {
		t.Fatalf("overdraft in block: %v", r.Err)
	}
	after := n.st.Account(n.client.Key())
	if after.Balance != before.Balance-p.TxFee || after.Nonce <= before.Nonce {
		t.Errorf("failed tx: balance %d -> %d, nonce %d -> %d; want fee %d paid and nonce used",
			before.Balance, after.Balance, before.Nonce, after.Nonce, p.TxFee)
	}
	// An unfunded key's transaction forced into a block changes nothing.
	h := n.st.AppHash()
	if r := n.block(1000, stranger.Transfer(n.client.Key(), 1)).TxResults[0]; !errors.Is(r.Err, ErrUnknownAccount) {
		t.Fatalf("unfunded in block: %v", r.Err)
	}
	if n.st.AppHash() != h {
		t.Error("an unfunded key's transaction changed the state")
	}
}

// TestBatch: one transaction carries a node's commitments to several tasks, then one its
// reveals; a failing item is skipped with an item-rejected event and the rest applies.
func TestBatch(t *testing.T) {
	n := newLoadNet(t, DefaultParams(), 0, 0, 0)
	var subs [][]byte
	var ids []TaskID
	for range 3 {
		tx, id := n.submit(3)
		subs, ids = append(subs, tx), append(ids, id)
	}
	n.block(1000, subs...)
	fp := []byte{1, 2, 3, 4}
	salt := func(i int) [32]byte { return [32]byte{byte(i)} }
	var commitTxs [][]byte
	for j, s := range n.nodes {
		var b Batch
		for _, id := range ids {
			b.Commits = append(b.Commits, Commit{Task: id, Commitment: CommitmentFor(id, s.Key(), fp, salt(j))})
		}
		b.Commits = append(b.Commits, Commit{Task: TaskID{9}}) // unknown: skipped
		commitTxs = append(commitTxs, s.Batch(b))
	}
	res := n.block(1000, commitTxs...)
	for _, r := range res.TxResults {
		if r.Err != nil || !hasEvent(r.Events, EventItemRejected) {
			t.Fatalf("commit batch: err %v, events %v", r.Err, r.Events)
		}
	}
	var revealTxs [][]byte
	for j, s := range n.nodes {
		var b Batch
		for _, id := range ids {
			b.Reveals = append(b.Reveals, Reveal{Task: id, Fingerprint: fp, Salt: salt(j)})
		}
		revealTxs = append(revealTxs, s.Batch(b))
	}
	n.block(1000, revealTxs...)
	for _, id := range ids {
		if tk, _ := n.st.Task(id); tk.Status != StatusAccepted {
			t.Errorf("task %v: status %v after batched reveals", id, tk.Status)
		}
	}
}

// TestCapacity: a node with Capacity c is never assigned more than c open tasks; a submission
// beyond the free capacity is refused with ErrNoCapacity (at CheckTx and in the block), and
// accepted again once tasks settle.
func TestCapacity(t *testing.T) {
	n := newLoadNet(t, DefaultParams(), 2, 2, 2)
	var txs [][]byte
	for range 3 {
		tx, _ := n.submit(3)
		txs = append(txs, tx)
	}
	res := n.block(1000, txs...)
	if res.TxResults[0].Err != nil || res.TxResults[1].Err != nil || !errors.Is(res.TxResults[2].Err, ErrNoCapacity) {
		t.Fatalf("results %v %v %v; want ok, ok, no capacity", res.TxResults[0].Err, res.TxResults[1].Err, res.TxResults[2].Err)
	}
	for _, s := range n.nodes {
		if nd, _ := n.st.Node(s.Key()); nd.Open != 2 {
			t.Errorf("node open %d, capacity 2", nd.Open)
		}
	}
	tx, _ := n.submit(3)
	if _, err := n.st.CheckTx(tx, nil); !errors.Is(err, ErrNoCapacity) {
		t.Errorf("CheckTx over capacity: %v", err)
	}
	for range 2 * DefaultParams().CommitWindow { // nobody commits: both tasks settle
		n.block(1000)
	}
	if _, err := n.st.CheckTx(tx, nil); err != nil {
		t.Errorf("CheckTx after tasks settled: %v", err)
	}
}

// TestJailing: a node that misses JailAfterMisses windows in a row is jailed once with one
// SlashJailBPS slash (no per-task slash), is not assigned while jailed, and is assigned again
// after Unjail.
func TestJailing(t *testing.T) {
	p := DefaultParams()
	p.JailAfterMisses, p.SlashJailBPS = 3, 100
	n := newLoadNet(t, p, 0, 0, 0, 0)
	down := n.nodes[3].Key()
	slashes := 0
	var jailed int
	for i := 0; i < 6; i++ {
		tx, id := n.submit(4)
		res := n.block(1000, tx)
		if i >= 3 { // jailed: only 3 free nodes are left
			if !errors.Is(res.TxResults[0].Err, ErrNoCapacity) {
				t.Fatalf("task %d with a node jailed: %v", i, res.TxResults[0].Err)
			}
			continue
		}
		if res.TxResults[0].Err != nil {
			t.Fatal(res.TxResults[0].Err)
		}
		var commits, reveals [][]byte
		for _, s := range n.nodes[:3] { // the others work
			commits = append(commits, s.Commit(id, []byte{1, 2, 3, 4}, [32]byte{3}))
			reveals = append(reveals, s.Reveal(id, []byte{1, 2, 3, 4}, [32]byte{3}, [32]byte{}))
		}
		n.block(1000, commits...)
		for k := range p.CommitWindow + p.RevealWindow {
			var txs [][]byte
			if k == p.CommitWindow {
				txs = reveals
			}
			res := n.block(1000, txs...)
			evs := res.Events
			for _, r := range res.TxResults {
				evs = append(evs, r.Events...)
			}
			for _, e := range evs {
				if e.Type == EventSlash && e.Node == down {
					slashes++
				}
				if e.Type == EventJailed && e.Node == down {
					jailed++
				}
			}
		}
		if tk, _ := n.st.Task(id); !tk.Status.Settled() {
			t.Fatalf("task %d not settled", i)
		}
	}
	nd, _ := n.st.Node(down)
	if !nd.Jailed || jailed != 1 || slashes != 1 || nd.Stake != 10000-100 {
		t.Fatalf("jailed %v (events %d), slashes %d, stake %d; want jailed once, one slash of 1%%", nd.Jailed, jailed, slashes, nd.Stake)
	}
	if r := n.block(1000, n.nodes[3].Unjail()).TxResults[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	tx, _ := n.submit(4)
	if r := n.block(1000, tx).TxResults[0]; r.Err != nil {
		t.Fatalf("after unjail: %v", r.Err)
	}
}

// TestWindowTimeFloor: with MinCommitMillis, a commit window whose blocks came fast stays open
// past its deadline height until the floor's block time, so a late honest commitment lands.
func TestWindowTimeFloor(t *testing.T) {
	p := DefaultParams()
	p.MinCommitMillis, p.MinRevealMillis = 5000, 5000
	n := newLoadNet(t, p, 0, 0, 0)
	tx, id := n.submit(3)
	n.block(10, tx)
	for range p.CommitWindow + 3 { // fast blocks: 10 ms each
		n.block(10)
	}
	tk, _ := n.st.Task(id)
	if tk.Status != StatusCommit || tk.CommitDeadline <= tk.AssignedAt+p.CommitWindow {
		t.Fatalf("after fast blocks: status %v, commit deadline %d (assigned %d)", tk.Status, tk.CommitDeadline, tk.AssignedAt)
	}
	fp := []byte{1, 2, 3, 4}
	var commits, reveals [][]byte
	for _, s := range n.nodes {
		commits = append(commits, s.Commit(id, fp, [32]byte{1}))
		reveals = append(reveals, s.Reveal(id, fp, [32]byte{1}, [32]byte{}))
	}
	for _, r := range n.block(10, commits...).TxResults {
		if r.Err != nil {
			t.Fatalf("late commit: %v", r.Err)
		}
	}
	n.block(10, reveals...)
	if tk, _ := n.st.Task(id); tk.Status != StatusAccepted {
		t.Fatalf("status %v", tk.Status)
	}
	// Slow blocks: the floor does not hold anything back.
	tx, id = n.submit(3)
	n.block(10000, tx)
	for range p.CommitWindow {
		n.block(10000)
	}
	if tk, _ := n.st.Task(id); !tk.Status.Settled() || tk.SettledAt != tk.AssignedAt+p.CommitWindow {
		t.Fatalf("slow blocks: status %v settled at %d, assigned at %d", tk.Status, tk.SettledAt, tk.AssignedAt)
	}
}

// TestWindowTimeFloorCheckRound: a score-verified task whose executors revealed different
// fingerprints opens a check round; under fast blocks its vote-commitment window stays open
// MinCommitMillis of block time and its vote-reveal window MinRevealMillis, so voters whose
// scoring passes take longer than the blocks still vote; with slow blocks the floors hold
// nothing back.
func TestWindowTimeFloorCheckRound(t *testing.T) {
	p := DefaultParams()
	p.MinCommitMillis, p.MinRevealMillis = 5000, 3000
	n := newLoadNet(t, p, 0, 0, 0)
	tx, id := n.client.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: 3,
		Rule: quorum.Majority, FingerprintLen: 4, Fee: 90, Verify: VerifyScore})
	n.block(10, tx)
	fps := [][]byte{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 5}}
	var commits, reveals [][]byte
	for j, s := range n.nodes {
		commits = append(commits, s.Commit(id, fps[j], [32]byte{1}))
		reveals = append(reveals, s.Reveal(id, fps[j], [32]byte{1}, [32]byte{}))
	}
	n.block(10, commits...)
	n.block(10, reveals...)
	tk, _ := n.st.Task(id)
	if tk.Status != StatusCheck {
		t.Fatalf("status %v, want check", tk.Status)
	}
	opened := n.time
	for range p.RevealWindow + 3 { // fast blocks: 10 ms each
		n.block(10)
	}
	if tk, _ := n.st.Task(id); tk.Status != StatusCheck || n.time-opened >= p.MinCommitMillis {
		t.Fatalf("after %d ms of fast blocks: status %v, want the vote commitments still open", n.time-opened, tk.Status)
	}
	cands, _ := Candidates(&tk)
	valid := uint64(0)
	for k, c := range cands {
		if bytes.Equal(c, fps[0]) {
			valid |= 1 << k
		}
	}
	var vc, vr [][]byte
	for j, s := range n.nodes {
		salt := [32]byte{byte(j), 2}
		vc = append(vc, s.VoteCommit(id, valid, 0, salt))
		vr = append(vr, s.VoteReveal(id, valid, 0, salt))
	}
	for _, r := range n.block(10, vc...).TxResults {
		if r.Err != nil {
			t.Fatalf("late vote commitment: %v", r.Err)
		}
	}
	revealOpened := n.time
	for range p.RevealWindow + 3 {
		n.block(10)
	}
	if tk, _ := n.st.Task(id); tk.Status != StatusCheckReveal || n.time-revealOpened >= p.MinRevealMillis {
		t.Fatalf("after %d ms of fast blocks: status %v, want the vote reveals still open", n.time-revealOpened, tk.Status)
	}
	for _, r := range n.block(10, vr...).TxResults {
		if r.Err != nil {
			t.Fatalf("late vote reveal: %v", r.Err)
		}
	}
	tk, _ = n.st.Task(id)
	if tk.Status != StatusAccepted || tk.Executors[2].Outcome != OutcomeOutlier || tk.Executors[0].Outcome != OutcomeAgreed {
		t.Fatalf("status %v, outcomes %v %v %v", tk.Status, tk.Executors[0].Outcome, tk.Executors[1].Outcome, tk.Executors[2].Outcome)
	}
	// Slow blocks: the check round ends at its deadline height.
	tx, id = n.client.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: 3,
		Rule: quorum.Majority, FingerprintLen: 4, Fee: 90, Verify: VerifyScore, Seed: 2})
	n.block(10000, tx)
	commits, reveals = nil, nil
	for j, s := range n.nodes {
		commits = append(commits, s.Commit(id, fps[j], [32]byte{1}))
		reveals = append(reveals, s.Reveal(id, fps[j], [32]byte{1}, [32]byte{}))
	}
	n.block(10000, commits...)
	n.block(10000, reveals...)
	for range p.RevealWindow {
		n.block(10000)
	}
	if tk, _ := n.st.Task(id); !tk.Status.Settled() {
		t.Fatalf("slow blocks: status %v after the vote window, want settled (nobody voted)", tk.Status)
	}
}

// TestUnrunnable: executors who all reveal UnrunnableFingerprint agree: the task is accepted
// as unrunnable, they are paid from the fee, none is slashed; a lone claimant is an outlier.
func TestUnrunnable(t *testing.T) {
	n := newLoadNet(t, DefaultParams(), 0, 0, 0)
	for _, claimants := range []int{3, 1} {
		tx, id := n.submit(3)
		n.block(1000, tx)
		un := UnrunnableFingerprint(id, 4)
		var commits, reveals [][]byte
		for j, s := range n.nodes {
			fp := []byte{1, 2, 3, 4}
			if j < claimants {
				fp = un
			}
			commits = append(commits, s.Commit(id, fp, [32]byte{2}))
			reveals = append(reveals, s.Reveal(id, fp, [32]byte{2}, [32]byte{}))
		}
		n.block(1000, commits...)
		res := n.block(1000, reveals...)
		tk, _ := n.st.Task(id)
		var slashed int
		for _, r := range res.TxResults {
			for _, e := range r.Events {
				if e.Type == EventSlash {
					slashed++
				}
			}
		}
		switch claimants {
		case 3:
			if tk.Status != StatusAccepted || tk.Reason != ReasonUnrunnable || slashed != 0 {
				t.Errorf("all unrunnable: status %v reason %q, %d slashed", tk.Status, tk.Reason, slashed)
			}
		case 1:
			if tk.Status != StatusAccepted || tk.Reason != "" || slashed != 1 {
				t.Errorf("one claimant: status %v reason %q, %d slashed", tk.Status, tk.Reason, slashed)
			}
		}
	}
}

// TestKindNotServed: a task is assigned only to nodes that declared its kind on its model, and
// refused (CheckTx and in its block, ErrKindNotServed) when too few did, so that nobody can
// make honest executors fail a task none of them can run. A node that declares no kinds runs
// every kind; a malformed kind list is refused.
func TestKindNotServed(t *testing.T) {
	g := Genesis{ChainID: "kinds", Params: DefaultParams()}
	client := NewSigner(keyFor("kinds client"), g.ChainID)
	g.Accounts = append(g.Accounts, GenesisAccount{Key: client.Key(), Balance: 1 << 40})
	kinds := [][]string{{"text"}, {"text,image"}, {"text"}, nil} // node 3 declares nothing
	var txs [][]byte
	var nodes []*Signer
	for i, k := range kinds {
		s := NewSigner(keyFor(fmt.Sprintf("kinds node %d", i)), g.ChainID)
		nodes = append(nodes, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1 << 30})
		txs = append(txs, s.RegisterNode(RegisterNode{Stake: 10000, Models: []Model{modelFor("m1")}, Kinds: k}))
	}
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.FinalizeBlock(Block{Height: 1, Time: 1000, Txs: txs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.TxResults {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	submit := func(kind string, replicas uint32) []byte {
		raw, _ := client.SubmitTask(SubmitTask{Kind: kind, Model: modelFor("m1"), Replicas: replicas,
			Rule: quorum.Majority, FingerprintLen: 4, Fee: 90})
		return raw
	}
	for _, tc := range []struct {
		kind     string
		replicas uint32
		want     error
	}{
		{"text", 4, nil},
		{"image", 2, nil},                   // node 1 declares image, node 3 declares nothing
		{"image", 3, ErrKindNotServed},      // four serve m1, two run images on it
		{"train", 2, ErrKindNotServed},      // only node 3 (no declaration)
		{"text", 5, ErrNotEnoughNodes},      // four serve m1 at all
		{"image", 5, ErrNotEnoughNodes},     // model count comes first
		{"audio", 1, nil},                   // node 3 declares nothing: runs anything
		{"train", 1, nil},                   // likewise
		{"imag", 3, ErrKindNotServed},       // a kind is matched whole
		{"text,image", 3, ErrKindNotServed}, // and never as a list
	} {
		raw := submit(tc.kind, tc.replicas)
		if _, err := st.CheckTx(raw, nil); !errors.Is(err, tc.want) {
			t.Errorf("CheckTx(%s, %d replicas) = %v, want %v", tc.kind, tc.replicas, err, tc.want)
		}
		if tc.want == nil {
			continue
		}
		// In a block (a state that moved on after CheckTx): rejected with the same code,
		// the fee paid, no task.
		res, err := st.FinalizeBlock(Block{Height: st.Height() + 1, Time: 1000 * (st.Height() + 2), Txs: [][]byte{raw}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(); err != nil {
			t.Fatal(err)
		}
		if r := res.TxResults[0]; !errors.Is(r.Err, tc.want) || Code(r.Err) != Code(tc.want) {
			t.Errorf("block(%s, %d replicas) = %v, want %v", tc.kind, tc.replicas, r.Err, tc.want)
		}
	}
	// An image task of 2 goes to nodes 1 and 3 only.
	raw := submit("image", 2)
	res, err = st.FinalizeBlock(Block{Height: st.Height() + 1, Time: 1000 * (st.Height() + 2), Txs: [][]byte{raw}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.TxResults[0]; r.Err != nil {
		t.Fatal(r.Err)
	}
	assigned := 0
	for _, e := range res.TxResults[0].Events {
		if e.Type != EventTaskAssigned {
			continue
		}
		for _, k := range e.Nodes {
			assigned++
			if k != nodes[1].Key() && k != nodes[3].Key() {
				t.Errorf("image task assigned to node %v, which runs only text", k)
			}
		}
	}
	if assigned != 2 {
		t.Errorf("image task assigned to %d nodes, want 2", assigned)
	}
	if Code(ErrKindNotServed) != 25 {
		t.Errorf("code of ErrKindNotServed = %d, want 25 (codes are never renumbered)", Code(ErrKindNotServed))
	}
	for _, k := range [][]string{{"text", "image"}, {"text,"}, {",text"}, {"a,,b"}} {
		raw := nodes[0].RegisterNode(RegisterNode{Stake: 1, Models: []Model{modelFor("m1")}, Kinds: k})
		if _, err := CheckTx(g.ChainID, raw, nil); !errors.Is(err, ErrMalformedTx) {
			t.Errorf("register with kinds %q: %v, want ErrMalformedTx", k, err)
		}
	}
}
