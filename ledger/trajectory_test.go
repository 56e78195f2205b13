package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// A synthetic trajectory for the ledger's rules: state i's digest is H("state", i); the image
// fingerprint is 8 bytes. What a verifier finds is given by its verdict function, not computed.
const trajSegments = 4

var trajImage = []byte("imagefp!")

func trajDigests() [][32]byte {
	var ds [][32]byte
	for i := range trajSegments + 1 {
		ds = append(ds, sha256.Sum256(fmt.Appendf(nil, "state %d", i)))
	}
	return ds
}

// trajVerifier says how one verifier votes: pass reports whether segment k passes; ends
// whether the ends pass; silent: it commits no vote; noReveal: it commits its vote and does
// not reveal it.
type trajVerifier struct {
	failSegs []uint32
	failEnds bool
	silent   bool
	noReveal bool
}

var (
	vPass   = trajVerifier{}
	vSilent = trajVerifier{silent: true}
)

func vFail(segs ...uint32) trajVerifier { return trajVerifier{failSegs: segs} }

type trajRun struct {
	checks     uint32
	verifiers  [3]trajVerifier
	noReveal   bool
	unrunnable bool // the generator reveals UnrunnableFingerprint
}

// runTrajectory drives one trajectory-verified task with a generator and three verifiers on a
// checkNet with a fourth node; the state must survive a round trip mid-protocol.
func runTrajectory(t *testing.T, r trajRun) (ledger.Task, []ledger.Event, *checkNet) {
	t.Helper()
	n := newCheckNet(t)
	d := ledger.NewSigner(key("d"), checkChain)
	n.block(n.client.Transfer(d.Key(), 2000))
	n.block(d.RegisterNode(ledger.RegisterNode{Stake: 1000, Models: []ledger.Model{n.model}}))
	n.nodes = append(n.nodes, d)
	byKey := map[ledger.PubKey]*ledger.Signer{}
	for _, s := range n.nodes {
		byKey[s.Key()] = s
	}
	fp := ledger.TrajectoryBytes(trajImage, trajDigests())
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: "image", Model: n.model, Prompt: []byte("a coat"),
		Replicas: 4, Rule: quorum.Majority, FingerprintLen: uint32(len(fp)), Fee: 400,
		Verify: ledger.VerifyTrajectory, Segment: ledger.SegmentSpec{Segments: trajSegments, Checks: r.checks}})
	var events []ledger.Event
	collect := func(res ledger.BlockResult) {
		for _, tx := range res.TxResults {
			events = append(events, tx.Events...)
		}
		events = append(events, res.Events...)
	}
	collect(n.block(submit))
	if r.unrunnable {
		fp = ledger.UnrunnableFingerprint(id, uint32(len(fp)))
	}
	var salt [32]byte
	masks := map[int]uint64{} // each verifier's committed vote
	for range 60 {
		task, _ := n.st.Task(id)
		if task.Status.Settled() {
			break
		}
		g := byKey[task.Executors[0].Node]
		var txs [][]byte
		switch task.Status {
		case ledger.StatusCommit:
			txs = append(txs, g.Commit(id, fp, salt))
		case ledger.StatusReveal:
			if !task.Executors[0].Revealed && !r.noReveal {
				txs = append(txs, g.Reveal(id, fp, salt, [32]byte{}))
			}
		case ledger.StatusSegments:
			picks := ledger.TrajectoryPicks(task.SegmentRand, id, task.Spec.Segment)
			for v := 1; v < len(task.Executors); v++ {
				vr := r.verifiers[v-1]
				if task.Executors[v].VoteCommitted || vr.silent {
					continue
				}
				var mask uint64
				for j, k := range picks {
					if !slices.Contains(vr.failSegs, k) {
						mask |= 1 << j
					}
				}
				if !vr.failEnds {
					mask |= 1 << len(picks)
				}
				masks[v] = mask
				txs = append(txs, byKey[task.Executors[v].Node].VoteCommit(id, mask, 0, voteSalt(v)))
			}
		case ledger.StatusSegmentsReveal:
			for v := 1; v < len(task.Executors); v++ {
				if x := task.Executors[v]; x.VoteCommitted && !x.Voted && !r.verifiers[v-1].noReveal {
					txs = append(txs, byKey[x.Node].VoteReveal(id, masks[v], 0, voteSalt(v)))
				}
			}
		}
		collect(n.block(txs...))
		b := n.st.MarshalState()
		back, err := ledger.UnmarshalState(b)
		if err != nil {
			t.Fatal(err)
		}
		if back.AppHash() != n.st.AppHash() || !bytes.Equal(back.MarshalState(), b) {
			t.Fatalf("height %d: state does not round-trip", n.height)
		}
	}
	task, _ := n.st.Task(id)
	if !task.Status.Settled() {
		t.Fatalf("task not settled: status %s", task.Status)
	}
	return task, events, n
}

