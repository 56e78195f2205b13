package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// VerifySegments is the verification mode of training tasks (see the package doc, "Training
// tasks"): executor 0 of the round is the trainer, the others are verifiers. The trainer
// commits to and reveals its checkpoint series (SeriesBytes: per checkpoint a SHA-256 state
// digest and integer fingerprint); ledger randomness then picks each verifier's segments, the
// verifiers commit and then reveal their votes on them, and a failed segment goes to a
// bisection that a referee ends.
const VerifySegments uint8 = 2

// Limits of training tasks.
const (
	// MaxSegmentChecks bounds the segments one verifier checks (one bit each in a Vote).
	MaxSegmentChecks = 64
	// MaxTrainSteps bounds Segments * SegmentSteps.
	MaxTrainSteps = 1 << 30
)

// ErrDispute reports a Bisect transaction that does not fit the task's dispute: no dispute
// open, a signer who is neither side nor the referee, a step that is not the one asked, or a
// second answer.
var ErrDispute = errors.New("ledger: dispute rule")

// ReasonLied is the slash reason of the side of a dispute whose digest differs from the
// referee's; ReasonNoAnswer of a side (or referee) that did not answer in time.
const (
	ReasonLied     = "lied in dispute"
	ReasonNoAnswer = "no answer in dispute"
)

// SegmentSpec is the part of a SubmitTask that only training tasks (Verify == VerifySegments)
// carry: the series has Segments+1 checkpoints, SegmentSteps (K) steps apart, and each
// verifier checks Checks of the Segments segments.
type SegmentSpec struct {
	Segments     uint32
	SegmentSteps uint32
	Checks       uint32
}

func (s *SegmentSpec) validate(b *SubmitTask) error {
	per := uint64(b.FingerprintLen) / (uint64(s.Segments) + 1)
	switch {
	case s.Segments == 0 || s.SegmentSteps == 0 || uint64(s.Segments)*uint64(s.SegmentSteps) > MaxTrainSteps:
		return fmt.Errorf("%w: %d segments of %d steps", ErrMalformedTx, s.Segments, s.SegmentSteps)
	case s.Checks == 0 || s.Checks > s.Segments || s.Checks > MaxSegmentChecks:
		return fmt.Errorf("%w: %d checks of %d segments (max %d)", ErrMalformedTx, s.Checks, s.Segments, MaxSegmentChecks)
	case b.Replicas < 2:
		return fmt.Errorf("%w: a training task needs a trainer and at least one verifier", ErrMalformedTx)
	case b.MaxReplicas != 0 || b.Tolerance != 0:
		return fmt.Errorf("%w: training tasks have no adaptive round and no Hamming tolerance", ErrMalformedTx)
	case per*(uint64(s.Segments)+1) != uint64(b.FingerprintLen) || per < 32 || (per-32)%4 != 0:
		return fmt.Errorf("%w: series of %d bytes is not %d checkpoints of a digest and int32s", ErrMalformedTx,
			b.FingerprintLen, s.Segments+1)
	}
	return nil
}

// SeriesLen returns the bytes of a series of segments+1 checkpoints with dim-number
// fingerprints: the FingerprintLen of the training task.
func SeriesLen(segments, dim int) uint32 { return uint32((segments + 1) * (32 + 4*dim)) }

