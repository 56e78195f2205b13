package ledger

import (
	"bytes"
	"fmt"
	"slices"
)

// Trajectory verification of image tasks (issue 14, item 5).
//
// A task with Verify == VerifyTrajectory has one executor (executor 0, the generator) and
// Replicas-1 verifiers. The generator commits to and reveals, after its image fingerprint, the
// SHA-256 digests of the sampler's state at Segment.Segments+1 evenly spaced steps of the
// sampling (TrajectoryBytes); it serves the states over p2p by digest. Its reveal opens
// verification (StatusSegments) and fixes Task.SegmentRand, the randomness of the block that
// closed the reveals, which the generator could not know when it committed; TrajectoryPicks
// draws from it the Segment.Checks segments that every verifier re-runs. A verifier votes, bit j
// set when the j-th pick passed, bit Checks set when the ends passed (the first digest is the
// seed's noise and the image fingerprint is that of the rounding of the last state): it commits
// the vote first (VoteCommit) and reveals it (Vote) once every verifier committed or the
// commitments' window ended, as the voters of a check round do (scorecheck.go), so a verifier
// that skips its checks cannot copy a vote already in a block. Tolerances are judged by the
// verifiers off the ledger; the ledger counts votes. When every committed vote is revealed (or
// the reveal window ended), a pick or the ends that a strict majority of
// the verifiers (of all drawn, not only of those who voted) voted failed rejects the
// trajectory: the generator is slashed SlashOutlierBPS, half of it paid to the verifiers who
// voted the failure, the fee refunded, and the task's Reason names what failed
// (ReasonTrajectorySegment or ReasonTrajectoryEnds). Otherwise the task is accepted with the
// image fingerprint as its value (the whole UnrunnableFingerprint, reason ReasonUnrunnable,
// when the generator revealed that and the verifiers, who cannot run the task either, passed
// it), and the generator and the verifiers who voted share the fee.
// Verifiers who did not reveal a vote (committed or not) are treated as missed reveals (noVote).

// VerifyTrajectory is the verification mode of image tasks with trajectory verification.
const VerifyTrajectory uint8 = 3

// MaxTrajectorySegments bounds the segments of a trajectory (the revealed digests).
const MaxTrajectorySegments = 64

// Reasons of a rejected trajectory (the task's Reason starts with one of them).
const (
	ReasonTrajectorySegment = "trajectory segment failed"
	ReasonTrajectoryEnds    = "trajectory ends failed"
)

// TrajectoryDigestsLen returns the bytes of the digests of a trajectory of segments segments.
func TrajectoryDigestsLen(segments uint32) uint32 { return 32 * (segments + 1) }

// TrajectoryBytes returns what a generator reveals: the image fingerprint, then each state's
// digest in step order.
func TrajectoryBytes(image []byte, digests [][32]byte) []byte {
	b := slices.Clone(image)
	for _, d := range digests {
		b = append(b, d[:]...)
	}
	return b
}

// SplitTrajectory splits a revealed trajectory of a task with the given number of segments
// into the image fingerprint and the states' digests. It returns ok false when fp is too short
// to hold them.
func SplitTrajectory(fp []byte, segments uint32) (image []byte, digests [][32]byte, ok bool) {
	n := int(TrajectoryDigestsLen(segments))
	if segments > MaxTrajectorySegments || len(fp) <= n {
		return nil, nil, false
	}
	image = fp[:len(fp)-n]
	for o := len(fp) - n; o < len(fp); o += 32 {
		digests = append(digests, [32]byte(fp[o:o+32]))
	}
	return image, digests, true
}

// TrajectoryPicks returns the segments that every verifier of a trajectory-verified task
// re-runs, in draw order: SegmentPicks with verifier index 0 (one draw per task, so that the
// verifiers' votes on pick j concern the same segment).
func TrajectoryPicks(rand [32]byte, task TaskID, seg SegmentSpec) []uint32 {
	return SegmentPicks(rand, task, seg, 0)
}

// validateTrajectory is SubmitTask.validate for Verify == VerifyTrajectory.
func (s *SegmentSpec) validateTrajectory(b *SubmitTask) error {
	switch {
	case s.Segments == 0 || s.Segments > MaxTrajectorySegments || s.SegmentSteps != 0:
		return fmt.Errorf("%w: trajectory of %d segments (1..%d), segment steps %d (want 0)", ErrMalformedTx,
			s.Segments, MaxTrajectorySegments, s.SegmentSteps)
	case s.Checks == 0 || s.Checks > s.Segments || s.Checks >= 64: // Checks+1 vote bits
		return fmt.Errorf("%w: %d checks of %d segments", ErrMalformedTx, s.Checks, s.Segments)
	case b.Replicas < 2:
		return fmt.Errorf("%w: a trajectory-verified task needs a generator and at least one verifier", ErrMalformedTx)
	case b.MaxReplicas != 0 || b.Tolerance != 0:
		return fmt.Errorf("%w: trajectory-verified tasks have no adaptive round and no Hamming tolerance", ErrMalformedTx)
	case b.FingerprintLen <= TrajectoryDigestsLen(s.Segments):
		return fmt.Errorf("%w: fingerprint of %d bytes holds no image fingerprint before %d digests", ErrMalformedTx,
			b.FingerprintLen, s.Segments+1)
	}
	return nil
}

