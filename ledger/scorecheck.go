package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

// Verification modes of a task (SubmitTask.Verify).
const (
	// VerifyEqual settles on the revealed fingerprints alone (quorum.Decide).
	VerifyEqual uint8 = 0
	// VerifyScore (text tasks) keeps exact equality as the fast path; when the revealed
	// sequences differ, it opens a check round in which the executors who revealed vote on
	// which candidate sequences are valid continuations under the task's model.
	VerifyScore uint8 = 1
)

// MaxCandidates bounds the distinct fingerprints of a check round (one bit each in a Vote).
const MaxCandidates = 64

// VoteCommit binds an executor of a check round, or a verifier of a training or
// trajectory-verified task, to its vote without showing it: Commitment =
// VoteCommitmentFor(Task, signer, valid, unsure, salt). Votes are committed before any is
// revealed, so a voter that skips its checks cannot copy the others' votes.
type VoteCommit struct {
	Task       TaskID
	Commitment [32]byte
}

// Type returns TxVoteCommit.
func (*VoteCommit) Type() TxType { return TxVoteCommit }

func (b *VoteCommit) encode(e *encoder) { e.fixed(b.Task[:]); e.fixed(b.Commitment[:]) }
func (b *VoteCommit) decode(d *decoder) { b.Task = d.fixed32(); b.Commitment = d.fixed32() }
func (b *VoteCommit) validate() error   { return nil }

// Vote reveals an executor's judgement in a check round, opening its VoteCommit: bit k of
// Valid is set when candidate k (Candidates of the task, in order) passed its teacher-forced
// check on the voter's own hardware, bit k of Unsure when the check landed in the band next
// to the tolerance where honest hardware may disagree (an abstention on candidate k). A bit
// set in neither is a vote that candidate k is invalid. Valid and Unsure are disjoint. A
// verifier of a training task reveals bit j of Valid set when its j-th pick (SegmentPicks)
// passed, of a trajectory-verified task when the j-th pick (TrajectoryPicks) passed, bit
// Checks when the ends did; Unsure is 0 for both.
type Vote struct {
	Task   TaskID
	Valid  uint64
	Unsure uint64
	Salt   [32]byte
}

// Type returns TxVote.
func (*Vote) Type() TxType { return TxVote }

func (b *Vote) encode(e *encoder) {
	e.fixed(b.Task[:])
	e.u64(b.Valid)
	e.u64(b.Unsure)
	e.fixed(b.Salt[:])
}
func (b *Vote) decode(d *decoder) {
	b.Task = d.fixed32()
	b.Valid = d.u64()
	b.Unsure = d.u64()
	b.Salt = d.fixed32()
}
func (b *Vote) validate() error {
	if b.Valid&b.Unsure != 0 {
		return fmt.Errorf("%w: vote marks candidates %#x both valid and unsure", ErrMalformedTx, b.Valid&b.Unsure)
	}
	return nil
}

// VoteCommitmentFor returns the commitment of node to a vote in task's check round (or as a
// verifier of a training or trajectory-verified task: bit j of valid is the verdict on its j-th
// pick, which the ledger fixed from the task and the verifier's index before any commitment):
// SHA-256("genquorum/vote/v1" || task || node || u64 valid || u64 unsure || salt). As for
// fingerprints, the node's key is inside (a copied commitment cannot be opened by the copier)
// and the salt must be secret and random until the reveal (a vote has few possible values).
func VoteCommitmentFor(task TaskID, node PubKey, valid, unsure uint64, salt [32]byte) [32]byte {
	var m [17 + 32 + 32 + 8 + 8 + 32]byte
	copy(m[:], "genquorum/vote/v1")
	copy(m[17:], task[:])
	copy(m[49:], node[:])
	binary.BigEndian.PutUint64(m[81:], valid)
	binary.BigEndian.PutUint64(m[89:], unsure)
	copy(m[97:], salt[:])
	return sha256.Sum256(m[:])
}

// VoteCommit returns a signed VoteCommit of the vote (valid, unsure) under salt.
func (s *Signer) VoteCommit(task TaskID, valid, unsure uint64, salt [32]byte) []byte {
	return s.Sign(&VoteCommit{Task: task, Commitment: VoteCommitmentFor(task, s.Key(), valid, unsure, salt)})
}

