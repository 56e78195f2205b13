package ledger

import (
	"bytes"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// downNet drives a loadNet of 4 nodes where nodes 0-2 always work and node 3 (the subject)
// does what a test says, and collects the events about the subject.
type downNet struct {
	*loadNet
	subject *Signer
	events  []Event // about the subject, in order
}

func newDownNet(t *testing.T) *downNet {
	p := DefaultParams()
	p.JailAfterMisses, p.SlashJailBPS = 3, 100 // genquorum testnet's numbers
	n := newLoadNet(t, p, 0, 0, 0, 0)
	return &downNet{loadNet: n, subject: n.nodes[3]}
}

// step finalizes a block with txs and records the subject's events (transactions' events,
// failed ones included, then the block's).
func (n *downNet) step(txs ...[]byte) BlockResult {
	n.t.Helper()
	res := n.block(1000, txs...)
	evs := []Event{}
	for _, r := range res.TxResults {
		evs = append(evs, r.Events...)
	}
	for _, e := range append(evs, res.Events...) {
		if e.Node == n.subject.Key() {
			n.events = append(n.events, e)
		}
	}
	return res
}

// round submits tasks (4 replicas: every node) in one block, then runs them to settlement:
// nodes 0-2 commit and reveal the same fingerprint; the subject commits task i only if
// commit(i) and reveals it only if reveal(i).
func (n *downNet) round(tasks int, commit, reveal func(i int) bool) []TaskID {
	n.t.Helper()
	var subs [][]byte
	var ids []TaskID
	for range tasks {
		tx, id := n.submit(4)
		subs, ids = append(subs, tx), append(ids, id)
	}
	for i, r := range n.step(subs...).TxResults {
		if r.Err != nil {
			n.t.Fatalf("submission %d: %v", i, r.Err)
		}
	}
	fp := []byte{1, 2, 3, 4}
	var commits [][]byte
	for i, id := range ids {
		for j, s := range n.nodes {
			if j < 3 || commit(i) {
				commits = append(commits, s.Commit(id, fp, [32]byte{byte(j)}))
			}
		}
	}
	n.step(commits...)
	revealed := make([]bool, len(ids))
	for range 4 * (n.st.params.CommitWindow + n.st.params.RevealWindow) {
		var reveals [][]byte
		settled := 0
		for i, id := range ids {
			tk, _ := n.st.Task(id)
			if tk.Status.Settled() {
				settled++
			} else if tk.Status == StatusReveal && !revealed[i] {
				revealed[i] = true
				for j, s := range n.nodes {
					if j < 3 || (commit(i) && reveal(i)) {
						reveals = append(reveals, s.Reveal(id, fp, [32]byte{byte(j)}, [32]byte{}))
					}
				}
			}
		}
		if settled == len(ids) {
			return ids
		}
		n.step(reveals...)
	}
	n.t.Fatalf("tasks did not settle")
	return nil
}

// count returns how many of the subject's events have type typ and reason.
func (n *downNet) count(typ EventType, reason string) int {
	k := 0
	for _, e := range n.events {
		if e.Type == typ && e.Reason == reason {
			k++
		}
	}
	return k
}

func always(int) bool { return true }
func never(int) bool  { return false }

// TestDowntimeNoReveal: a missed reveal counts towards jailing and its slash is deferred; the
// node's next admitted transaction charges it, a jailing of the same silence waives it.
func TestDowntimeNoReveal(t *testing.T) {
	type want struct {
		stake                      uint64
		jailed, dark               bool
		jailings, charged, waived  int // EventJailed; EventSlash ReasonNoRevealCharged; EventSlashWaived
		jailSlash, jailWaiving     int // EventSlash ReasonJailed, ReasonJailedWaiving
		deferred, pending, missed  int // EventSlashDeferred; len(Pending); Missed
		waivedDown, recordedWaived int // EventSlashWaived ReasonWaivedDown; Record.Waived
	}
	cases := []struct {
		name string
		run  func(n *downNet)
		want want
	}{
		{
			// Down: it committed to 4 tasks, died before revealing them, and missed the
			// commitment of a fifth. That miss (commit deadline) comes first; then the 4
			// reveals, in task ID order: 2 deferred, the second being the 3rd miss in a
			// row, which jails it once at the no-reveal rate and waives both; the other 2
			// are waived as the node is jailed and silent. No per-task slash.
			name: "down node jailed once, no per-task slash",
			run: func(n *downNet) {
				n.round(5, func(i int) bool { return i < 4 }, never)
			},
			want: want{stake: 9500, jailed: true, dark: true, jailings: 1, jailWaiving: 1,
				deferred: 2, waived: 4, waivedDown: 2, recordedWaived: 4, missed: 3},
		},
		{
			name: "down node unjails: nothing charged, assigned again",
			run: func(n *downNet) {
				n.round(5, always, never)
				if r := n.step(n.subject.Unjail()).TxResults[0]; r.Err != nil {
					n.t.Fatal(r.Err)
				}
				n.round(2, always, always)
			},
			want: want{stake: 9500, jailings: 1, jailWaiving: 1, deferred: 3, waived: 5, waivedDown: 2, recordedWaived: 5},
		},
		{
			// Missed commitments only (no reveal owed): the jailing rate, as before.
			name: "down before committing: jailed at the jailing rate",
			run: func(n *downNet) {
				for range 3 {
					n.round(1, never, never)
				}
			},
			want: want{stake: 9900, jailed: true, dark: true, jailings: 1, jailSlash: 1, missed: 3},
		},
		{
			// Alive and withholding: every withheld reveal is charged at its next
			// transaction (its next commitment), and revealing tasks break the row.
			name: "withholding live node slashed per task",
			run: func(n *downNet) {
				for i := range 6 {
					n.round(1, always, func(int) bool { return i%2 == 1 })
				}
			},
			// 3 withheld, charged 5 % each at the next commitment; the last one is
			// charged by the Transfer below. 10000 - 500 - 475 - 451 (rounded down).
			want: want{stake: 8574, charged: 3, deferred: 3},
		},
		{
			// Withholds a reveal, then shows life with a plain transfer: charged then.
			name: "deferred slashes charged on the next transaction",
			run: func(n *downNet) {
				n.round(2, always, never)
				n.step(n.subject.Transfer(n.client.Key(), 1))
			},
			want: want{stake: 10000 - 500 - 475, charged: 2, deferred: 2, missed: 2},
		},
		{
			// Silent after 2 missed reveals, not jailed yet: both deferred, nothing charged.
			name: "silent, below the jailing count: deferred",
			run:  func(n *downNet) { n.round(2, always, never) },
			want: want{stake: 10000, deferred: 2, pending: 2, missed: 2},
		},
		{
			// An unbond is a sign of life too, and the deferred slash is charged before it
			// runs: on 10000, not on what is left bonded.
			name: "unbond charges the deferred slash first",
			run: func(n *downNet) {
				n.round(1, always, never)
				if r := n.step(n.subject.Unbond(5000)).TxResults[0]; r.Err != nil {
					n.t.Fatal(r.Err)
				}
			},
			want: want{stake: 10000 - 500 - 5000, charged: 1, deferred: 1, missed: 1},
		},
		{
			// A transaction whose body fails (an unjail from a node that is not jailed)
			// still shows the node alive: charged, and its events say so.
			name: "failed transaction charges too",
			run: func(n *downNet) {
				n.round(1, always, never)
				if r := n.step(n.subject.Unjail()).TxResults[0]; Code(r.Err) != Code(ErrJail) || !hasEvent(r.Events, EventSlash) {
					n.t.Fatalf("unjail when free: %v, events %v", r.Err, r.Events)
				}
			},
			want: want{stake: 9500, charged: 1, deferred: 1, missed: 1},
		},
		{
			// The dark-out: withhold, then stay silent until jailed. It costs one
			// no-reveal slash (the jailing at the no-reveal rate): no less than
			// withholding while alive.
			name: "withhold then go dark: jailing costs a no-reveal slash",
			run: func(n *downNet) {
				n.round(1, always, never)
				n.round(1, never, never)
				n.round(1, never, never)
			},
			want: want{stake: 9500, jailed: true, dark: true, jailings: 1, jailWaiving: 1, deferred: 1, waived: 1, recordedWaived: 1, missed: 3},
		},
		{
			// Jailed while silent, then it shows life (a reveal) and withholds another
			// reveal: no longer dark, so that one is deferred and its unjail charges it.
			name: "jailed node that shows life pays for later withholding",
			run: func(n *downNet) {
				fp := []byte{1, 2, 3, 4}
				do := func(f func(s *Signer, j int, id TaskID) []byte, who []int, ids ...TaskID) {
					var txs [][]byte
					for _, id := range ids {
						for _, j := range who {
							txs = append(txs, f(n.nodes[j], j, id))
						}
					}
					for i, r := range n.step(txs...).TxResults {
						if r.Err != nil {
							n.t.Fatalf("tx %d: %v", i, r.Err)
						}
					}
				}
				commit := func(s *Signer, j int, id TaskID) []byte { return s.Commit(id, fp, [32]byte{byte(j)}) }
				reveal := func(s *Signer, j int, id TaskID) []byte { return s.Reveal(id, fp, [32]byte{byte(j)}, [32]byte{}) }
				submit := func(k int) []TaskID {
					var txs [][]byte
					var ids []TaskID
					for range k {
						tx, id := n.submit(4)
						txs, ids = append(txs, tx), append(ids, id)
					}
					n.step(txs...)
					return ids
				}
				all, others := []int{0, 1, 2, 3}, []int{0, 1, 2}
				abc := submit(3)            // height 2
				do(commit, all, abc...)     // 3: their windows close, reveal deadline 7
				de := submit(2)             // 4: commit deadline 8
				do(commit, []int{3}, de...) // 5: the subject commits d, e
				do(reveal, others, abc...)  // 6: the subject stays silent
				n.step()                    // 7: a, b, c settle: jailed
				do(commit, others, de...)   // 8: d, e close, reveal deadline 12
				do(reveal, all, de[0])      // 9: the subject reveals d: alive again
				do(reveal, others, de[1])   // 10: it withholds e
				n.step()                    // 11
				n.step()                    // 12: e settles: deferred (not dark)
				do(func(s *Signer, _ int, _ TaskID) []byte { return s.Unjail() }, []int{3}, TaskID{})
			},
			want: want{stake: 9500 - 475, jailings: 1, jailWaiving: 1, deferred: 4, waived: 3, charged: 1, recordedWaived: 3},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newDownNet(t)
			c.run(n)
			if c.name == "withholding live node slashed per task" {
				n.step(n.subject.Transfer(n.client.Key(), 1)) // shows life: charges the last
			}
			nd, _ := n.st.Node(n.subject.Key())
			got := want{stake: nd.Stake, jailed: nd.Jailed, dark: nd.Dark,
				jailings: n.count(EventJailed, ""), charged: n.count(EventSlash, ReasonNoRevealCharged),
				waived:    n.count(EventSlashWaived, ReasonWaivedJailed) + n.count(EventSlashWaived, ReasonWaivedDown),
				jailSlash: n.count(EventSlash, ReasonJailed), jailWaiving: n.count(EventSlash, ReasonJailedWaiving),
				deferred: n.count(EventSlashDeferred, ReasonNoReveal), pending: len(nd.Pending), missed: int(nd.Missed),
				waivedDown: n.count(EventSlashWaived, ReasonWaivedDown), recordedWaived: int(nd.Record.Waived)}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			if n.count(EventSlash, ReasonNoReveal) != 0 {
				t.Errorf("a no-reveal slashed at once with jailing on")
			}
			checkRestore(t, n.st)
		})
	}
}