// SeriesBytes encodes a checkpoint series as the trainer reveals it: per checkpoint in order,
// its 32-byte state digest then its fingerprint's integers as big-endian int32. All
// fingerprints must have the same length.
func SeriesBytes(digests [][32]byte, fingerprints [][]int32) []byte {
	var b []byte
	for i, d := range digests {
		b = append(b, d[:]...)
		for _, v := range fingerprints[i] {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
	}
	return b
}

// SeriesCheckpoint returns checkpoint i's digest and integer fingerprint from a revealed
// series of a task with the given number of segments.
func SeriesCheckpoint(series []byte, segments uint32, i int) (digest [32]byte, fp []int32) {
	per := len(series) / (int(segments) + 1)
	c := series[i*per : (i+1)*per]
	copy(digest[:], c)
	for o := 32; o+4 <= len(c); o += 4 {
		fp = append(fp, int32(binary.BigEndian.Uint32(c[o:])))
	}
	return digest, fp
}

// SegmentPicks returns the segments that verifier v (executor index, >= 1) of a training
// task checks, in draw order: Checks of the Segments segments drawn without replacement from
// SHA-256("genquorum/segments/v1" || rand || task || u32 v || u32 draw), where rand is the
// randomness of the block in which the trainer's reveal opened verification
// (Task.SegmentRand). The trainer committed before that block, so it cannot choose them.
func SegmentPicks(rand [32]byte, task TaskID, seg SegmentSpec, v int) []uint32 {
	left := make([]uint32, seg.Segments)
	for i := range left {
		left[i] = uint32(i)
	}
	out := make([]uint32, 0, seg.Checks)
	var msg [21 + 32 + 32 + 4 + 4]byte
	copy(msg[:], "genquorum/segments/v1")
	copy(msg[21:], rand[:])
	copy(msg[53:], task[:])
	binary.BigEndian.PutUint32(msg[85:], uint32(v))
	for draw := range seg.Checks {
		binary.BigEndian.PutUint32(msg[89:], draw)
		r := sha256.Sum256(msg[:])
		x, _ := bits.Mul64(binary.BigEndian.Uint64(r[:8]), uint64(len(left)))
		out = append(out, left[x])
		left = slices.Delete(left, int(x), int(x)+1)
	}
	return out
}

// Dispute phases.
const (
	PhaseInit    uint8 = 1 // segment 0: the challenger gives its digest of the initial state (step 0)
	PhaseOpen    uint8 = 2 // the challenger gives its digest after Hi (the segment's end)
	PhaseMid     uint8 = 3 // both sides give their digests after Query
	PhaseReferee uint8 = 4 // the referee gives its digest after Step (re-executed from the agreed state)
)

// Dispute is the bisection of one failed segment between the trainer and one challenger
// (a verifier who failed it). Steps count training steps done: the state "after step 0" is
// the initial state (base model with the method applied), which anyone computes from the
// spec. The trainer's digests at checkpoint boundaries are its revealed series; at midpoints
// both sides send Bisect transactions. The search keeps the half where the digests part; at
// one step, a referee drawn by ledger randomness re-executes it from the agreed state (the
// state after Step-1, fetched from either side and checked against Agreed; for Step 0 it
// builds the initial state) and the side whose digest differs from the referee's lied.
type Dispute struct {
	Challenger   uint32   // executor index of the verifier
	Segment      uint32   // the segment it failed (its earliest failed pick)
	Phase        uint8    // PhaseInit .. PhaseReferee
	Lo, Hi       uint32   // digests agree after Lo (Agreed), differ after Hi (once the challenger gave its)
	Agreed       [32]byte // the agreed digest after Lo
	TrainerHi    [32]byte
	ChallengerHi [32]byte
	Query        uint32 // the step asked in PhaseMid
	TrainerAt    [32]byte
	ChallengerAt [32]byte
	TrainerSent  bool
	ChallSent    bool
	Rounds       uint32   // midpoints exchanged
	Step         uint32   // the disputed step, once narrowed to one (PhaseReferee)
	Referee      PubKey   // drawn when narrowed to one step
	RefereeAt    [32]byte // the referee's digest after Step
	Deadline     uint64   // last height accepting the phase's answers
	// Result, once resolved: whether the trainer's and the challenger's digest after Step
	// differ from the referee's.
	Resolved, TrainerLied, ChallengerLied bool
}

// Bisect is a side's (or the referee's) digest of the training state after Step in the
// task's open dispute.
type Bisect struct {
	Task   TaskID
	Step   uint32
	Digest [32]byte
}

// TxBisect is the type of Bisect.
const TxBisect TxType = 10

// Type returns TxBisect.
func (*Bisect) Type() TxType { return TxBisect }

func (b *Bisect) encode(e *encoder) { e.fixed(b.Task[:]); e.u32(b.Step); e.fixed(b.Digest[:]) }
func (b *Bisect) decode(d *decoder) { b.Task = d.fixed32(); b.Step = d.u32(); b.Digest = d.fixed32() }
func (b *Bisect) validate() error   { return nil }

// Bisect returns a signed Bisect.
func (s *Signer) Bisect(task TaskID, step uint32, digest [32]byte) []byte {
	return s.Sign(&Bisect{Task: task, Step: step, Digest: digest})
}

// trainerSeries returns the trainer's revealed series.
func (t *Task) trainerSeries(i int) [32]byte {
	d, _ := SeriesCheckpoint(t.Executors[0].Fingerprint, t.Spec.Segment.Segments, i)
	return d
}

// openSegments starts the verification of a training task (or a trajectory-verified image
// task) once its trainer (generator) revealed, or its windows ended: the verifiers' picks come
// from this block's randomness. The verifiers commit their votes (VoteCommit) up to
// CheckDeadline = now + CommitWindow (the window in which they re-execute; floor
// MinCommitMillis), closing early when every verifier committed; then they reveal them
// (StatusSegmentsReveal) up to RevealWindow blocks after the close (closeVotes, as in a check
// round). It reports whether t is such a task (then settle must not run).
func (s *State) openSegments(t *Task, ev *[]Event) bool {
	if !t.Spec.oneCommitter() {
		return false
	}
	if tr := &t.Executors[0]; !tr.Revealed {
		s.finishSegments(t, settleNone, ReasonNoReveals, ev)
		return true
	}
	t.Status = StatusSegments
	t.SegmentRand = s.rand
	t.ClosedTime = s.now // the vote commitments' window floor counts from here (MinCommitMillis)
	t.CheckDeadline = s.height + s.params.CommitWindow
	t.VoteClosedAt = 0
	s.addDue(t.CheckDeadline, t.ID)
	s.touch(kindTask, t.ID)
	var verifiers []PubKey
	for j := 1; j < len(t.Executors); j++ {
		verifiers = append(verifiers, t.Executors[j].Node)
	}
	*ev = append(*ev, Event{Type: EventSegmentsOpen, Task: t.ID, Round: t.Round, RevealDeadline: t.CheckDeadline,
		Nodes: verifiers, Value: slices.Clone(t.SegmentRand[:])})
	return true
}

// failedSegment returns verifier v's earliest failed segment after segment after (-1: from
// the first), or -1 when none is left.
func (t *Task) failedSegment(v, after int) int {
	x := &t.Executors[v]
	all := uint64(1)<<t.Spec.Segment.Checks - 1
	if !x.Voted || x.Valid == all {
		return -1
	}
	k := -1
	for j, p := range SegmentPicks(t.SegmentRand, t.ID, t.Spec.Segment, v) {
		if x.Valid>>j&1 == 0 && int(p) > after && (k < 0 || int(p) < k) {
			k = int(p)
		}
	}
	return k
}

// nextDispute opens the next dispute: on verifier v's earliest failed segment after segment
// after (-1: from its first), else on the earliest failed segment of the next verifier that
// failed one; it accepts the task when none is left. Every failed segment is disputed in turn
// until the trainer is found to have lied, so a challenger's concession on one segment (honest
// drift beyond its tolerance there) cannot let a cheat pass in a later segment it also failed.
func (s *State) nextDispute(t *Task, v, after int, ev *[]Event) {
	for ; v < len(t.Executors); v, after = v+1, -1 {
		k := t.failedSegment(v, after)
		if k < 0 {
			continue
		}
		K := t.Spec.Segment.SegmentSteps
		d := &Dispute{Challenger: uint32(v), Segment: uint32(k), Lo: uint32(k) * K, Hi: uint32(k+1) * K,
			TrainerHi: t.trainerSeries(k + 1)}
		if k == 0 {
			d.Phase, d.Query, d.TrainerAt = PhaseInit, 0, t.trainerSeries(0)
		} else {
			d.Phase, d.Query, d.Agreed, d.TrainerAt = PhaseOpen, d.Hi, t.trainerSeries(k), d.TrainerHi
		}
		d.TrainerSent = true
		t.Dispute = d
		t.Status = StatusDispute
		s.disputeDeadline(t)
		*ev = append(*ev, Event{Type: EventDisputeOpen, Task: t.ID, Node: t.Executors[v].Node, Amount: uint64(k),
			RevealDeadline: d.Deadline})
		return
	}
	s.finishSegments(t, settleAccept, "", ev)
}

func (s *State) disputeDeadline(t *Task) {
	t.Dispute.Deadline = s.height + s.params.RevealWindow
	if t.Dispute.Phase == PhaseReferee {
		t.Dispute.Deadline = s.height + s.params.CommitWindow
	}
	s.addDue(t.Dispute.Deadline, t.ID)
	s.touch(kindTask, t.ID)
}

// bisect applies a Bisect transaction.
func (s *State) bisect(tx *Tx, b *Bisect, ev *[]Event) error {
	t := s.tasks[b.Task]
	if t == nil {
		return fmt.Errorf("%w: %v", ErrUnknownTask, b.Task)
	}
	if t.Status != StatusDispute || t.Dispute == nil {
		return fmt.Errorf("%w: task %v has no open dispute (status %s)", ErrDispute, t.ID, t.Status)
	}
	d := t.Dispute
	trainer, chall := t.Executors[0].Node, t.Executors[d.Challenger].Node
	ask := d.Query
	if d.Phase == PhaseReferee {
		ask = d.Step
	}
	if b.Step != ask {
		return fmt.Errorf("%w: task %v asks the digest after step %d, not %d", ErrDispute, t.ID, ask, b.Step)
	}
	switch {
	case d.Phase == PhaseReferee && tx.Signer == d.Referee:
		d.RefereeAt = b.Digest
		*ev = append(*ev, Event{Type: EventBisected, Task: t.ID, Node: tx.Signer, Amount: uint64(b.Step), Value: slices.Clone(b.Digest[:])})
		s.resolve(t, ev)
		return nil
	case d.Phase == PhaseMid && tx.Signer == trainer && !d.TrainerSent:
		d.TrainerAt, d.TrainerSent = b.Digest, true
	case d.Phase != PhaseReferee && tx.Signer == chall && !d.ChallSent:
		d.ChallengerAt, d.ChallSent = b.Digest, true
	default:
		return fmt.Errorf("%w: task %v: %v has no answer to give in phase %d", ErrDispute, t.ID, tx.Signer, d.Phase)
	}
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventBisected, Task: t.ID, Node: tx.Signer, Amount: uint64(b.Step), Value: slices.Clone(b.Digest[:])})
	if d.TrainerSent && d.ChallSent {
		s.advance(t, ev)
	}
	return nil
}