// VoteReveal returns a signed Vote revealing (valid, unsure) under salt: it opens the
// VoteCommit of a check round, or of a training or trajectory-verified task's verifier.
func (s *Signer) VoteReveal(task TaskID, valid, unsure uint64, salt [32]byte) []byte {
	return s.Sign(&Vote{Task: task, Valid: valid, Unsure: unsure, Salt: salt})
}

// Candidates returns the distinct fingerprints revealed in the task's current round, in the
// order of their first revealer among the executors, and for each the index of that first
// revealer (whose artifact digest names the candidate's artifact). Bit k of a Vote refers to
// candidate k.
func Candidates(t *Task) (fps [][]byte, first []int) {
	for j := range t.Executors {
		x := &t.Executors[j]
		if !x.Revealed || slices.ContainsFunc(fps, func(f []byte) bool { return bytes.Equal(f, x.Fingerprint) }) {
			continue
		}
		fps = append(fps, x.Fingerprint)
		first = append(first, j)
	}
	return fps, first
}

// openCheck starts the check round of a score-verified task whose revealed fingerprints
// differ (the fast path, all equal, settles by quorum.Decide as usual). It reports whether it
// did. More than MaxCandidates distinct fingerprints cannot happen (replicas <= 255 but a
// round with more distinct values than that has no majority anyway): settle then decides as
// usual. The round has two windows, like the outputs: vote commitments up to CheckDeadline =
// now + RevealWindow (closing early when every revealer committed), then vote reveals up to
// CheckDeadline = (height the commitments closed) + RevealWindow. Each has the outputs' wall-
// time floor: the vote commitments (which need the voters' scoring passes) stay open at least
// MinCommitMillis of block time, the vote reveals MinRevealMillis.
func (s *State) openCheck(t *Task, ev *[]Event) bool {
	if t.Spec.Verify != VerifyScore || t.Status != StatusReveal {
		return false
	}
	fps, _ := Candidates(t)
	if len(fps) < 2 || len(fps) > MaxCandidates {
		return false
	}
	t.Status = StatusCheck
	t.CheckDeadline = s.height + max(1, s.params.RevealWindow)
	t.ClosedTime = s.now // the vote commitments' window floor counts from here (MinCommitMillis)
	t.VoteClosedAt = 0
	s.addDue(t.CheckDeadline, t.ID)
	s.touch(kindTask, t.ID)
	var voters []PubKey
	for j := range t.Executors {
		if t.Executors[j].Revealed {
			voters = append(voters, t.Executors[j].Node)
		}
	}
	*ev = append(*ev, Event{Type: EventCheckOpen, Task: t.ID, Round: t.Round, RevealDeadline: t.CheckDeadline, Nodes: voters})
	return true
}

// votes reports whether executors of the task commit and reveal votes: a score-verified
// task's revealers in its check round, a training or trajectory-verified task's verifiers.
func (sp *SubmitTask) votes() bool { return sp.Verify == VerifyScore || sp.oneCommitter() }

// voter reports whether executor j of t votes: in a check round an executor who revealed, in a
// training or trajectory-verified task a verifier (executor 0 trains or generates).
func (t *Task) voter(j int) bool {
	if t.Spec.oneCommitter() {
		return j >= 1
	}
	return t.Executors[j].Revealed
}

// voteStatuses returns the statuses in which t accepts vote commitments and vote reveals.
func (t *Task) voteStatuses() (commit, reveal TaskStatus) {
	if t.Spec.oneCommitter() {
		return StatusSegments, StatusSegmentsReveal
	}
	return StatusCheck, StatusCheckReveal
}