// TestTrajectoryRules: the generator of a trajectory-verified image task is accepted (value:
// its image fingerprint, fee shared with the verifiers who voted) unless a strict majority of
// its verifiers fails the same drawn segment or the ends; then it is slashed with the reason
// naming the segment, half the slash pays the verifiers who voted the failure, and the fee is
// refunded. One verifier's failure (honest drift beyond the tolerance, or a false accusation)
// does not reject; a silent verifier is treated as a missed vote.
func TestTrajectoryRules(t *testing.T) {
	all := []uint32{0, 1, 2, 3}
	for _, c := range []struct {
		name       string
		run        trajRun
		accepted   bool
		reason     string // substring of the task's reason (and of the generator's slash)
		outcomes   [4]ledger.Outcome
		paidFromFx []int // executors paid from the fee (accepted) or the slash (rejected)
	}{
		{"honest", trajRun{checks: 1, verifiers: [3]trajVerifier{vPass, vPass, vPass}}, true, "",
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed}, []int{0, 1, 2, 3}},
		{"every segment bad, all fail", trajRun{checks: 1, verifiers: [3]trajVerifier{vFail(all...), vFail(all...), vFail(all...)}}, false,
			ledger.ReasonTrajectorySegment + ": segment ",
			[4]ledger.Outcome{ledger.OutcomeOutlier, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed}, []int{1, 2, 3}},
		{"two of three fail", trajRun{checks: 4, verifiers: [3]trajVerifier{vFail(2), vPass, vFail(2)}}, false,
			ledger.ReasonTrajectorySegment + ": segment 2 of 4, 2 of 3 verifiers",
			[4]ledger.Outcome{ledger.OutcomeOutlier, ledger.OutcomeAgreed, ledger.OutcomeUndecided, ledger.OutcomeAgreed}, []int{1, 3}},
		{"one of three fails (drift)", trajRun{checks: 4, verifiers: [3]trajVerifier{vPass, vFail(0), vPass}}, true, "",
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed}, []int{0, 1, 2, 3}},
		{"two fail different segments", trajRun{checks: 4, verifiers: [3]trajVerifier{vFail(1), vFail(3), vPass}}, true, "",
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed}, []int{0, 1, 2, 3}},
		{"ends fail", trajRun{checks: 2, verifiers: [3]trajVerifier{{failEnds: true}, {failEnds: true}, vPass}}, false,
			ledger.ReasonTrajectoryEnds + ": 2 of 3 verifiers",
			[4]ledger.Outcome{ledger.OutcomeOutlier, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeUndecided}, []int{1, 2}},
		{"silent verifier, honest", trajRun{checks: 1, verifiers: [3]trajVerifier{vPass, vSilent, vPass}}, true, "",
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeNoVote, ledger.OutcomeAgreed}, []int{0, 1, 3}},
		{"one fails, one silent: no majority", trajRun{checks: 4, verifiers: [3]trajVerifier{vFail(1), vSilent, vPass}}, true, "",
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeNoVote, ledger.OutcomeAgreed}, []int{0, 1, 3}},
		{"unrunnable, verifiers agree", trajRun{checks: 1, unrunnable: true, verifiers: [3]trajVerifier{vPass, vPass, vPass}}, true,
			ledger.ReasonUnrunnable,
			[4]ledger.Outcome{ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed, ledger.OutcomeAgreed}, []int{0, 1, 2, 3}},
		{"no reveal", trajRun{checks: 1, noReveal: true}, false, ledger.ReasonNoReveals,
			[4]ledger.Outcome{ledger.OutcomeNoReveal, ledger.OutcomeUndecided, ledger.OutcomeUndecided, ledger.OutcomeUndecided}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			task, events, n := runTrajectory(t, c.run)
			if got := task.Status == ledger.StatusAccepted; got != c.accepted || !strings.Contains(task.Reason, c.reason) {
				t.Fatalf("status %s reason %q, want accepted %t reason %q", task.Status, task.Reason, c.accepted, c.reason)
			}
			for j, x := range task.Executors {
				if x.Outcome != c.outcomes[j] {
					t.Errorf("executor %d: %s, want %s", j, x.Outcome, c.outcomes[j])
				}
			}
			for j, x := range task.Executors {
				paid := sumEvents(events, ledger.EventReward, x.Node) > 0
				if want := slices.Contains(c.paidFromFx, j); paid != want {
					t.Errorf("executor %d paid %t, want %t", j, paid, want)
				}
			}
			gen := slashReasons(events, task.Executors[0].Node)
			switch {
			case c.accepted && len(gen) != 0:
				t.Errorf("accepted generator slashed: %q", gen)
			case !c.accepted && c.reason != ledger.ReasonNoReveals && (len(gen) != 1 || gen[0] != task.Reason):
				t.Errorf("generator slashes %q, want one with the task's reason %q", gen, task.Reason)
			case c.accepted && !c.run.unrunnable && !bytes.Equal(task.Value, trajImage):
				t.Errorf("accepted value %q, want the image fingerprint %q", task.Value, trajImage)
			case c.run.unrunnable && !bytes.Equal(task.Value, ledger.UnrunnableFingerprint(task.ID, task.Spec.FingerprintLen)):
				t.Errorf("unrunnable task's value %x", task.Value)
			}
			if !c.accepted && c.reason != ledger.ReasonNoReveals && sumEvents(events, ledger.EventRefund, n.client.Key()) != 400 {
				t.Errorf("fee not refunded")
			}
		})
	}
}