// advance moves a dispute on once both sides answered its query.
func (s *State) advance(t *Task, ev *[]Event) {
	d := t.Dispute
	same := d.TrainerAt == d.ChallengerAt
	switch d.Phase {
	case PhaseInit:
		if !same { // they differ on the initial state itself: the referee builds it
			d.Lo, d.Hi, d.TrainerHi, d.ChallengerHi = 0, 0, d.TrainerAt, d.ChallengerAt
			s.drawReferee(t, ev)
			return
		}
		d.Agreed = d.TrainerAt
		d.Phase, d.Query, d.TrainerAt, d.TrainerSent, d.ChallSent = PhaseOpen, d.Hi, d.TrainerHi, true, false
		s.disputeDeadline(t)
		*ev = append(*ev, Event{Type: EventBisectQuery, Task: t.ID, Amount: uint64(d.Query), RevealDeadline: d.Deadline})
		return
	case PhaseOpen:
		if same { // the challenger's digest under the declared profile is the trainer's: it concedes
			d.Resolved = true
			s.touch(kindTask, t.ID)
			*ev = append(*ev, Event{Type: EventDisputeResolved, Task: t.ID, Node: t.Executors[d.Challenger].Node,
				Amount: uint64(d.Hi), Reason: "challenger conceded"})
			v := int(d.Challenger)
			if t.failedSegment(v, int(d.Segment)) < 0 { // nothing left to dispute: its vote is moot
				t.Executors[v].Outcome = OutcomeUndecided
				s.nodes[t.Executors[v].Node].Record.Undecided++
				s.touch(kindNode, t.Executors[v].Node)
			}
			s.nextDispute(t, v, int(d.Segment), ev)
			return
		}
		d.ChallengerHi = d.ChallengerAt
	case PhaseMid:
		d.Rounds++
		if same {
			d.Lo, d.Agreed = d.Query, d.TrainerAt
		} else {
			d.Hi, d.TrainerHi, d.ChallengerHi = d.Query, d.TrainerAt, d.ChallengerAt
		}
	}
	if d.Hi-d.Lo <= 1 {
		s.drawReferee(t, ev)
		return
	}
	d.Phase, d.Query = PhaseMid, d.Lo+(d.Hi-d.Lo)/2
	d.TrainerSent, d.ChallSent = false, false
	s.disputeDeadline(t)
	*ev = append(*ev, Event{Type: EventBisectQuery, Task: t.ID, Amount: uint64(d.Query), RevealDeadline: d.Deadline})
}