// voteFits checks a revealed vote's bits against what t's voters judge: the candidates of a
// check round (Valid and Unsure), the picks of a training task's verifier, the picks and the
// ends of a trajectory (Valid only).
func (t *Task) voteFits(b *Vote) error {
	switch t.Spec.Verify {
	case VerifySegments:
		if b.Valid>>t.Spec.Segment.Checks != 0 || b.Unsure != 0 {
			return fmt.Errorf("%w: task %v: vote %#x/%#x names picks beyond the %d", ErrCheck, t.ID, b.Valid, b.Unsure, t.Spec.Segment.Checks)
		}
	case VerifyTrajectory:
		if b.Valid>>(t.Spec.Segment.Checks+1) != 0 || b.Unsure != 0 {
			return fmt.Errorf("%w: task %v: vote %#x/%#x names more than %d picks and the ends", ErrCheck, t.ID, b.Valid,
				b.Unsure, t.Spec.Segment.Checks)
		}
	default:
		if fps, _ := Candidates(t); (b.Valid|b.Unsure)>>len(fps) != 0 {
			return fmt.Errorf("%w: task %v: vote %#x/%#x names candidates beyond the %d", ErrCheck, t.ID, b.Valid, b.Unsure, len(fps))
		}
	}
	return nil
}

// voteCommit applies a VoteCommit: of a revealer in a check round (StatusCheck), of a
// verifier of a training or trajectory-verified task (StatusSegments). The commitments close
// early, in the block of the last voter's.
func (s *State) voteCommit(tx *Tx, b *VoteCommit, ev *[]Event) error {
	t, i, err := s.openTask(b.Task, tx.Signer)
	if err != nil {
		return err
	}
	x := &t.Executors[i]
	commit, _ := t.voteStatuses()
	switch {
	case t.Status != commit:
		return fmt.Errorf("%w: task %v is in status %s, not %s (vote commitments)", ErrCheck, t.ID, t.Status, commit)
	case !t.voter(i) && t.Spec.oneCommitter():
		return fmt.Errorf("%w: task %v: executor 0 (trainer or generator) does not vote", ErrCheck, t.ID)
	case !t.voter(i):
		return fmt.Errorf("%w: task %v: only executors who revealed vote", ErrCheck, t.ID)
	case x.VoteCommitted:
		return fmt.Errorf("%w: task %v: vote already committed", ErrCheck, t.ID)
	}
	x.VoteCommitted, x.VoteCommitment = true, b.Commitment
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventVoteCommitted, Task: t.ID, Round: t.Round, Node: tx.Signer})
	for j := range t.Executors {
		if t.voter(j) && !t.Executors[j].VoteCommitted {
			return nil
		}
	}
	s.closeVotes(t, ev) // every voter committed its vote
	return nil
}

// closeVotes ends the vote commitments at the current height and opens the vote reveals
// (StatusCheckReveal or StatusSegmentsReveal) from the next block up to CheckDeadline =
// now + RevealWindow.
func (s *State) closeVotes(t *Task, ev *[]Event) {
	_, t.Status = t.voteStatuses()
	t.VoteClosedAt = s.height
	t.CheckDeadline = s.height + max(1, s.params.RevealWindow)
	t.ClosedTime = s.now // the vote reveals' window floor counts from here (MinRevealMillis)
	s.addDue(t.CheckDeadline, t.ID)
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventVoteRevealOpen, Task: t.ID, Round: t.Round, RevealDeadline: t.CheckDeadline})
}

// vote applies a Vote: it must open the signer's VoteCommit, in the vote reveals (from the
// block after the commitments closed). When every committed vote is revealed, the votes are
// counted at once (endVotes).
func (s *State) vote(tx *Tx, b *Vote, ev *[]Event) error {
	t, i, err := s.openTask(b.Task, tx.Signer)
	if err != nil {
		return err
	}
	x := &t.Executors[i]
	_, reveal := t.voteStatuses()
	switch {
	case t.Status != reveal:
		return fmt.Errorf("%w: task %v is in status %s, not %s", ErrCheck, t.ID, t.Status, reveal)
	case t.VoteClosedAt == s.height:
		return fmt.Errorf("%w: task %v: vote commitments closed in this block, reveal votes from height %d", ErrCheck, t.ID, s.height+1)
	case !x.VoteCommitted:
		return fmt.Errorf("%w: task %v: no vote commitment to open", ErrCheck, t.ID)
	case x.Voted:
		return fmt.Errorf("%w: task %v: already voted", ErrCheck, t.ID)
	}
	if err := t.voteFits(b); err != nil {
		return err
	}
	if VoteCommitmentFor(t.ID, tx.Signer, b.Valid, b.Unsure, b.Salt) != x.VoteCommitment {
		return fmt.Errorf("%w: task %v: vote does not open its commitment", ErrCheck, t.ID)
	}
	x.Voted, x.Valid, x.Unsure = true, b.Valid, b.Unsure
	s.touch(kindTask, t.ID)
	e := Event{Type: EventVoted, Task: t.ID, Round: t.Round, Node: tx.Signer, Amount: b.Valid}
	if t.Spec.Verify == VerifyScore {
		e.Value = binary.BigEndian.AppendUint64(nil, b.Unsure)
	}
	*ev = append(*ev, e)
	for j := range t.Executors {
		if y := &t.Executors[j]; y.VoteCommitted && !y.Voted {
			return nil
		}
	}
	s.endVotes(t, ev) // every committed vote is revealed
	return nil
}