// TestTrajectoryOneCheckCatchesByDraw: with one check of four segments, a trajectory with one
// bad segment is rejected exactly when the draw (from the randomness of the block that closed
// the reveal) picks that segment.
func TestTrajectoryOneCheckCatchesByDraw(t *testing.T) {
	for bad := range uint32(trajSegments) {
		v := vFail(bad)
		task, _, _ := runTrajectory(t, trajRun{checks: 1, verifiers: [3]trajVerifier{v, v, v}})
		pick := ledger.TrajectoryPicks(task.SegmentRand, task.ID, task.Spec.Segment)[0]
		if rejected := task.Status == ledger.StatusNoVerdict; rejected != (pick == bad) {
			t.Errorf("bad segment %d, drawn %d: status %s %q", bad, pick, task.Status, task.Reason)
		}
	}
}

// TestTrajectoryValidate: the stateless rules of a trajectory-verified submission.
func TestTrajectoryValidate(t *testing.T) {
	ok := ledger.SubmitTask{Kind: "image", Model: ledger.Model{Name: "base"}, Replicas: 2, Rule: quorum.Majority,
		FingerprintLen: 8 + ledger.TrajectoryDigestsLen(4), Fee: 1, Verify: ledger.VerifyTrajectory,
		Segment: ledger.SegmentSpec{Segments: 4, Checks: 1}}
	for _, c := range []struct {
		name string
		mod  func(*ledger.SubmitTask)
		ok   bool
	}{
		{"valid", func(*ledger.SubmitTask) {}, true},
		{"no segments", func(s *ledger.SubmitTask) { s.Segment.Segments = 0 }, false},
		{"too many segments", func(s *ledger.SubmitTask) {
			s.Segment.Segments = ledger.MaxTrajectorySegments + 1
			s.FingerprintLen = 8 + ledger.TrajectoryDigestsLen(s.Segment.Segments)
		}, false},
		{"segment steps set", func(s *ledger.SubmitTask) { s.Segment.SegmentSteps = 5 }, false},
		{"no checks", func(s *ledger.SubmitTask) { s.Segment.Checks = 0 }, false},
		{"more checks than segments", func(s *ledger.SubmitTask) { s.Segment.Checks = 5 }, false},
		{"one replica", func(s *ledger.SubmitTask) { s.Replicas = 1 }, false},
		{"adaptive round", func(s *ledger.SubmitTask) { s.MaxReplicas = 3 }, false},
		{"tolerance", func(s *ledger.SubmitTask) { s.Tolerance = 2 }, false},
		{"no room for the image fingerprint", func(s *ledger.SubmitTask) { s.FingerprintLen = ledger.TrajectoryDigestsLen(4) }, false},
		{"spot checked", func(s *ledger.SubmitTask) { s.SpotPPM = 10 }, false},
		{"unknown mode", func(s *ledger.SubmitTask) { s.Verify = ledger.VerifyTrajectory + 1 }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.mod(&s)
			signer := ledger.NewSigner(key("client"), checkChain)
			raw, _ := signer.SubmitTask(s)
			_, err := ledger.DecodeTx(raw)
			if (err == nil) != c.ok {
				t.Errorf("decode: %v, want ok %t", err, c.ok)
			}
			if err != nil && !errors.Is(err, ledger.ErrMalformedTx) {
				t.Errorf("error %v is not ErrMalformedTx", err)
			}
		})
	}
}