// drawReferee picks the referee of a dispute narrowed to one step (d.Hi) among the nodes
// eligible for the task's model other than the trainer and the challenger, by stake, from
// SHA-256("genquorum/referee/v1" || block rand || task || u32 challenger).
func (s *State) drawReferee(t *Task, ev *[]Event) {
	d := t.Dispute
	d.Phase, d.Step = PhaseReferee, d.Hi
	var pool []*Node
	var total uint64
	for _, n := range s.eligible(t.Spec.Model, t.Spec.Kind, t.Submitter) {
		if n.Key != t.Executors[0].Node && n.Key != t.Executors[d.Challenger].Node {
			pool = append(pool, n)
			total += n.Stake
		}
	}
	if len(pool) == 0 {
		d.Resolved = true
		s.finishSegments(t, settleNone, "no referee eligible", ev)
		return
	}
	var msg [20 + 32 + 32 + 4]byte
	copy(msg[:], "genquorum/referee/v1")
	copy(msg[20:], s.rand[:])
	copy(msg[52:], t.ID[:])
	binary.BigEndian.PutUint32(msg[84:], d.Challenger)
	ref := pool[stakePick(pool, total, sha256.Sum256(msg[:]))]
	d.Referee = ref.Key
	ref.Open++
	ref.Record.Assigned++
	s.touch(kindNode, ref.Key)
	s.disputeDeadline(t)
	*ev = append(*ev, Event{Type: EventRefereeDrawn, Task: t.ID, Node: ref.Key, Amount: uint64(d.Step),
		Value: slices.Clone(d.Agreed[:]), RevealDeadline: d.Deadline})
}