// endVotes counts the revealed votes: a check round settles (settleCheck), a training task's
// failed segments go to disputes (nextDispute), a trajectory is judged (finishTrajectory).
// Voters that committed no vote, or did not reveal it, count as not voting.
func (s *State) endVotes(t *Task, ev *[]Event) {
	switch t.Spec.Verify {
	case VerifySegments:
		s.nextDispute(t, 1, -1, ev)
	case VerifyTrajectory:
		s.finishTrajectory(t, ev)
	default:
		s.settleCheck(t, ev)
	}
}

// endCheck runs at CheckDeadline: the vote commitments close (or, if nobody committed a vote,
// the votes are counted at once: none), or the vote reveals end and the votes are counted.
func (s *State) endCheck(t *Task, ev *[]Event) {
	if commit, _ := t.voteStatuses(); t.Status == commit {
		for j := range t.Executors {
			if t.Executors[j].VoteCommitted {
				s.closeVotes(t, ev)
				return
			}
		}
	}
	s.endVotes(t, ev)
}

// CheckTally is how the revealed votes of a check round determined each candidate. Valid[k]
// counts votes that candidate k is valid, Invalid[k] votes that it is not (neither its Valid
// nor its Unsure bit set); abstentions count in neither. A candidate is determined valid with
// at least Need votes for it, invalid with at least Need against it (both cannot happen:
// Need is more than half the revealers), undetermined otherwise.
type CheckTally struct {
	Valid, Invalid []int
	Need           int
}

// Determined returns +1 when candidate k is determined valid, -1 when invalid, 0 otherwise.
func (c CheckTally) Determined(k int) int {
	switch {
	case k < 0 || k >= len(c.Valid):
		return 0
	case c.Valid[k] >= c.Need:
		return 1
	case c.Invalid[k] >= c.Need:
		return -1
	}
	return 0
}

// Contrary reports whether a revealed vote contradicts a determined candidate: it marked
// valid a candidate determined invalid, or invalid (neither bit) a candidate determined
// valid. Abstained reports whether it abstained (Unsure) on a determined candidate.
func (c CheckTally) Contrary(valid, unsure uint64) (contrary, abstained bool) {
	for k := range c.Valid {
		v, u := valid>>k&1 == 1, unsure>>k&1 == 1
		switch d := c.Determined(k); {
		case d != 0 && u:
			abstained = true
		case d > 0 && !v, d < 0 && v:
			contrary = true
		}
	}
	return contrary, abstained
}

// Tally counts the revealed votes of t's check round (see CheckTally).
func Tally(t *Task) CheckTally {
	fps, _ := Candidates(t)
	c := CheckTally{Valid: make([]int, len(fps)), Invalid: make([]int, len(fps))}
	revealers := 0
	for j := range t.Executors {
		x := &t.Executors[j]
		if !x.Revealed {
			continue
		}
		revealers++
		if !x.Voted {
			continue
		}
		for k := range fps {
			switch {
			case x.Valid>>k&1 == 1:
				c.Valid[k]++
			case x.Unsure>>k&1 == 0:
				c.Invalid[k]++
			}
		}
	}
	c.Need = int(ruleNeed(t.Spec.Rule, revealers))
	return c
}

