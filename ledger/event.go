package ledger

import "fmt"

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
)

var eventNames = [...]string{"", "node-registered", "unbonded", "task-assigned", "committed",
	"duplicate-commitment", "reveal-open", "revealed", "verdict", "no-verdict", "reward", "slash", "refund"}

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