// resolve judges a dispute by the referee's digest.
func (s *State) resolve(t *Task, ev *[]Event) {
	d := t.Dispute
	d.Resolved = true
	d.TrainerLied, d.ChallengerLied = d.RefereeAt != d.TrainerHi, d.RefereeAt != d.ChallengerHi
	ref := s.nodes[d.Referee]
	ref.Open--
	ref.Record.Agreed++
	s.touch(kindNode, ref.Key)
	s.touch(kindTask, t.ID)
	reason := fmt.Sprintf("step %d: trainer lied %t, challenger lied %t", d.Step, d.TrainerLied, d.ChallengerLied)
	*ev = append(*ev, Event{Type: EventDisputeResolved, Task: t.ID, Node: d.Referee, Amount: uint64(d.Step), Reason: reason})
	c := s.nodes[t.Executors[d.Challenger].Node]
	if d.ChallengerLied {
		t.Executors[d.Challenger].Outcome = OutcomeOutlier
		c.Record.Outliers++
		s.touch(kindNode, c.Key)
		s.slashPaying(t, c, s.params.SlashOutlierBPS, ReasonLied, ev, d.Referee)
	}
	if d.TrainerLied {
		s.finishSegments(t, settleReject, fmt.Sprintf("trainer's state after step %d is not the referee's (segment %d)", d.Step, d.Segment), ev)
		return
	}
	s.nextDispute(t, int(d.Challenger)+1, -1, ev) // a challenger that lied is not heard again
}

