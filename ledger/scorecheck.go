package ledger

import (
	"bytes"
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

// Vote is an executor's judgement in a check round: bit k of Valid is set when candidate k
// (Candidates of the task, in order) passed its teacher-forced check on its own hardware.
type Vote struct {
	Task  TaskID
	Valid uint64
}

// Type returns TxVote.
func (*Vote) Type() TxType { return TxVote }

func (b *Vote) encode(e *encoder) { e.fixed(b.Task[:]); e.u64(b.Valid) }
func (b *Vote) decode(d *decoder) { b.Task = d.fixed32(); b.Valid = d.u64() }
func (b *Vote) validate() error   { return nil }

// Vote returns a signed Vote.
func (s *Signer) Vote(task TaskID, valid uint64) []byte {
	return s.Sign(&Vote{Task: task, Valid: valid})
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
// usual.
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

func (s *State) vote(tx *Tx, b *Vote, ev *[]Event) error {
	t, i, err := s.openTask(b.Task, tx.Signer)
	if err != nil {
		return err
	}
	if t.Spec.Verify == VerifySegments {
		return s.segmentVote(tx, t, i, b, ev)
	}
	x := &t.Executors[i]
	fps, _ := Candidates(t)
	switch {
	case t.Status != StatusCheck:
		return fmt.Errorf("%w: task %v is in status %s, not check", ErrCheck, t.ID, t.Status)
	case !x.Revealed:
		return fmt.Errorf("%w: task %v: only executors who revealed vote", ErrCheck, t.ID)
	case x.Voted:
		return fmt.Errorf("%w: task %v: already voted", ErrCheck, t.ID)
	case b.Valid>>len(fps) != 0:
		return fmt.Errorf("%w: task %v: vote %#x names candidates beyond the %d", ErrCheck, t.ID, b.Valid, len(fps))
	}
	x.Voted, x.Valid = true, b.Valid
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventVoted, Task: t.ID, Round: t.Round, Node: tx.Signer, Amount: b.Valid})
	for j := range t.Executors {
		if y := &t.Executors[j]; y.Revealed && !y.Voted {
			return nil
		}
	}
	s.settleCheck(t, ev) // every revealer voted
	return nil
}

// settleCheck decides a check round: candidate k is valid when at least need(rule, revealers)
// of the executors who revealed voted it valid, invalid when at least as many voted without
// it, undetermined otherwise. An executor who revealed a valid candidate and voted agrees
// (paid when there is a verdict), one who revealed an invalid candidate is an outlier
// (slashed), one whose candidate is undetermined is undecided, one who did not vote loses
// SlashNoRevealBPS (ReasonNoVote) and is not paid. The verdict needs
// need(rule, executors) agreeing executors, as the fast path does; its value is the valid
// candidate revealed by the most executors (ties: the first). Executors who did not commit,
// did not reveal or copied are treated as in settle. Without a verdict the fee is refunded
// (no adaptive round after a check round).
func (s *State) settleCheck(t *Task, ev *[]Event) {
	fps, _ := Candidates(t)
	var revealers int
	votes, against := make([]int, len(fps)), make([]int, len(fps))
	for j := range t.Executors {
		x := &t.Executors[j]
		if !x.Revealed {
			continue
		}
		revealers++
		if x.Voted {
			for k := range fps {
				if x.Valid>>k&1 == 1 {
					votes[k]++
				} else {
					against[k]++
				}
			}
		}
	}
	needValid := int(ruleNeed(t.Spec.Rule, revealers))
	cand := func(fp []byte) int {
		return slices.IndexFunc(fps, func(f []byte) bool { return bytes.Equal(f, fp) })
	}
	valid := func(k int) bool { return k >= 0 && votes[k] >= needValid }
	invalid := func(k int) bool { return k >= 0 && against[k] >= needValid }
	support, best, bestN := 0, -1, 0
	count := make([]int, len(fps))
	for j := range t.Executors {
		x := &t.Executors[j]
		if k := cand(x.Fingerprint); x.Revealed && x.Voted && valid(k) {
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
			s.slash(t, nd, s.params.SlashNoRevealBPS, ReasonNoReveal, &slashes)
		case !x.Voted:
			x.Outcome = OutcomeNoVote
			nd.Record.NoReveal++
			s.slash(t, nd, s.params.SlashNoRevealBPS, ReasonNoVote, &slashes)
		case invalid(cand(x.Fingerprint)):
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.slash(t, nd, s.params.SlashOutlierBPS, ReasonOutlier, &slashes)
		case accepted && valid(cand(x.Fingerprint)):
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		default:
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		}
		if x.Committed {
			nd.Missed = 0
		}
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
	share := t.Spec.Fee / uint64(len(agreed))
	for _, k := range agreed {
		if share > 0 {
			s.account(k).Balance += share
			s.nodes[k].Record.Earned += share
			*ev = append(*ev, Event{Type: EventReward, Task: t.ID, Node: k, Amount: share})
		}
	}
	s.refund(t, t.Spec.Fee-share*uint64(len(agreed)), ev)
}
