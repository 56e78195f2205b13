package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/genquorum/genquorum/quorum"
)

// Spot checks and escalation (issue 14). See the package doc, "Spot checks and escalation".

// spotFlag marks, in the encoded Verify byte of a SubmitTask, that SpotPPM follows. Tasks
// without a spot probability keep their encoding.
const spotFlag = 0x80

// Spot phases of a task (Task.Spot.Phase).
const (
	// SpotNone: not a spot-checked task, or its executor has not committed yet.
	SpotNone uint8 = 0
	// SpotVerified: the draw asked for verification and verifiers were assigned.
	SpotVerified uint8 = 1
	// SpotUnverified: the draw did not ask for verification (or no verifiers were free): the
	// executor's reveal settles the task alone.
	SpotUnverified uint8 = 2
)

// Reasons recorded on accepted tasks (Task.Reason) by spot checks and escalation.
const (
	// ReasonUnverified: a spot-checked task that was not drawn for verification was settled
	// on its single executor's reveal.
	ReasonUnverified = "unverified"
	// ReasonSpotNoVerifiers: the draw asked for verification but too few nodes were free.
	ReasonSpotNoVerifiers = "spot check drawn, too few free verifiers"
	// ReasonEscalationSkipped: the verdict called for escalation but too few nodes were free
	// (or the chain's MaxReplicas left no room): it settled as before.
	ReasonEscalationSkipped = "escalation skipped: too few free nodes"
	// ReasonThin and ReasonNearEdge say why a verdict was escalated (EventEscalated.Reason).
	ReasonThin     = "thin"
	ReasonNearEdge = "near tolerance edge"
)

// SpotState is a task's spot-check and escalation progress.
type SpotState struct {
	// Phase is SpotNone, SpotVerified or SpotUnverified.
	Phase uint8
	// DrawAt is the height whose block randomness decides whether the task is verified: the
	// block after the one that closed its executor's commitment (0: no draw scheduled).
	DrawAt uint64
	// Escalated reports that the round drew extra verifiers after a thin or near-edge
	// verdict; a round escalates at most once.
	Escalated bool
	// From is the index of the first executor of the last group added to the round (spot
	// verifiers or escalation verifiers); executors below it may no longer commit, and the
	// commit window closes early when every executor from From on has committed. 0 for a
	// round assigned whole.
	From uint32
	// Note is set when a draw or an escalation could not take place (ReasonSpotNoVerifiers,
	// ReasonEscalationSkipped); it is appended to the task's Reason at settlement.
	Note string
}

// SpotDrawn reports whether a spot-checked task with probability ppm (parts per million) is
// verified, given the randomness of the block that decides it: x = the first 8 bytes
// (big-endian) of SHA-256("genquorum/spot/v1" || rand || task); verified when
// floor(x * 10^6 / 2^64) < ppm. 0 never verifies, PPM (10^6) always does.
func SpotDrawn(rand [32]byte, task TaskID, ppm uint32) bool {
	var m [17 + 32 + 32]byte
	copy(m[:], "genquorum/spot/v1")
	copy(m[17:], rand[:])
	copy(m[49:], task[:])
	h := sha256.Sum256(m[:])
	hi, _ := bits.Mul64(binary.BigEndian.Uint64(h[:8]), PPM)
	return hi < uint64(ppm)
}

// checkSpot is the stateful rule on a submission's spot probability: the chain must have
// spot checks on (SpotVerifiers > 0).
func (s *State) checkSpot(b *SubmitTask) error {
	if b.SpotPPM != 0 && s.params.SpotVerifiers == 0 {
		return fmt.Errorf("%w: spot checks are off on this chain (SpotVerifiers 0)", ErrInvalidTask)
	}
	return nil
}

// mayCommit refuses a commitment from an executor of the round that was there before the
// last group of verifiers joined (Spot.From): its window has passed, and it has seen the
// revealed fingerprints since.
func (t *Task) mayCommit(i int) error {
	if i < int(t.Spot.From) {
		return fmt.Errorf("%w: task %v: executor %d's commit window passed before verifiers were added", ErrCommitClosed, t.ID, i)
	}
	return nil
}

// waitsCommit reports whether the early close of the commit window waits for executor j: it
// has not committed, it is in the last group added (Spot.From), and it commits at all (a
// training task's verifiers do not).
func (t *Task) waitsCommit(j int) bool {
	y := &t.Executors[j]
	return !y.Committed && j >= int(t.Spot.From) && !(t.Spec.oneCommitter() && j != 0)
}

// holdForDraw is called when the commit window of t closes: a spot-checked task whose
// executor committed does not open its reveals yet but waits for the draw at the end of the
// next block (StatusSpotDraw), whose randomness its executor could not know when it committed.
// It reports whether it held the task.
func (s *State) holdForDraw(t *Task, ev *[]Event) bool {
	if t.Spec.SpotPPM == 0 || t.Spot.Phase != SpotNone || t.Round != 0 {
		return false
	}
	t.Status = StatusSpotDraw
	t.CommitClosedAt, t.ClosedTime = s.height, s.now
	t.Spot.DrawAt = s.height + 1
	s.addDue(t.Spot.DrawAt, t.ID)
	s.touch(kindTask, t.ID)
	return true
}