// oneCommitter reports whether only executor 0 of the task commits (training and
// trajectory-verified tasks: the others vote).
func (sp *SubmitTask) oneCommitter() bool {
	return sp.Verify == VerifySegments || sp.Verify == VerifyTrajectory
}

// trajectoryFailure returns the vote bit that a strict majority of t's verifiers voted
// failed: the ends (bit Checks) first, then the picks in draw order; -1 when none did.
func (t *Task) trajectoryFailure() (bit, fails int) {
	m := len(t.Executors) - 1
	checks := int(t.Spec.Segment.Checks)
	for k := 0; k <= checks; k++ {
		j := (k + checks) % (checks + 1) // checks (the ends), then 0 .. checks-1
		f := 0
		for v := 1; v <= m; v++ {
			if x := &t.Executors[v]; x.Voted && x.Valid>>j&1 == 0 {
				f++
			}
		}
		if 2*f > m {
			return j, f
		}
	}
	return -1, 0
}

// finishTrajectory settles a trajectory-verified task once every committed vote is revealed
// or the vote windows ended (see the comment at the top of this file).
func (s *State) finishTrajectory(t *Task, ev *[]Event) {
	bit, fails := t.trajectoryFailure()
	if bit < 0 {
		s.acceptTrajectory(t, ev)
		return
	}
	m := len(t.Executors) - 1
	var reason string
	if bit == int(t.Spec.Segment.Checks) {
		reason = fmt.Sprintf("%s: %d of %d verifiers", ReasonTrajectoryEnds, fails, m)
	} else {
		seg := TrajectoryPicks(t.SegmentRand, t.ID, t.Spec.Segment)[bit]
		reason = fmt.Sprintf("%s: segment %d of %d, %d of %d verifiers", ReasonTrajectorySegment, seg,
			t.Spec.Segment.Segments, fails, m)
	}
	var slashes []Event
	var catchers []PubKey
	for j := range t.Executors {
		x := &t.Executors[j]
		nd := s.nodes[x.Node]
		switch {
		case j == 0:
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.worked(nd, true)
		case !x.Voted:
			x.Outcome = OutcomeNoVote
			nd.Record.NoReveal++
			s.noVote(t, nd, &slashes)
		case x.Valid>>bit&1 == 0: // it voted the failure
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			catchers = append(catchers, x.Node)
		default: // it passed what the majority failed: honest drift at the tolerance's edge or not
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		}
		nd.Open--
		s.touch(kindNode, nd.Key)
	}
	t.Support, t.Need = 0, 1
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventNoVerdict, Task: t.ID, Round: t.Round, Support: t.Support, Need: t.Need, Reason: reason})
	*ev = append(*ev, slashes...)
	s.slashPaying(t, s.nodes[t.Executors[0].Node], s.params.SlashOutlierBPS, reason, ev, catchers...)
	t.Status, t.SettledAt, t.Reason = StatusNoVerdict, s.height, reason
	s.settled(t)
	s.refund(t, t.Spec.Fee, ev)
}

// acceptTrajectory settles a trajectory-verified task whose trajectory no majority failed:
// the value is the image fingerprint; the generator and the verifiers who voted share the fee.
func (s *State) acceptTrajectory(t *Task, ev *[]Event) {
	var agreed []PubKey
	var slashes []Event
	for j := range t.Executors {
		x := &t.Executors[j]
		nd := s.nodes[x.Node]
		switch {
		case j == 0 || x.Voted:
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		default:
			x.Outcome = OutcomeNoVote
			nd.Record.NoReveal++
			s.noVote(t, nd, &slashes)
		}
		if j == 0 {
			s.worked(nd, true)
		}
		nd.Open--
		s.touch(kindNode, nd.Key)
	}
	value, _, _ := SplitTrajectory(t.Executors[0].Fingerprint, t.Spec.Segment.Segments)
	if full := t.Executors[0].Fingerprint; bytes.Equal(full, UnrunnableFingerprint(t.ID, t.Spec.FingerprintLen)) {
		value, t.Reason = full, ReasonUnrunnable // the verifiers found it unrunnable too
	}
	t.Support, t.Need = uint32(len(agreed)), 1
	t.Status, t.SettledAt, t.Value = StatusAccepted, s.height, slices.Clone(value)
	s.settled(t)
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventVerdict, Task: t.ID, Round: t.Round, Value: slices.Clone(t.Value),
		Support: t.Support, Need: t.Need, Nodes: agreed})
	*ev = append(*ev, slashes...)
	s.payShares(t, agreed, ev)
}