// checkRestore checks that the state survives MarshalState and that the incremental app hash
// equals the one recomputed from scratch.
func checkRestore(t *testing.T, st *State) {
	t.Helper()
	if st.fullAppHash() != st.AppHash() {
		t.Fatalf("incremental app hash differs from the full one")
	}
	b := st.MarshalState()
	back, err := UnmarshalState(b)
	if err != nil || back.AppHash() != st.AppHash() || !bytes.Equal(back.MarshalState(), b) {
		t.Fatalf("restored: %v", err)
	}
}

// TestUnmarshalStateV5: a snapshot of the previous encoding (v5: nodes without the
// deferred-slash fields) still restores, to the same app hash.
func TestUnmarshalStateV5(t *testing.T) {
	n := newDownNet(t)
	n.round(2, always, always)
	st := n.st
	if nd, _ := st.Node(n.subject.Key()); nd.Dark || len(nd.Pending) != 0 || nd.Record.Waived != 0 {
		t.Fatal("the v5 encoding has no deferred-slash fields")
	}
	old := st.marshalAs(stateMagicV5, false, false)
	back, err := UnmarshalState(old)
	if err != nil {
		t.Fatal(err)
	}
	if back.AppHash() != st.AppHash() || !bytes.Equal(back.MarshalState(), st.MarshalState()) {
		t.Fatal("v5 snapshot restored to a different state")
	}
	if len(old) >= len(st.MarshalState()) {
		t.Fatal("v5 encoding not shorter than v6: the test checks nothing")
	}
}

