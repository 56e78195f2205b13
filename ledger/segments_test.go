package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// A synthetic training run for the ledger's segment protocol: the state digest after step s
// of an honest run is H("honest", s); a party that diverges from step c on (c >= 0) has
// H("bad", s) for every s >= c. Integers stand for fingerprints.
func honestDigest(s uint32) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "honest %d", s)) }

func partyDigest(from int, s uint32) [32]byte {
	if from >= 0 && int(s) >= from {
		return sha256.Sum256(fmt.Appendf(nil, "bad %d", s))
	}
	return honestDigest(s)
}

const segS, segK = 3, 4 // 3 segments of 4 steps: 12 steps, checkpoints at 0, 4, 8, 12

// voteSalt is verifier v's salt for its vote commitment.
func voteSalt(v int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "vote salt %d", v)) }

func seriesOf(from int) []byte {
	var ds [][32]byte
	var fps [][]int32
	for i := range segS + 1 {
		d := partyDigest(from, uint32(i*segK))
		ds = append(ds, d)
		fps = append(fps, []int32{int32(binary.BigEndian.Uint32(d[:4])), -7})
	}
	return ledger.SeriesBytes(ds, fps)
}

// segRun drives one training task on a checkNet-like ledger with four nodes: the trainer
// diverges from step trainerFrom (-1: honest), verifiers diverge from challengerFrom (-1:
// honest); silent lists the roles ("trainer", "referee") that stop answering in disputes;
// verifierSilent makes verifier 1 commit no vote ("commit") or not reveal it ("reveal").
type segRun struct {
	trainerFrom, challengerFrom int
	silent                      string
	verifierSilent              string
	drift                       []uint32 // segments every verifier fails on its own hardware although its digests agree
	params                      []func(*ledger.Params)
}

func runSegments(t *testing.T, r segRun) (ledger.Task, []ledger.Event, *checkNet) {
	t.Helper()
	n := newCheckNet(t, r.params...)
	d := ledger.NewSigner(key("d"), checkChain)
	n.block(n.client.Transfer(d.Key(), 2000))
	n.block(d.RegisterNode(ledger.RegisterNode{Stake: 1000, Models: []ledger.Model{n.model}}))
	n.nodes = append(n.nodes, d)
	byKey := map[ledger.PubKey]*ledger.Signer{}
	for _, s := range n.nodes {
		byKey[s.Key()] = s
	}
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: "train", Model: n.model, Prompt: []byte("ti spec"),
		Replicas: 3, Rule: quorum.Majority, FingerprintLen: ledger.SeriesLen(segS, 2), Fee: 300,
		Verify: ledger.VerifySegments, Segment: ledger.SegmentSpec{Segments: segS, SegmentSteps: segK, Checks: segS}})
	var events []ledger.Event
	collect := func(res ledger.BlockResult) {
		for _, tx := range res.TxResults {
			events = append(events, tx.Events...)
		}
		events = append(events, res.Events...)
	}
	collect(n.block(submit))
	series := seriesOf(r.trainerFrom)
	var salt [32]byte
	masks := map[int]uint64{} // each verifier's committed vote
	for range 60 {
		task, _ := n.st.Task(id)
		if task.Status.Settled() {
			break
		}
		tr := byKey[task.Executors[0].Node]
		var txs [][]byte
		switch task.Status {
		case ledger.StatusCommit:
			if r.silent != "commit" {
				txs = append(txs, tr.Commit(id, series, salt))
			}
		case ledger.StatusReveal:
			if !task.Executors[0].Revealed {
				txs = append(txs, tr.Reveal(id, series, salt, [32]byte{}))
			}
		case ledger.StatusSegments:
			for v := 1; v < len(task.Executors); v++ {
				if task.Executors[v].VoteCommitted || r.verifierSilent == "commit" && v == 1 {
					continue
				}
				var mask uint64
				for j, k := range ledger.SegmentPicks(task.SegmentRand, id, task.Spec.Segment, v) {
					d0, _ := ledger.SeriesCheckpoint(task.Executors[0].Fingerprint, segS, int(k))
					d1, _ := ledger.SeriesCheckpoint(task.Executors[0].Fingerprint, segS, int(k)+1)
					ok := d1 == partyDigest(r.challengerFrom, (k+1)*segK)
					if k == 0 {
						ok = ok && d0 == partyDigest(r.challengerFrom, 0)
					}
					if slices.Contains(r.drift, k) {
						ok = false
					}
					if ok {
						mask |= 1 << j
					}
				}
				masks[v] = mask
				txs = append(txs, byKey[task.Executors[v].Node].VoteCommit(id, mask, 0, voteSalt(v)))
			}
		case ledger.StatusSegmentsReveal:
			for v := 1; v < len(task.Executors); v++ {
				if x := task.Executors[v]; x.VoteCommitted && !x.Voted && !(r.verifierSilent == "reveal" && v == 1) {
					txs = append(txs, byKey[x.Node].VoteReveal(id, masks[v], 0, voteSalt(v)))
				}
			}
		case ledger.StatusDispute:
			dp := task.Dispute
			ch := byKey[task.Executors[dp.Challenger].Node]
			switch dp.Phase {
			case ledger.PhaseInit, ledger.PhaseOpen, ledger.PhaseMid:
				if !dp.ChallSent {
					txs = append(txs, ch.Bisect(id, dp.Query, partyDigest(r.challengerFrom, dp.Query)))
				}
				if !dp.TrainerSent && r.silent != "trainer" {
					txs = append(txs, tr.Bisect(id, dp.Query, partyDigest(r.trainerFrom, dp.Query)))
				}
			case ledger.PhaseReferee:
				// A referee that restarts finds the dispute among its open tasks.
				if !slices.Contains(n.st.OpenTasks(dp.Referee), id) {
					t.Fatalf("height %d: the referee's open tasks %v lack the disputed task", n.height, n.st.OpenTasks(dp.Referee))
				}
				if r.silent != "referee" {
					// The referee re-executes the step honestly from the agreed state.
					txs = append(txs, byKey[dp.Referee].Bisect(id, dp.Step, honestDigest(dp.Step)))
				}
			}
		}
		collect(n.block(txs...))
		// The state, mid-protocol, survives a round trip with the same app hash.
		b := n.st.MarshalState()
		back, err := ledger.UnmarshalState(b)
		if err != nil {
			t.Fatal(err)
		}
		if back.AppHash() != n.st.AppHash() || !bytes.Equal(back.MarshalState(), b) {
			b2 := back.MarshalState()
			i := 0
			for i < len(b) && i < len(b2) && b[i] == b2[i] {
				i++
			}
			t.Fatalf("height %d: state does not round-trip (hash equal %v, len %d vs %d, first diff at %d: %x vs %x)", n.height, back.AppHash() == n.st.AppHash(), len(b), len(b2), i, b[max(0, i-40):min(len(b), i+8)], b2[max(0, i-40):min(len(b2), i+8)])
		}
	}
	task, _ := n.st.Task(id)
	if !task.Status.Settled() {
		t.Fatalf("task not settled: status %s", task.Status)
	}
	if task.Dispute != nil && slices.Contains(n.st.OpenTasks(task.Dispute.Referee), id) {
		t.Fatalf("the settled task is still open for its referee")
	}
	return task, events, n
}