// settleCheck decides a check round (see the package doc, step 7). With the Tally of the
// revealed votes, each executor is, in this order: no-commit, copied or no-reveal as in
// settle; no-vote when it did not commit or did not reveal its vote (SlashNoRevealBPS); an
// outlier when its candidate is determined invalid (SlashOutlierBPS); contrary when its vote
// contradicts a determined candidate (SlashOutlierBPS, not paid: it judged wrong, or did not
// judge); abstained when it voted unsure on a determined candidate (not paid, not slashed);
// agreed when its candidate is determined valid (paid); undecided otherwise. The support of the
// verdict is the number of voters whose own candidate is determined valid (contrary and
// abstained voters included: their output is valid), and the verdict needs
// need(rule, executors) of them, as the fast path does; its value is the valid candidate
// revealed by the most executors (ties: the first). The fee is split among the agreed
// executors; what is left (the remainder, or all of it when nobody is paid) goes back to the
// submitter. Without a verdict the fee is refunded (no adaptive round after a check round).
func (s *State) settleCheck(t *Task, ev *[]Event) {
	fps, _ := Candidates(t)
	tally := Tally(t)
	cand := func(fp []byte) int {
		return slices.IndexFunc(fps, func(f []byte) bool { return bytes.Equal(f, fp) })
	}
	support, best, bestN := 0, -1, 0
	count := make([]int, len(fps))
	for j := range t.Executors {
		x := &t.Executors[j]
		if k := cand(x.Fingerprint); x.Revealed && x.Voted && tally.Determined(k) > 0 {
			support++
			count[k]++
			if count[k] > bestN || (count[k] == bestN && k < best) {
				best, bestN = k, count[k]
			}
		}
	}
	need := int(ruleNeed(t.Spec.Rule, len(t.Executors)))
	accepted := support >= need
	var agreed []PubKey
	var slashes []Event
	for j := range t.Executors {
		x := &t.Executors[j]
		nd := s.nodes[x.Node]
		contrary, abstained := tally.Contrary(x.Valid, x.Unsure)
		switch {
		case !x.Committed:
			x.Outcome = OutcomeNoCommit
			nd.Record.NoCommit++
			s.missed(t, nd, &slashes)
		case !x.Revealed && x.Duplicate:
			x.Outcome = OutcomeCopied
			nd.Record.Copied++
			s.slash(t, nd, s.params.SlashCopyBPS, ReasonCopied, &slashes)
		case !x.Revealed:
			x.Outcome = OutcomeNoReveal
			nd.Record.NoReveal++
			s.noReveal(t, nd, &slashes)
		case !x.Voted:
			x.Outcome = OutcomeNoVote
			nd.Record.NoReveal++
			s.noVote(t, nd, &slashes)
		case tally.Determined(cand(x.Fingerprint)) < 0:
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.slash(t, nd, s.params.SlashOutlierBPS, ReasonOutlier, &slashes)
		case contrary:
			x.Outcome = OutcomeContrary
			nd.Record.Outliers++
			s.slash(t, nd, s.params.SlashOutlierBPS, ReasonContrary, &slashes)
		case abstained:
			x.Outcome = OutcomeAbstained
			nd.Record.Undecided++
		case accepted && tally.Determined(cand(x.Fingerprint)) > 0:
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		default:
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		}
		s.worked(nd, x.Revealed)
		nd.Open--
		s.touch(kindNode, nd.Key)
	}
	t.Support, t.Need = uint32(support), uint32(need)
	s.touch(kindTask, t.ID)
	if !accepted {
		reason := ReasonNoQuorum
		if best < 0 {
			reason = ReasonNoValid
		}
		*ev = append(*ev, Event{Type: EventNoVerdict, Task: t.ID, Round: t.Round, Support: t.Support, Need: t.Need, Reason: reason})
		*ev = append(*ev, slashes...)
		t.Status, t.SettledAt, t.Reason = StatusNoVerdict, s.height, reason
		s.settled(t)
		s.refund(t, t.Spec.Fee, ev)
		return
	}
	t.Status, t.SettledAt, t.Value = StatusAccepted, s.height, slices.Clone(fps[best])
	s.settled(t)
	*ev = append(*ev, Event{Type: EventVerdict, Task: t.ID, Round: t.Round, Value: slices.Clone(t.Value),
		Support: t.Support, Need: t.Need, Nodes: agreed})
	*ev = append(*ev, slashes...)
	if len(agreed) == 0 {
		s.refund(t, t.Spec.Fee, ev)
		return
	}
	s.payShares(t, agreed, ev)
}