// TestUnmarshalStateV6: a snapshot of the previous encoding (v6: training and
// trajectory-verified tasks without their verifiers' vote commitments) with a training task
// whose verifiers are voting still restores, to the same app hash and state.
func TestUnmarshalStateV6(t *testing.T) {
	n := newLoadNet(t, DefaultParams(), 0, 0, 0)
	series := make([]byte, SeriesLen(1, 0))
	tx, id := n.client.SubmitTask(SubmitTask{Kind: "train", Model: modelFor("m1"), Replicas: 3, Rule: quorum.Majority,
		FingerprintLen: uint32(len(series)), Fee: 90, Verify: VerifySegments, Segment: SegmentSpec{Segments: 1, SegmentSteps: 1, Checks: 1}})
	n.block(1000, tx)
	task, ok := n.st.Task(id)
	if !ok {
		t.Fatal("task not submitted")
	}
	var trainer *Signer
	for _, s := range n.nodes {
		if s.Key() == task.Executors[0].Node {
			trainer = s
		}
	}
	var salt [32]byte
	n.block(1000, trainer.Commit(id, series, salt))
	n.block(1000, trainer.Reveal(id, series, salt, [32]byte{}))
	if task, _ = n.st.Task(id); task.Status != StatusSegments {
		t.Fatalf("status %s, want segments", task.Status)
	}
	old := n.st.marshalAs(stateMagicV6, true, false)
	back, err := UnmarshalState(old)
	if err != nil {
		t.Fatal(err)
	}
	if back.AppHash() != n.st.AppHash() || !bytes.Equal(back.MarshalState(), n.st.MarshalState()) {
		t.Fatal("v6 snapshot restored to a different state")
	}
	if len(old) >= len(n.st.MarshalState()) {
		t.Fatal("v6 encoding not shorter than v7: the test checks nothing")
	}
}
