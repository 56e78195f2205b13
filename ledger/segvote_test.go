package ledger_test

import (
	"bytes"
	"testing"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// voteNet is a training or trajectory-verified task whose executor 0 revealed: its two
// verifiers v1, v2 are in the vote commitments (StatusSegments). pass is the vote that every
// pick (and the ends) passed: 3 picks of a training task, 2 picks and the ends of a trajectory.
type voteNet struct {
	*checkNet
	id     ledger.TaskID
	v1, v2 *ledger.Signer
	pass   uint64
	events []ledger.Event
}

func newVoteNet(t *testing.T, verify uint8, params ...func(*ledger.Params)) *voteNet {
	t.Helper()
	n := newCheckNet(t, append([]func(*ledger.Params){func(p *ledger.Params) { p.CommitWindow, p.RevealWindow = 5, 5 }},
		params...)...)
	byKey := map[ledger.PubKey]*ledger.Signer{}
	for _, s := range n.nodes {
		byKey[s.Key()] = s
	}
	spec := ledger.SubmitTask{Kind: "train", Model: n.model, Prompt: []byte("ti spec"), Replicas: 3, Rule: quorum.Majority,
		FingerprintLen: ledger.SeriesLen(segS, 2), Fee: 300, Verify: ledger.VerifySegments,
		Segment: ledger.SegmentSpec{Segments: segS, SegmentSteps: segK, Checks: segS}}
	fp := seriesOf(-1)
	if verify == ledger.VerifyTrajectory {
		fp = ledger.TrajectoryBytes(trajImage, trajDigests())
		spec = ledger.SubmitTask{Kind: "image", Model: n.model, Replicas: 3, Rule: quorum.Majority, FingerprintLen: uint32(len(fp)),
			Fee: 300, Verify: ledger.VerifyTrajectory, Segment: ledger.SegmentSpec{Segments: trajSegments, Checks: 2}}
	}
	submit, id := n.client.SubmitTask(spec)
	n.block(submit)
	task, _ := n.st.Task(id)
	g := byKey[task.Executors[0].Node]
	var salt [32]byte
	n.block(g.Commit(id, fp, salt))
	n.block(g.Reveal(id, fp, salt, [32]byte{}))
	if task, _ = n.st.Task(id); task.Status != ledger.StatusSegments {
		t.Fatalf("status %s after the reveal", task.Status)
	}
	return &voteNet{checkNet: n, id: id, v1: byKey[task.Executors[1].Node], v2: byKey[task.Executors[2].Node], pass: 7}
}

// try applies one block of txs and returns their result codes (0: applied); the state must
// round-trip with the same app hash.
func (n *voteNet) try(txs ...[]byte) []uint32 {
	n.t.Helper()
	res := n.apply(txs...)
	var codes []uint32
	for _, r := range res.TxResults {
		codes = append(codes, r.Code)
		n.events = append(n.events, r.Events...)
	}
	n.events = append(n.events, res.Events...)
	b := n.st.MarshalState()
	back, err := ledger.UnmarshalState(b)
	if err != nil {
		n.t.Fatal(err)
	}
	if back.AppHash() != n.st.AppHash() || !bytes.Equal(back.MarshalState(), b) {
		n.t.Fatalf("height %d: state does not round-trip", n.height)
	}
	return codes
}

// ok applies txs, each of which must be accepted; refused, each of which must be refused.
func (n *voteNet) ok(txs ...[]byte) {
	n.t.Helper()
	for i, c := range n.try(txs...) {
		if c != 0 {
			n.t.Fatalf("height %d: tx %d refused (code %d)", n.height, i, c)
		}
	}
}

func (n *voteNet) refused(what string, tx []byte) {
	n.t.Helper()
	if c := n.try(tx)[0]; c == 0 {
		n.t.Errorf("height %d: %s accepted", n.height, what)
	}
}

func (n *voteNet) task() ledger.Task { t, _ := n.st.Task(n.id); return t }

// until runs empty blocks until the task leaves status st (at most 30).
func (n *voteNet) until(st ledger.TaskStatus) {
	n.t.Helper()
	for range 30 {
		if n.task().Status != st {
			return
		}
		n.ok()
	}
	n.t.Fatalf("task still in status %s", st)
}

// TestSegmentVoteCommitReveal: the verifiers of training tasks and of trajectory-verified
// image tasks commit their votes before they reveal them, under the check round's rules.
func TestSegmentVoteCommitReveal(t *testing.T) {
	s1, s2 := voteSalt(1), voteSalt(2)
	cases := []struct {
		name string
		run  func(t *testing.T, n *voteNet)
	}{
		{"commit then reveal accepted", func(t *testing.T, n *voteNet) {
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1))
			if st := n.task().Status; st != ledger.StatusSegments {
				t.Fatalf("status %s with one verifier committed", st)
			}
			n.ok(n.v2.VoteCommit(n.id, n.pass, 0, s2)) // the last commitment closes them early
			if task := n.task(); task.Status != ledger.StatusSegmentsReveal || task.VoteClosedAt != n.height ||
				task.CheckDeadline != n.height+5 {
				t.Fatalf("status %s closed at %d deadline %d after both committed at %d", task.Status, task.VoteClosedAt,
					task.CheckDeadline, n.height)
			}
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1))
			n.ok(n.v2.VoteReveal(n.id, n.pass, 0, s2))
			task := n.task()
			if task.Status != ledger.StatusAccepted || task.Executors[1].Outcome != ledger.OutcomeAgreed ||
				task.Executors[2].Outcome != ledger.OutcomeAgreed {
				t.Errorf("status %s %q, verifiers %s %s: want accepted, both agreed", task.Status, task.Reason,
					task.Executors[1].Outcome, task.Executors[2].Outcome)
			}
		}},
		{"reveal in the block that closed the commitments refused", func(t *testing.T, n *voteNet) {
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1))
			if c := n.try(n.v2.VoteCommit(n.id, n.pass, 0, s2), n.v1.VoteReveal(n.id, n.pass, 0, s1)); c[0] != 0 || c[1] == 0 {
				t.Errorf("codes %v: want the commitment applied, the reveal in its block refused", c)
			}
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1))
		}},
		{"reveal without commit refused", func(t *testing.T, n *voteNet) {
			n.refused("vote without any commitment", n.v2.VoteReveal(n.id, n.pass, 0, s2))
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1))
			n.until(ledger.StatusSegments) // v2 never commits: the commitments' window ends
			if st := n.task().Status; st != ledger.StatusSegmentsReveal {
				t.Fatalf("status %s after the commitments' window", st)
			}
			n.refused("vote of a verifier that did not commit", n.v2.VoteReveal(n.id, n.pass, 0, s2))
			n.refused("vote commitment in the reveals", n.v2.VoteCommit(n.id, n.pass, 0, s2))
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1)) // the only committed vote: the votes are counted
			task := n.task()
			if !task.Status.Settled() || task.Executors[2].Outcome != ledger.OutcomeNoVote {
				t.Errorf("status %s, verifier 2 %s: want settled, no-vote", task.Status, task.Executors[2].Outcome)
			}
		}},
		{"mismatching reveal refused", func(t *testing.T, n *voteNet) {
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1), n.v2.VoteCommit(n.id, 0, 0, s2))
			n.refused("other vote", n.v1.VoteReveal(n.id, 3, 0, s1))
			n.refused("other salt", n.v1.VoteReveal(n.id, n.pass, 0, s2))
			n.refused("unsure bits", n.v1.VoteReveal(n.id, 3, 4, s1))
			n.refused("v2 opening v1's commitment", n.v2.VoteReveal(n.id, n.pass, 0, s1))
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1))
			if task := n.task(); !task.Executors[1].Voted || task.Executors[1].Valid != n.pass || task.Executors[2].Voted {
				t.Errorf("votes %+v", task.Executors[1:])
			}
		}},
		{"copied commitment cannot be opened", func(t *testing.T, n *voteNet) {
			c1 := ledger.VoteCommitmentFor(n.id, n.v1.Key(), n.pass, 0, s1)
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1), n.v2.Sign(&ledger.VoteCommit{Task: n.id, Commitment: c1}))
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1))
			n.refused("copier opening the copied commitment", n.v2.VoteReveal(n.id, n.pass, 0, s1))
		}},
		{"no vote to copy before the reveals", func(t *testing.T, n *voteNet) {
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1))
			n.refused("reveal while commitments are open", n.v1.VoteReveal(n.id, n.pass, 0, s1))
			for _, x := range n.task().Executors {
				if x.Voted || x.Valid != 0 {
					t.Fatalf("a vote is on the ledger before the reveals: %+v", x)
				}
			}
			n.until(ledger.StatusSegments)
			// The reveals are open: v1's vote may be in this block, so v2 commits no more.
			n.refused("commitment once the reveals opened", n.v2.VoteCommit(n.id, n.pass, 0, s2))
			n.ok(n.v1.VoteReveal(n.id, n.pass, 0, s1))
			n.refused("copied vote", n.v2.VoteReveal(n.id, n.pass, 0, s2))
		}},
		{"missed reveal slashed as a missed reveal", func(t *testing.T, n *voteNet) {
			n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1), n.v2.VoteCommit(n.id, n.pass, 0, s2))
			n.ok(n.v2.VoteReveal(n.id, n.pass, 0, s2))
			before, _ := n.st.Node(n.v1.Key())
			n.until(ledger.StatusSegmentsReveal)
			task := n.task()
			if task.Status != ledger.StatusAccepted || task.Executors[1].Outcome != ledger.OutcomeNoVote ||
				task.Executors[2].Outcome != ledger.OutcomeAgreed {
				t.Fatalf("status %s, verifiers %s %s: want accepted, no-vote, agreed", task.Status, task.Executors[1].Outcome,
					task.Executors[2].Outcome)
			}
			after, _ := n.st.Node(n.v1.Key())
			if want := before.Stake - before.Stake*500/10000; after.Stake != want {
				t.Errorf("stake %d -> %d, want %d (SlashNoRevealBPS)", before.Stake, after.Stake, want)
			}
			if got := slashReasons(n.events, n.v1.Key()); len(got) != 1 || got[0] != ledger.ReasonNoVote {
				t.Errorf("slashes %q, want one %q", got, ledger.ReasonNoVote)
			}
		}},
		{"never committed: silent as before", func(t *testing.T, n *voteNet) {
			n.until(ledger.StatusSegments)
			task := n.task()
			if task.Status != ledger.StatusAccepted || task.Executors[1].Outcome != ledger.OutcomeNoVote ||
				task.Executors[2].Outcome != ledger.OutcomeNoVote {
				t.Errorf("status %s, verifiers %s %s: want accepted, no-vote twice", task.Status, task.Executors[1].Outcome,
					task.Executors[2].Outcome)
			}
		}},
	}
	for _, mode := range []struct {
		name   string
		verify uint8
	}{{"segments", ledger.VerifySegments}, {"trajectory", ledger.VerifyTrajectory}} {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) { c.run(t, newVoteNet(t, mode.verify)) })
		}
	}
}