// disputeTimeout ends a dispute phase whose deadline passed: a side that owed an answer
// loses; a silent referee ends the task without verdict. The silent node is treated as a
// missed reveal (silent): slashed SlashNoRevealBPS at once without jailing, else deferred
// until it shows life and waived if it is jailed for the silence, so that a node killed
// during a dispute is not slashed once per task on top of its jailing.
func (s *State) disputeTimeout(t *Task, ev *[]Event) {
	d := t.Dispute
	d.Resolved = true
	s.touch(kindTask, t.ID)
	cx := &t.Executors[d.Challenger]
	c := s.nodes[cx.Node]
	if d.Phase == PhaseReferee {
		ref := s.nodes[d.Referee]
		ref.Open--
		ref.Record.NoReveal++
		s.touch(kindNode, ref.Key)
		s.silent(t, ref, ReasonNoAnswer, ev)
		s.finishSegments(t, settleNone, "referee did not answer", ev)
		return
	}
	if !d.ChallSent {
		cx.Outcome = OutcomeNoVote
		c.Record.NoReveal++
		s.touch(kindNode, c.Key)
		s.silent(t, c, ReasonNoAnswer, ev)
	}
	if !d.TrainerSent {
		tx := &t.Executors[0]
		tx.Outcome = OutcomeNoReveal
		s.nodes[tx.Node].Record.NoReveal++
		s.touch(kindNode, tx.Node)
		s.silent(t, s.nodes[tx.Node], ReasonNoAnswer, ev)
		s.finishSegments(t, settleReject, fmt.Sprintf("trainer did not answer the digest after step %d", d.Query), ev)
		return
	}
	s.nextDispute(t, int(d.Challenger)+1, -1, ev) // a silent challenger forfeits its other segments
}

// How finishSegments settles a training task.
const (
	settleAccept = iota // the trainer's series stands
	settleReject        // the trainer lost a dispute (or did not answer in one)
	settleNone          // nobody can tell: trainer not revealed, no referee, silent referee
)

// finishSegments settles a training task: accepted (the trainer and the verifiers who voted
// are paid equal shares of the fee; a challenger who lied was slashed already and is not
// paid) or not (fee refunded; a trainer who revealed and lost is slashed SlashOutlierBPS, one
// who did not commit or reveal as in settle). Verifiers who did not vote lose
// SlashNoRevealBPS.
func (s *State) finishSegments(t *Task, how int, reason string, ev *[]Event) {
	accepted := how == settleAccept
	var agreed []PubKey
	var slashes []Event
	for j := range t.Executors {
		x := &t.Executors[j]
		nd := s.nodes[x.Node]
		switch {
		case x.Outcome != OutcomePending: // decided in a dispute
		case j == 0 && !x.Committed:
			x.Outcome = OutcomeNoCommit
			nd.Record.NoCommit++
			s.missed(t, nd, &slashes)
		case j == 0 && !x.Revealed:
			x.Outcome = OutcomeNoReveal
			nd.Record.NoReveal++
			s.noReveal(t, nd, &slashes)
		case j == 0 && accepted:
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		case j == 0 && how == settleNone:
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		case j == 0 && t.Dispute != nil && t.Dispute.TrainerLied: // the referee found it lied
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.slashPaying(t, nd, s.params.SlashOutlierBPS, ReasonLied, &slashes, t.Executors[t.Dispute.Challenger].Node, t.Dispute.Referee)
		case j == 0:
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.slash(t, nd, s.params.SlashOutlierBPS, ReasonLied, &slashes)
		case t.Status == StatusCommit || t.Status == StatusReveal: // the trainer never revealed
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		case !x.Voted:
			x.Outcome = OutcomeNoVote
			nd.Record.NoReveal++
			s.noVote(t, nd, &slashes)
		case accepted:
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		case t.Dispute != nil && uint32(j) == t.Dispute.Challenger && t.Dispute.TrainerLied:
			x.Outcome = OutcomeAgreed // it caught the trainer
			nd.Record.Agreed++
		default:
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		}
		if j == 0 {
			s.worked(nd, x.Revealed)
		}
		nd.Open--
		s.touch(kindNode, nd.Key)
	}
	t.Support, t.Need = uint32(len(agreed)), 1
	s.touch(kindTask, t.ID)
	if !accepted {
		*ev = append(*ev, Event{Type: EventNoVerdict, Task: t.ID, Round: t.Round, Support: t.Support, Need: t.Need, Reason: reason})
		*ev = append(*ev, slashes...)
		t.Status, t.SettledAt, t.Reason = StatusNoVerdict, s.height, reason
		s.settled(t)
		s.refund(t, t.Spec.Fee, ev)
		return
	}
	t.Status, t.SettledAt, t.Value = StatusAccepted, s.height, slices.Clone(t.Executors[0].Fingerprint)
	s.settled(t)
	*ev = append(*ev, Event{Type: EventVerdict, Task: t.ID, Round: t.Round, Value: slices.Clone(t.Value),
		Support: t.Support, Need: t.Need, Nodes: agreed})
	*ev = append(*ev, slashes...)
	s.payShares(t, agreed, ev)
}