// sumEvents sums the amounts of node's events of type typ.
func sumEvents(events []ledger.Event, typ ledger.EventType, node ledger.PubKey) uint64 {
	var n uint64
	for _, e := range events {
		if e.Type == typ && e.Node == node {
			n += e.Amount
		}
	}
	return n
}

func slashReasons(events []ledger.Event, node ledger.PubKey) []string {
	var out []string
	for _, e := range events {
		if e.Type == ledger.EventSlash && e.Node == node {
			out = append(out, e.Reason)
		}
	}
	return out
}

// TestSegmentsHonest: an honest trainer's series is accepted after every verifier's picks
// pass; trainer and verifiers share the fee, nobody is slashed.
func TestSegmentsHonest(t *testing.T) {
	task, events, _ := runSegments(t, segRun{trainerFrom: -1, challengerFrom: -1})
	if task.Status != ledger.StatusAccepted || task.Dispute != nil {
		t.Fatalf("status %s reason %q dispute %+v", task.Status, task.Reason, task.Dispute)
	}
	for _, x := range task.Executors {
		if x.Outcome != ledger.OutcomeAgreed {
			t.Errorf("executor %v: %s", x.Node, x.Outcome)
		}
	}
	for _, e := range events {
		if e.Type == ledger.EventSlash {
			t.Errorf("slash %+v", e)
		}
	}
	if !bytes.Equal(task.Value, seriesOf(-1)) {
		t.Error("accepted value is not the trainer's series")
	}
}