// TestSegmentMissedRevealWithJailing: with downtime jailing, a verifier that committed its
// vote and did not reveal it is handled as a missed reveal: the slash is deferred (and
// counts as a miss), not charged at settlement.
func TestSegmentMissedRevealWithJailing(t *testing.T) {
	for _, verify := range []uint8{ledger.VerifySegments, ledger.VerifyTrajectory} {
		n := newVoteNet(t, verify, func(p *ledger.Params) { p.JailAfterMisses, p.SlashJailBPS = 3, 100 })
		s1, s2 := voteSalt(1), voteSalt(2)
		n.ok(n.v1.VoteCommit(n.id, n.pass, 0, s1), n.v2.VoteCommit(n.id, n.pass, 0, s2))
		n.ok(n.v2.VoteReveal(n.id, n.pass, 0, s2))
		n.until(ledger.StatusSegmentsReveal)
		if got := slashReasons(n.events, n.v1.Key()); len(got) != 0 {
			t.Errorf("verify %d: slashed at once: %q", verify, got)
		}
		deferred := 0
		for _, e := range n.events {
			if e.Type == ledger.EventSlashDeferred && e.Node == n.v1.Key() && e.Reason == ledger.ReasonNoVote {
				deferred++
			}
		}
		nd, _ := n.st.Node(n.v1.Key())
		if deferred != 1 || len(nd.Pending) != 1 || nd.Missed != 1 {
			t.Errorf("verify %d: %d deferred, pending %d, missed %d; want 1, 1, 1", verify, deferred, len(nd.Pending), nd.Missed)
		}
	}
}