// spotDraw decides at the end of block Spot.DrawAt whether t is verified. If so, SpotVerifiers
// verifiers (never the executor or the submitter) are drawn by stake and commit as in any
// round; the commitments closed, everyone reveals and the round settles under the task's
// rule. If not, or if too few nodes are free, the reveal window opens for the executor alone
// and its reveal settles the task, recorded as unverified.
func (s *State) spotDraw(t *Task, ev *[]Event) {
	drawn := SpotDrawn(s.rand, t.ID, t.Spec.SpotPPM)
	e := Event{Type: EventSpotDrawn, Task: t.ID, Round: t.Round}
	if drawn {
		e.Amount = 1
		cands := s.others(t)
		if k := int(s.params.SpotVerifiers); len(cands) >= k {
			t.Spot.Phase = SpotVerified
			e.Nodes = s.addVerifiers(t, cands, k, "genquorum/spot/verifiers/v1", ev)
			*ev = append(*ev, e)
			return
		}
		t.Spot.Note = ReasonSpotNoVerifiers
		e.Reason = ReasonSpotNoVerifiers
	}
	t.Spot.Phase = SpotUnverified
	*ev = append(*ev, e)
	// Reveals open now (accepted from the next block on, as after any commit window).
	t.Status = StatusReveal
	t.CommitClosedAt, t.ClosedTime = s.height, s.now
	t.RevealDeadline = s.height + s.params.RevealWindow
	s.addDue(t.RevealDeadline, t.ID)
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventRevealOpen, Task: t.ID, Round: t.Round, RevealDeadline: t.RevealDeadline})
}

// others returns the nodes eligible for t that are not among its executors, in key order.
func (s *State) others(t *Task) []*Node {
	var c []*Node
	for _, n := range s.eligible(t.Spec.Model, t.Spec.Kind, t.Submitter) {
		if t.executor(n.Key) < 0 {
			c = append(c, n)
		}
	}
	return c
}

// addVerifiers draws k nodes among cands by stake (drawByStake under domain), appends them to
// t's executors and reopens the commit window for them: they commit within CommitWindow
// blocks (the window closes early when all of them did), then every executor reveals. It
// returns the drawn nodes. len(cands) >= k.
func (s *State) addVerifiers(t *Task, cands []*Node, k int, domain string, ev *[]Event) []PubKey {
	picks := s.drawByStake(domain, t, cands, k)
	t.Spot.From = uint32(len(t.Executors))
	return s.openRound(t, picks, ev)
}

// escalate is called when a round reached a verdict v over the revealed fingerprints fps:
// with Params.EscalateVerifiers = K > 0, a round of at least two executors (VerifyEqual) that
// has not escalated yet, whose verdict is thin (its agreeing executors are exactly the number
// the rule needs) or has an agreeing fingerprint near the tolerance edge (at distance d > 0
// from the value with d + EscalateMarginBits >= Tolerance), draws K more verifiers, not
// among the executors, instead of settling; the round then settles over all its executors.
// With too few free nodes (or no room under MaxReplicas) it settles as before, noting it.
// It reports whether it escalated.
func (s *State) escalate(t *Task, v quorum.Verdict, fps [][]byte, ev *[]Event) bool {
	k := int(s.params.EscalateVerifiers)
	n := len(t.Executors)
	if k == 0 || t.Spot.Escalated || t.Spec.Verify != VerifyEqual || n < 2 {
		return false
	}
	why := ""
	if len(v.Agreeing) <= v.Need {
		why = ReasonThin
	} else if m := s.params.EscalateMarginBits; m > 0 && s.nearEdge(t, v, fps, m) {
		why = ReasonNearEdge
	}
	if why == "" {
		return false
	}
	cands := s.others(t)
	if len(cands) < k || n+k > int(s.params.MaxReplicas) {
		t.Spot.Note = ReasonEscalationSkipped
		return false
	}
	t.Spot.Escalated = true
	*ev = append(*ev, Event{Type: EventEscalated, Task: t.ID, Round: t.Round, Support: uint32(v.Support),
		Need: uint32(v.Need), Reason: why})
	s.addVerifiers(t, cands, k, "genquorum/escalate/v1", ev)
	return true
}

// nearEdge reports whether an agreeing fingerprint lies within m bits of the tolerance in some
// part: at distance d > 0 from the value there with d + m >= the part's tolerance. The parts
// are the model's verification policy's (policy.go), or the whole fingerprint under the
// task's Tolerance.
func (s *State) nearEdge(t *Task, v quorum.Verdict, fps [][]byte, m uint32) bool {
	parts := []quorum.Part{{Bytes: int(t.Spec.FingerprintLen), Tolerance: int(t.Spec.Tolerance)}}
	if p := s.policies[policyKey(t.Spec.Model, t.Spec.Kind)]; p != nil {
		parts = p.QuorumParts()
	}
	for _, a := range v.Agreeing {
		off := 0
		for _, p := range parts {
			d := quorum.Distance(fps[a][off:off+p.Bytes], v.Value[off:off+p.Bytes])
			if d > 0 && uint64(d)+uint64(m) >= uint64(p.Tolerance) {
				return true
			}
			off += p.Bytes
		}
	}
	return false
}

// spotReason returns the reason recorded on an accepted task: the given one (unrunnable or
// empty) joined with what spot checks and escalation note.
func (t *Task) spotReason(reason string) string {
	add := func(r string) {
		if reason == "" {
			reason = r
		} else {
			reason += "; " + r
		}
	}
	if t.Spot.Phase == SpotUnverified {
		add(ReasonUnverified)
	}
	if t.Spot.Note != "" {
		add(t.Spot.Note)
	}
	return reason
}

func encodeSpot(e *encoder, sp *SpotState) {
	e.u8(sp.Phase)
	e.u64(sp.DrawAt)
	e.boolean(sp.Escalated)
	e.u32(sp.From)
	e.str(sp.Note)
}

func decodeSpot(d *decoder) SpotState {
	return SpotState{Phase: d.u8(), DrawAt: d.u64(), Escalated: d.boolean("escalated"), From: d.u32(), Note: d.str("spot note", 256)}
}