// TestSegmentsBisectionFindsStep: a trainer whose state diverged from step c on is rejected
// and slashed for lying, and the bisection ends at exactly step c, for c at the initial
// state, inside and at the ends of segments; the rounds are log2 of the segment's steps.
func TestSegmentsBisectionFindsStep(t *testing.T) {
	for _, c := range []int{0, 1, 3, 4, 5, 7, 8, 12} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			task, events, _ := runSegments(t, segRun{trainerFrom: c, challengerFrom: -1})
			d := task.Dispute
			if task.Status != ledger.StatusNoVerdict || d == nil || !d.TrainerLied || d.ChallengerLied {
				t.Fatalf("status %s reason %q dispute %+v", task.Status, task.Reason, d)
			}
			if int(d.Step) != c {
				t.Errorf("bisection ended at step %d, the trainer diverged at %d", d.Step, c)
			}
			if want := fmt.Sprintf("after step %d", c); !strings.Contains(task.Reason, want) {
				t.Errorf("reason %q lacks %q", task.Reason, want)
			}
			if c > 0 && d.Rounds > 2 { // K = 4: at most log2(4) = 2 midpoints
				t.Errorf("%d rounds", d.Rounds)
			}
			if got := slashReasons(events, task.Executors[0].Node); len(got) != 1 || got[0] != ledger.ReasonLied {
				t.Errorf("trainer slashes %q", got)
			}
			if got := slashReasons(events, task.Executors[d.Challenger].Node); len(got) != 0 {
				t.Errorf("honest challenger slashed: %q", got)
			}
			// The liar pays for catching it: half its slash to the challenger and the referee.
			taken := sumEvents(events, ledger.EventSlash, task.Executors[0].Node)
			for _, who := range []ledger.PubKey{task.Executors[d.Challenger].Node, d.Referee} {
				if got := sumEvents(events, ledger.EventReward, who); taken == 0 || got != taken/4 {
					t.Errorf("%v rewarded %d, want a quarter of the trainer's %d", who, got, taken)
				}
			}
			// Nodes act on events: every digest asked has its event (segment 0: the initial
			// state, then the segment's end, then the midpoints).
			asked := map[uint64]bool{}
			for _, e := range events {
				if e.Type == ledger.EventDisputeOpen {
					asked[uint64(d.Segment)*segK+uint64(segK)*uint64(min(d.Segment, 1))] = true // k > 0: the end; k = 0: step 0
				}
				if e.Type == ledger.EventBisectQuery {
					asked[e.Amount] = true
				}
			}
			for _, e := range events {
				if e.Type == ledger.EventBisected && e.Node != d.Referee && !asked[e.Amount] {
					t.Errorf("digest after step %d sent with no event asking for it", e.Amount)
				}
			}
			if task.Executors[0].Outcome != ledger.OutcomeOutlier || task.Executors[d.Challenger].Outcome != ledger.OutcomeAgreed {
				t.Errorf("outcomes: trainer %s, challenger %s", task.Executors[0].Outcome, task.Executors[d.Challenger].Outcome)
			}
		})
	}
}

// TestSegmentsEveryFailedSegmentDisputed: verifiers whose own hardware drifts beyond the
// tolerance on segment 0 (their digests under the declared profile agree with the trainer's)
// also fail segment 1, where the trainer cheated from step 6: the dispute on segment 0 ends
// with the challenger conceding, and the dispute on segment 1 then finds the trainer lied at
// step 6 (before the fix, the concession accepted the cheat). With an honest trainer the
// drift alone ends in concessions and acceptance, nobody slashed.
func TestSegmentsEveryFailedSegmentDisputed(t *testing.T) {
	task, events, _ := runSegments(t, segRun{trainerFrom: 6, challengerFrom: -1, drift: []uint32{0}})
	d := task.Dispute
	if task.Status != ledger.StatusNoVerdict || d == nil || !d.TrainerLied || d.ChallengerLied || d.Step != 6 || d.Segment != 1 {
		t.Fatalf("cheat after drift: status %s reason %q dispute %+v", task.Status, task.Reason, d)
	}
	conceded := 0
	for _, e := range events {
		if e.Type == ledger.EventDisputeResolved && e.Reason == "challenger conceded" {
			conceded++
		}
	}
	if conceded != 1 {
		t.Errorf("%d concessions, want 1 (segment 0)", conceded)
	}
	if got := slashReasons(events, task.Executors[0].Node); len(got) != 1 || got[0] != ledger.ReasonLied {
		t.Errorf("trainer slashes %q", got)
	}
	if x := task.Executors[d.Challenger]; x.Outcome != ledger.OutcomeAgreed || len(slashReasons(events, x.Node)) != 0 {
		t.Errorf("challenger %s, slashes %q", x.Outcome, slashReasons(events, x.Node))
	}

	task, events, _ = runSegments(t, segRun{trainerFrom: -1, challengerFrom: -1, drift: []uint32{0, 2}})
	if task.Status != ledger.StatusAccepted {
		t.Fatalf("honest with drift: status %s reason %q", task.Status, task.Reason)
	}
	for _, e := range events {
		if e.Type == ledger.EventSlash {
			t.Errorf("slash %+v", e)
		}
	}
	for v := 1; v < len(task.Executors); v++ {
		if task.Executors[v].Outcome != ledger.OutcomeUndecided {
			t.Errorf("verifier %d: %s, want undecided (conceded every failed segment)", v, task.Executors[v].Outcome)
		}
	}
}

