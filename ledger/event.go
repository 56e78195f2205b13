package ledger

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// EventType says what an Event reports.
type EventType uint8

// Event types. The fields an event sets are listed with each.
const (
	// EventNodeRegistered: Node, Amount (stake now bonded).
	EventNodeRegistered EventType = iota + 1
	// EventUnbonded: Node, Amount (moved back to the balance).
	EventUnbonded
	// EventTaskAssigned: Task, Round, Nodes (the executors, in order), CommitDeadline,
	// RevealDeadline. Executors start work when they see it.
	EventTaskAssigned
	// EventCommitted: Task, Node.
	EventCommitted
	// EventDuplicateCommitment: Task, Node (the later committer), Nodes (the executors that
	// committed the same bytes before). Whoever cannot open it is slashed as a copier.
	EventDuplicateCommitment
	// EventRevealOpen: Task, Round. The commit window closed: executors reveal from the next
	// block on.
	EventRevealOpen
	// EventRevealed: Task, Node.
	EventRevealed
	// EventVerdict: Task, Round, Value (accepted fingerprint), Support, Need, Nodes (agreeing).
	EventVerdict
	// EventNoVerdict: Task, Round, Support, Need, Reason. Followed by EventTaskAssigned for an
	// adaptive second round, or by EventRefund.
	EventNoVerdict
	// EventReward: Task, Node, Amount (credited to the node's balance).
	EventReward
	// EventSlash: Task, Node, Amount (taken from stake and burned), Reason.
	EventSlash
	// EventRefund: Task, Node (the submitter), Amount.
	EventRefund
	// EventItemRejected: Task, Node, Amount (the item's error code), Reason (the error): one
	// item of a Batch failed and was skipped.
	EventItemRejected
	// EventJailed: Task (the last one missed), Node, Amount (misses in a row). Followed by the
	// jailing EventSlash.
	EventJailed
	// EventUnjailed: Node.
	EventUnjailed
	// EventCheckOpen: Task, Round, RevealDeadline (the last height accepting votes), Nodes (the
	// executors who revealed, who must vote). The revealed sequences differ: see check.go.
	EventCheckOpen
	// EventVoted: Task, Round, Node, Amount (the bitmask of candidates it judged valid), Value
	// (8 bytes big-endian: the bitmask of candidates it was unsure about). A revealed vote.
	EventVoted
	// EventSegmentsOpen: Task, Round, RevealDeadline (the last height accepting votes), Nodes
	// (the verifiers), Value (the randomness that picked the segments: see SegmentPicks).
	EventSegmentsOpen
	// EventDisputeOpen: Task, Node (the challenger), Amount (the failed segment),
	// RevealDeadline (the last height of the first phase).
	EventDisputeOpen
	// EventBisectQuery: Task, Amount (the step whose state digest both sides must send),
	// RevealDeadline.
	EventBisectQuery
	// EventBisected: Task, Node, Amount (step), Value (its digest after the step).
	EventBisected
	// EventRefereeDrawn: Task, Node (the referee), Amount (the disputed step), Value (the
	// agreed digest of the state before it), RevealDeadline.
	EventRefereeDrawn
	// EventDisputeResolved: Task, Node (the referee, or the conceding challenger), Amount
	// (step), Reason.
	EventDisputeResolved
	// EventVoteCommitted: Task, Round, Node. A vote commitment of the check round.
	EventVoteCommitted
	// EventVoteRevealOpen: Task, Round, RevealDeadline (the last height accepting vote
	// reveals). The vote commitments closed: voters reveal from the next block on.
	EventVoteRevealOpen
	// EventSpotDrawn: Task, Round, Amount (1: verification drawn, 0: not), Nodes (the
	// verifiers, when drawn), Reason (ReasonSpotNoVerifiers when drawn but too few were free).
	// A spot-checked task's draw (spot.go).
	EventSpotDrawn
	// EventEscalated: Task, Round, Support, Need, Reason (ReasonThin or ReasonNearEdge). The
	// verdict was not settled: more verifiers were drawn (EventTaskAssigned follows).
	EventEscalated
	// EventSlashDeferred: Task, Node, Reason (ReasonNoReveal, or ReasonNoVote for a missed
	// vote). The node did not reveal (or vote) and no transaction of it was admitted since: its SlashNoRevealBPS waits for its next admitted
	// transaction (an EventSlash, ReasonNoRevealCharged) or is waived if it is jailed first
	// (EventSlashWaived).
	EventSlashDeferred
	// EventSlashWaived: Task, Node, Reason (ReasonWaivedJailed or ReasonWaivedDown). A
	// no-reveal slash that is not charged: the node was down and jailed for it.
	EventSlashWaived
)