// TestTrajectoryVoteRules: votes out of turn or malformed are refused: before the reveal, by
// the generator, twice, with bits beyond the picks and the ends, with unsure bits.
func TestTrajectoryVoteRules(t *testing.T) {
	n := newCheckNet(t, func(p *ledger.Params) { p.CommitWindow = 50 })
	byKey := map[ledger.PubKey]*ledger.Signer{}
	for _, s := range n.nodes {
		byKey[s.Key()] = s
	}
	fp := ledger.TrajectoryBytes(trajImage, trajDigests())
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: "image", Model: n.model, Replicas: 3, Rule: quorum.Majority,
		FingerprintLen: uint32(len(fp)), Fee: 300, Verify: ledger.VerifyTrajectory, Segment: ledger.SegmentSpec{Segments: trajSegments, Checks: 2}})
	n.block(submit)
	task, _ := n.st.Task(id)
	g, v1, v2 := byKey[task.Executors[0].Node], byKey[task.Executors[1].Node], byKey[task.Executors[2].Node]
	var salt [32]byte
	s1, s2 := voteSalt(1), voteSalt(2)
	if code := n.tryBlock(v1.VoteCommit(id, 7, 0, s1)); code == 0 {
		t.Error("vote commitment accepted before the reveal")
	}
	if code := n.tryBlock(v1.Commit(id, fp, salt)); code == 0 {
		t.Error("a verifier's commitment accepted")
	}
	n.block(g.Commit(id, fp, salt))
	n.block(g.Reveal(id, fp, salt, [32]byte{}))
	if task, _ = n.st.Task(id); task.Status != ledger.StatusSegments {
		t.Fatalf("status %s after the reveal", task.Status)
	}
	if code := n.tryBlock(g.VoteCommit(id, 7, 0, salt)); code == 0 {
		t.Error("generator's vote commitment accepted")
	}
	// Malformed votes are committed (the ledger cannot see inside) but cannot be revealed.
	n.block(v1.VoteCommit(id, 8, 0, s1))
	if code := n.tryBlock(v1.VoteCommit(id, 7, 0, s1)); code == 0 {
		t.Error("second vote commitment accepted")
	}
	n.block(v2.VoteCommit(id, 7, 0, s2))
	if task, _ = n.st.Task(id); task.Status != ledger.StatusSegmentsReveal {
		t.Fatalf("status %s after every verifier committed", task.Status)
	}
	for _, c := range []struct {
		name string
		tx   []byte
	}{
		{"bits beyond picks and ends", v1.VoteReveal(id, 8, 0, s1)}, // opens its commitment
		{"unsure bits", v1.VoteReveal(id, 1, 2, s1)},
		{"generator votes", g.VoteReveal(id, 7, 0, salt)},
	} {
		if code := n.tryBlock(c.tx); code == 0 {
			t.Errorf("%s: accepted", c.name)
		}
	}
	n.block(v2.VoteReveal(id, 7, 0, s2))
	if code := n.tryBlock(v2.VoteReveal(id, 7, 0, s2)); code == 0 {
		t.Error("second vote accepted")
	}
	for task, _ = n.st.Task(id); !task.Status.Settled(); task, _ = n.st.Task(id) {
		n.block() // v1 cannot reveal its malformed vote: the reveal window ends
	}
	if task.Status != ledger.StatusAccepted || task.Executors[1].Outcome != ledger.OutcomeNoVote {
		t.Errorf("status %s %q, verifier 1 %s: want accepted, no-vote", task.Status, task.Reason, task.Executors[1].Outcome)
	}
}

// tryBlock finalizes a block of one transaction and returns its result code (0: applied).
func (n *checkNet) tryBlock(tx []byte) uint32 {
	n.t.Helper()
	n.height++
	res, err := n.st.FinalizeBlock(ledger.Block{Height: n.height, Rand: sha256.Sum256([]byte{byte(n.height)}), Txs: [][]byte{tx}}, n.cache)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	return res.TxResults[0].Code
}