// TestSegmentsFalseAlarm: verifiers that claim a wrong digest against an honest trainer are
// slashed for lying (by the referee), and the trainer is paid.
func TestSegmentsFalseAlarm(t *testing.T) {
	task, events, _ := runSegments(t, segRun{trainerFrom: -1, challengerFrom: 6})
	if task.Status != ledger.StatusAccepted {
		t.Fatalf("status %s reason %q", task.Status, task.Reason)
	}
	d := task.Dispute
	if d == nil || d.TrainerLied || !d.ChallengerLied || d.Step != 6 {
		t.Fatalf("dispute %+v", d)
	}
	for v := 1; v < len(task.Executors); v++ {
		if got := slashReasons(events, task.Executors[v].Node); len(got) != 1 || got[0] != ledger.ReasonLied {
			t.Errorf("verifier %d slashes %q", v, got)
		}
	}
	// Each lying challenger's slash pays half to the referee of its dispute (the rest burned).
	var referee ledger.PubKey
	paid := 0
	for i, e := range events {
		switch {
		case e.Type == ledger.EventRefereeDrawn:
			referee = e.Node
		case e.Type == ledger.EventSlash && e.Reason == ledger.ReasonLied:
			if i+1 >= len(events) || events[i+1].Type != ledger.EventReward || events[i+1].Node != referee || events[i+1].Amount != e.Amount/2 {
				t.Errorf("slash of %d from %v not followed by a reward of %d to the referee %v", e.Amount, e.Node, e.Amount/2, referee)
			}
			paid++
		}
	}
	if paid != 2 {
		t.Errorf("%d referees paid, want 2", paid)
	}
	if task.Executors[0].Outcome != ledger.OutcomeAgreed || len(slashReasons(events, task.Executors[0].Node)) != 0 {
		t.Errorf("trainer %s", task.Executors[0].Outcome)
	}
}

// TestSegmentsSilence: a trainer that stops answering in a dispute loses it; a silent
// referee ends the task without verdict and slashes only the referee.
func TestSegmentsSilence(t *testing.T) {
	task, events, _ := runSegments(t, segRun{trainerFrom: 5, challengerFrom: -1, silent: "trainer"})
	if task.Status != ledger.StatusNoVerdict || !strings.Contains(task.Reason, "did not answer") {
		t.Fatalf("silent trainer: status %s reason %q", task.Status, task.Reason)
	}
	if got := slashReasons(events, task.Executors[0].Node); len(got) != 1 || got[0] != ledger.ReasonNoAnswer {
		t.Errorf("trainer slashes %q", got)
	}
	task, events, _ = runSegments(t, segRun{trainerFrom: 5, challengerFrom: -1, silent: "referee"})
	if task.Status != ledger.StatusNoVerdict || task.Reason != "referee did not answer" {
		t.Fatalf("silent referee: status %s reason %q", task.Status, task.Reason)
	}
	if got := slashReasons(events, task.Dispute.Referee); len(got) != 1 || got[0] != ledger.ReasonNoAnswer {
		t.Errorf("referee slashes %q", got)
	}
	for _, x := range task.Executors {
		if got := slashReasons(events, x.Node); len(got) != 0 && x.Node != task.Dispute.Referee {
			t.Errorf("%v slashed %q", x.Node, got)
		}
	}
}