var eventNames = [...]string{"", "node-registered", "unbonded", "task-assigned", "committed",
	"duplicate-commitment", "reveal-open", "revealed", "verdict", "no-verdict", "reward", "slash", "refund",
	"item-rejected", "jailed", "unjailed", "check-open", "voted",
	"segments-open", "dispute-open", "bisect-query", "bisected", "referee-drawn", "dispute-resolved", "vote-committed", "vote-reveal-open",
	"spot-drawn", "escalated", "slash-deferred", "slash-waived"}

// String returns the event type's name.
func (t EventType) String() string {
	if t >= 1 && int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Slash and no-verdict reasons.
const (
	ReasonOutlier     = "outlier"
	ReasonNoCommit    = "no commit"
	ReasonNoReveal    = "no reveal"
	ReasonCopied      = "copied commitment"
	ReasonNoQuorum    = "no quorum"
	ReasonNoReveals   = "no reveals"
	ReasonNotEnough   = "not enough eligible nodes"
	ReasonQuorumError = "quorum error"
	ReasonJailed      = "jailed for missed windows"
	// ReasonJailedWaiving: a jailing that waived deferred no-reveal slashes, slashed at the
	// no-reveal rate when that is above the jailing rate.
	ReasonJailedWaiving = "jailed for missed windows, in place of deferred no-reveal slashes"
	ReasonUnrunnable    = "unrunnable" // an accepted verdict that the task cannot be run
	ReasonNoVote        = "no vote"    // revealed, but did not vote in the check round
	ReasonNoValid       = "no valid candidate"
	ReasonContrary      = "contrary vote" // voted against a candidate the check round determined
	// ReasonNoRevealCharged: a deferred no-reveal slash charged when a transaction of the node
	// was admitted again (it was not down, or came back before being jailed).
	ReasonNoRevealCharged = "no reveal (deferred, charged: the node sent a transaction)"
	// ReasonWaivedJailed: a deferred no-reveal slash waived because the node was jailed for the
	// same silence (the jailing slash replaces it).
	ReasonWaivedJailed = "no reveal (waived: jailed for the same silence)"
	// ReasonWaivedDown: a no-reveal of a node that is jailed and silent since (down).
	ReasonWaivedDown = "no reveal (waived: jailed and silent since)"
)

// Event is one effect of a transaction or of the end of a block, for the shell to log, index
// and act on. Which fields are set depends on Type. Slices are owned by the receiver.
type Event struct {
	Type           EventType
	Task           TaskID
	Round          uint8
	Node           PubKey
	Nodes          []PubKey
	Amount         uint64
	Reason         string
	Value          []byte
	Support, Need  uint32
	CommitDeadline uint64
	RevealDeadline uint64
}

// Attribute is one key/value pair of an event, as ABCI events carry them.
type Attribute struct{ Key, Value string }

// Attributes returns the fields the event's type sets, in a fixed order, as strings: keys, task
// IDs and fingerprints in hex, several nodes comma-separated, numbers in decimal. The chain
// turns them into ABCI event attributes (type = Type.String()) for indexing and for clients
// that follow the chain.
func (e Event) Attributes() []Attribute {
	var a []Attribute
	add := func(k, v string) { a = append(a, Attribute{k, v}) }
	num := func(k string, v uint64) { add(k, strconv.FormatUint(v, 10)) }
	nodes := func(k string, ks []PubKey) {
		s := make([]string, len(ks))
		for i, x := range ks {
			s[i] = x.String()
		}
		add(k, strings.Join(s, ","))
	}
	switch e.Type {
	case EventNodeRegistered, EventUnbonded:
		add("node", e.Node.String())
		num("amount", e.Amount)
		return a
	case EventUnjailed:
		add("node", e.Node.String())
		return a
	}
	add("task", e.Task.String())
	switch e.Type {
	case EventTaskAssigned:
		num("round", uint64(e.Round))
		nodes("nodes", e.Nodes)
		num("commit_deadline", e.CommitDeadline)
		num("reveal_deadline", e.RevealDeadline)
	case EventCommitted, EventRevealed:
		num("round", uint64(e.Round))
		add("node", e.Node.String())
	case EventDuplicateCommitment:
		num("round", uint64(e.Round))
		add("node", e.Node.String())
		nodes("same_as", e.Nodes)
	case EventRevealOpen:
		num("round", uint64(e.Round))
		num("reveal_deadline", e.RevealDeadline)
	case EventVerdict:
		num("round", uint64(e.Round))
		add("value", hex.EncodeToString(e.Value))
		num("support", uint64(e.Support))
		num("need", uint64(e.Need))
		nodes("agreeing", e.Nodes)
	case EventNoVerdict:
		num("round", uint64(e.Round))
		num("support", uint64(e.Support))
		num("need", uint64(e.Need))
		add("reason", e.Reason)
	case EventReward, EventRefund:
		add("node", e.Node.String())
		num("amount", e.Amount)
	case EventSlashDeferred, EventSlashWaived:
		add("node", e.Node.String())
		add("reason", e.Reason)
	case EventSlash, EventItemRejected:
		add("node", e.Node.String())
		num("amount", e.Amount)
		add("reason", e.Reason)
	case EventJailed:
		add("node", e.Node.String())
		num("amount", e.Amount)
	case EventSegmentsOpen:
		nodes("nodes", e.Nodes)
		num("reveal_deadline", e.RevealDeadline)
		add("value", hex.EncodeToString(e.Value))
	case EventDisputeOpen, EventBisectQuery, EventRefereeDrawn:
		add("node", e.Node.String())
		num("amount", e.Amount)
		num("reveal_deadline", e.RevealDeadline)
		if e.Value != nil {
			add("value", hex.EncodeToString(e.Value))
		}
	case EventBisected:
		add("node", e.Node.String())
		num("amount", e.Amount)
		add("value", hex.EncodeToString(e.Value))
	case EventDisputeResolved:
		add("node", e.Node.String())
		num("amount", e.Amount)
		add("reason", e.Reason)
	case EventCheckOpen:
		num("round", uint64(e.Round))
		num("vote_commit_deadline", e.RevealDeadline)
		nodes("voters", e.Nodes)
	case EventVoteCommitted:
		num("round", uint64(e.Round))
		add("node", e.Node.String())
	case EventVoteRevealOpen:
		num("round", uint64(e.Round))
		num("vote_reveal_deadline", e.RevealDeadline)
	case EventSpotDrawn:
		num("round", uint64(e.Round))
		num("verify", e.Amount)
		nodes("verifiers", e.Nodes)
		if e.Reason != "" {
			add("reason", e.Reason)
		}
	case EventEscalated:
		num("round", uint64(e.Round))
		num("support", uint64(e.Support))
		num("need", uint64(e.Need))
		add("reason", e.Reason)
	case EventVoted:
		num("round", uint64(e.Round))
		add("node", e.Node.String())
		num("valid", e.Amount)
		add("unsure", hex.EncodeToString(e.Value))
	}
	return a
}