func encodeDispute(e *encoder, d *Dispute) {
	e.boolean(d != nil)
	if d == nil {
		return
	}
	e.u32(d.Challenger)
	e.u32(d.Segment)
	e.u8(d.Phase)
	e.u32(d.Lo)
	e.u32(d.Hi)
	e.fixed(d.Agreed[:])
	e.fixed(d.TrainerHi[:])
	e.fixed(d.ChallengerHi[:])
	e.u32(d.Query)
	e.fixed(d.TrainerAt[:])
	e.fixed(d.ChallengerAt[:])
	e.boolean(d.TrainerSent)
	e.boolean(d.ChallSent)
	e.u32(d.Rounds)
	e.u32(d.Step)
	e.fixed(d.Referee[:])
	e.fixed(d.RefereeAt[:])
	e.u64(d.Deadline)
	e.boolean(d.Resolved)
	e.boolean(d.TrainerLied)
	e.boolean(d.ChallengerLied)
}

func decodeDispute(dc *decoder) *Dispute {
	if !dc.boolean("dispute") {
		return nil
	}
	d := &Dispute{}
	d.Challenger = dc.u32()
	d.Segment = dc.u32()
	d.Phase = dc.u8()
	d.Lo = dc.u32()
	d.Hi = dc.u32()
	d.Agreed = dc.fixed32()
	d.TrainerHi = dc.fixed32()
	d.ChallengerHi = dc.fixed32()
	d.Query = dc.u32()
	d.TrainerAt = dc.fixed32()
	d.ChallengerAt = dc.fixed32()
	d.TrainerSent = dc.boolean("trainer sent")
	d.ChallSent = dc.boolean("challenger sent")
	d.Rounds = dc.u32()
	d.Step = dc.u32()
	d.Referee = dc.fixed32()
	d.RefereeAt = dc.fixed32()
	d.Deadline = dc.u64()
	d.Resolved = dc.boolean("resolved")
	d.TrainerLied = dc.boolean("trainer lied")
	d.ChallengerLied = dc.boolean("challenger lied")
	return d
}

// slashPaying slashes nd as slash does and pays half of the stake taken, in equal shares
// (rounded down), to payees as rewards (EventReward, Record.Earned); the rest is burned. A
// dispute's referee is paid this way from the side that lied, and a challenger that caught a
// lying trainer shares the trainer's: the work of catching a liar is paid by the liar, while
// the burned half keeps framing an honest side a loss even for colluders that win a dispute.
func (s *State) slashPaying(t *Task, nd *Node, bps uint32, reason string, ev *[]Event, payees ...PubKey) {
	taken := s.slash(t, nd, bps, reason, ev)
	if len(payees) == 0 {
		return
	}
	share := taken / 2 / uint64(len(payees))
	if share == 0 {
		return
	}
	for _, k := range payees {
		s.burned -= share
		s.account(k).Balance += share
		if p := s.nodes[k]; p != nil {
			p.Record.Earned += share
			s.touch(kindNode, k)
		}
		*ev = append(*ev, Event{Type: EventReward, Task: t.ID, Node: k, Amount: share})
	}
}