// TestSegmentsSilenceWithJailing: on a chain with downtime jailing, a side silent in a
// dispute is treated as a missed reveal: its slash is deferred (EventSlashDeferred with
// ReasonNoAnswer) and the silence counts as a miss, instead of a slash per task, so a node
// killed during a dispute pays once, at its jailing or when it shows life again.
func TestSegmentsSilenceWithJailing(t *testing.T) {
	jail := func(p *ledger.Params) { p.JailAfterMisses = 3 }
	for _, who := range []string{"trainer", "referee"} {
		task, events, n := runSegments(t, segRun{trainerFrom: 5, challengerFrom: -1, silent: who, params: []func(*ledger.Params){jail}})
		if task.Status != ledger.StatusNoVerdict {
			t.Fatalf("silent %s: status %s reason %q", who, task.Status, task.Reason)
		}
		silent := task.Executors[0].Node
		if who == "referee" {
			silent = task.Dispute.Referee
		}
		if got := slashReasons(events, silent); len(got) != 0 {
			t.Errorf("silent %s slashed at once: %q", who, got)
		}
		deferred := 0
		for _, e := range events {
			if e.Type == ledger.EventSlashDeferred && e.Node == silent {
				deferred++
				if e.Reason != ledger.ReasonNoAnswer {
					t.Errorf("silent %s: deferred with reason %q", who, e.Reason)
				}
			}
		}
		nd, _ := n.st.Node(silent)
		if deferred != 1 || len(nd.Pending) != 1 || nd.Missed != 1 {
			t.Errorf("silent %s: %d deferred, pending %d, missed %d; want 1, 1, 1", who, deferred, len(nd.Pending), nd.Missed)
		}
	}
}

// TestSegmentsNoTrainer: a trainer that never commits ends the task without verdict, fee
// refunded; the verifiers, who had nothing to check, are neither paid nor slashed.
func TestSegmentsNoTrainer(t *testing.T) {
	task, events, _ := runSegments(t, segRun{trainerFrom: -1, challengerFrom: -1, silent: "commit"})
	if task.Status != ledger.StatusNoVerdict || task.Reason != ledger.ReasonNoReveals {
		t.Fatalf("status %s reason %q", task.Status, task.Reason)
	}
	if task.Executors[0].Outcome != ledger.OutcomeNoCommit {
		t.Errorf("trainer %s", task.Executors[0].Outcome)
	}
	for _, x := range task.Executors[1:] {
		if x.Outcome != ledger.OutcomeUndecided || len(slashReasons(events, x.Node)) != 0 {
			t.Errorf("verifier %s, slashes %q", x.Outcome, slashReasons(events, x.Node))
		}
	}
	refunded := false
	for _, e := range events {
		refunded = refunded || (e.Type == ledger.EventRefund && e.Amount == 300)
	}
	if !refunded {
		t.Error("fee not refunded")
	}
}

// TestSegmentPicks: picks are distinct segments, differ between verifiers, and cover every
// segment when Checks == Segments.
func TestSegmentPicks(t *testing.T) {
	seg := ledger.SegmentSpec{Segments: 10, SegmentSteps: 5, Checks: 3}
	a := ledger.SegmentPicks([32]byte{1}, ledger.TaskID{2}, seg, 1)
	b := ledger.SegmentPicks([32]byte{1}, ledger.TaskID{2}, seg, 2)
	if len(a) != 3 || fmt.Sprint(a) == fmt.Sprint(b) {
		t.Fatalf("picks %v %v", a, b)
	}
	seg.Checks = 10
	seen := map[uint32]bool{}
	for _, k := range ledger.SegmentPicks([32]byte{1}, ledger.TaskID{2}, seg, 1) {
		if k >= 10 || seen[k] {
			t.Fatalf("pick %d", k)
		}
		seen[k] = true
	}
}

// TestSegmentSpecValidation: malformed training tasks are refused before reaching the state.
func TestSegmentSpecValidation(t *testing.T) {
	s := ledger.NewSigner(key("client"), checkChain)
	good := ledger.SubmitTask{Kind: "train", Model: ledger.Model{Name: "m"}, Replicas: 3, Rule: quorum.Majority,
		FingerprintLen: ledger.SeriesLen(3, 2), Fee: 1, Verify: ledger.VerifySegments,
		Segment: ledger.SegmentSpec{Segments: 3, SegmentSteps: 4, Checks: 2}}
	for _, tc := range []struct {
		name string
		mod  func(*ledger.SubmitTask)
		ok   bool
	}{
		{"good", func(*ledger.SubmitTask) {}, true},
		{"no verifier", func(b *ledger.SubmitTask) { b.Replicas = 1 }, false},
		{"checks over segments", func(b *ledger.SubmitTask) { b.Segment.Checks = 4 }, false},
		{"zero steps", func(b *ledger.SubmitTask) { b.Segment.SegmentSteps = 0 }, false},
		{"series length", func(b *ledger.SubmitTask) { b.FingerprintLen++ }, false},
		{"tolerance", func(b *ledger.SubmitTask) { b.Tolerance = 1 }, false},
	} {
		b := good
		tc.mod(&b)
		raw, _ := s.SubmitTask(b)
		tx, err := ledger.DecodeTx(raw)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err == nil && tx.Body.(*ledger.SubmitTask).Segment != b.Segment {
			t.Errorf("%s: segment spec does not round-trip", tc.name)
		}
	}
}
