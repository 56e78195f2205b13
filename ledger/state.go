package ledger

import (
	"fmt"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/quorum"
)

// Params are the chain's rules, fixed at genesis.
type Params struct {
	// CommitWindow is the number of blocks after the assignment in which executors commit:
	// commitments are accepted at heights AssignedAt+1 .. AssignedAt+CommitWindow.
	CommitWindow uint64
	// RevealWindow is the number of blocks after the commit window closes in which executors
	// reveal: reveals are accepted after the commit window closed, up to CommitClosedAt +
	// RevealWindow (at most AssignedAt+CommitWindow+RevealWindow).
	RevealWindow uint64
	// MinStake is the least bonded stake for a node to be registered and assigned tasks.
	MinStake uint64
	// MaxReplicas bounds the executors of one task, adaptive rounds included (<= 255).
	MaxReplicas uint32
	// Slash rates in basis points (1/10000) of the node's stake at settlement time.
	SlashOutlierBPS  uint32 // revealed a fingerprint outside the accepted group
	SlashNoRevealBPS uint32 // committed but did not reveal
	SlashNoCommitBPS uint32 // assigned but did not commit
	SlashCopyBPS     uint32 // committed another executor's commitment bytes and could not open them

	// TxFee is taken from the signer's balance for every transaction admitted to a block,
	// whether its body then succeeds or fails (burned). CheckTx refuses a transaction whose
	// signer cannot pay it, so no free transaction reaches a block.
	TxFee uint64
	// MinCommitMillis and MinRevealMillis are the least block time (milliseconds, from the
	// blocks' consensus timestamps) a commit or reveal window stays open, whatever the number
	// of blocks: a window ends at its deadline height only if this much block time has passed
	// since it opened; otherwise its deadline moves to the next block. Fast blocks cannot
	// outrun executors. 0 disables the floor.
	MinCommitMillis uint64
	MinRevealMillis uint64
	// JailAfterMisses: a node whose last JailAfterMisses assignments all ended without its
	// work (no commitment, or a commitment it did not reveal) is jailed (no longer assigned
	// until it sends Unjail) and slashed SlashJailBPS once; while it is jailed or below the
	// count, missed commitments are not slashed per task, and a missed reveal's
	// SlashNoRevealBPS is deferred until the node's next transaction and waived if the node is
	// jailed first (see the package doc, "Downtime"). 0 keeps the per-task SlashNoCommitBPS
	// and SlashNoRevealBPS instead.
	JailAfterMisses uint32
	SlashJailBPS    uint32
	// PruneAfter, when not 0, deletes a settled task from the state PruneAfter blocks after
	// the block that settled it (at the end of that block, once a block of that height comes).
	// Its verdict, rewards and slashes stay in the block's events (CometBFT's indexer: tx and
	// block search by "verdict.task"); the ledger answers "unknown task" afterwards. A
	// transaction about a pruned task is refused as about an unknown task. 0 keeps settled
	// tasks for ever.
	PruneAfter uint64
	// SpotVerifiers is the number of verifiers drawn when a spot-checked task (SubmitTask.SpotPPM)
	// is drawn for verification; with the executor they make the round (e.g. 2: three
	// executors, so that a majority can outvote a cheating executor). 0 turns spot checks off:
	// spot-checked submissions are refused.
	SpotVerifiers uint32
	// EscalateVerifiers is the number of verifiers a thin or near-edge verdict draws before
	// settling (see the package doc); 0 turns escalation off. EscalateMarginBits: an agreeing
	// fingerprint at Hamming distance d > 0 from the value with d + EscalateMarginBits >=
	// Tolerance is near the edge (0: only thin verdicts escalate).
	EscalateVerifiers  uint32
	EscalateMarginBits uint32
}

// DefaultParams returns the rules used by tests and a default local chain.
func DefaultParams() Params {
	return Params{
		CommitWindow:     4,
		RevealWindow:     4,
		MinStake:         100,
		MaxReplicas:      15,
		SlashOutlierBPS:  1000,
		SlashNoRevealBPS: 500,
		SlashNoCommitBPS: 200,
		SlashCopyBPS:     2000,
	}
}

// Validate reports the first rule Params breaks.
func (p Params) Validate() error {
	switch {
	case p.CommitWindow == 0 || p.RevealWindow == 0:
		return fmt.Errorf("ledger: params: commit and reveal windows must be at least 1 block")
	case p.CommitWindow > 1<<20 || p.RevealWindow > 1<<20:
		return fmt.Errorf("ledger: params: windows over %d blocks", 1<<20)
	case p.MaxReplicas == 0 || p.MaxReplicas > MaxReplicasLimit:
		return fmt.Errorf("ledger: params: max replicas %d (want 1..%d)", p.MaxReplicas, MaxReplicasLimit)
	case p.SlashOutlierBPS > 10000 || p.SlashNoRevealBPS > 10000 || p.SlashNoCommitBPS > 10000 || p.SlashCopyBPS > 10000 ||
		p.SlashJailBPS > 10000:
		return fmt.Errorf("ledger: params: slash rate over 10000 basis points")
	case p.SpotVerifiers != 0 && p.SpotVerifiers >= p.MaxReplicas, p.EscalateVerifiers != 0 && p.EscalateVerifiers >= p.MaxReplicas:
		return fmt.Errorf("ledger: params: spot verifiers %d or escalation verifiers %d leave no room under max replicas %d",
			p.SpotVerifiers, p.EscalateVerifiers, p.MaxReplicas)
	}
	return nil
}

// Genesis is the initial state of a chain. The total supply (the sum of the balances) must fit
// in 64 bits; it never grows afterwards (fees move, slashing burns), so no amount can
// overflow.
type Genesis struct {
	ChainID  string
	Params   Params
	Accounts []GenesisAccount // distinct keys
	// Policies are the models' verification policies (policy.go), at most one per model and
	// kind; they cannot change afterwards.
	Policies []Policy `json:",omitempty"`
}

// GenesisAccount funds one key at genesis.
type GenesisAccount struct {
	Key     PubKey
	Balance uint64
}

// Account is the spendable side of a key.
type Account struct {
	Balance uint64
	Nonce   uint64 // highest accepted nonce
	// Used records which of the NonceWindow nonces below Nonce were accepted: a transaction
	// needs a nonce above Nonce, or an unused one in the window (see NonceWindow).
	Used nonceBits
}

// Node is a registered executor.
type Node struct {
	Key          PubKey
	Stake        uint64 // bonded; assignment weight and what slashing takes from
	Engines      []string
	Models       []Model
	Hardware     string
	Class        string
	Addrs        []string // where it serves artifacts, as it announced
	RegisteredAt uint64   // height
	Open         uint32   // assignments not yet settled
	Capacity     uint32   // most open assignments it accepts (0: no limit)
	Missed       uint32   // assignments in a row that ended without its work (commitment and reveal)
	Jailed       bool     // not assigned until it sends Unjail
	// Dark: jailed, and no transaction of the node was admitted since: missed reveals are
	// waived (the node is down; the jailing paid for it). Its next transaction clears it.
	Dark bool
	// Pending lists the tasks whose no-reveal slash is deferred, oldest first: each ended
	// without the node's reveal while no transaction of the node was admitted since. Its next
	// admitted transaction charges them; jailing waives them.
	Pending []TaskID
	Kinds   []string // per model, the kinds it runs (RegisterNode.Kinds)
	Record  Record
}

// free reports whether n can take one more assignment: not jailed, staked, under capacity.
func (n *Node) free(minStake uint64) bool {
	return !n.Jailed && n.Stake >= minStake && (n.Capacity == 0 || n.Open < n.Capacity)
}

// serves reports whether n serves model m.
func (n *Node) serves(m Model) bool {
	for _, x := range n.Models {
		if x == m {
			return true
		}
	}
	return false
}

// runs reports whether n serves model m for tasks of kind: it serves m and declared kind for
// it, or declared no kinds for it.
func (n *Node) runs(m Model, kind string) bool {
	for i, x := range n.Models {
		if x == m {
			return i >= len(n.Kinds) || kindListed(n.Kinds[i], kind)
		}
	}
	return false
}

// kindListed reports whether the comma-separated list has kind; an empty list has every kind.
func kindListed(list, kind string) bool {
	if list == "" {
		return true
	}
	for list != "" {
		var k string
		k, list, _ = strings.Cut(list, ",")
		if k == kind {
			return true
		}
	}
	return false
}

// Record is a node's history of settled assignments.
type Record struct {
	Assigned  uint64 // executor slots ever assigned
	Agreed    uint64 // revealed within tolerance of an accepted verdict
	Outliers  uint64 // revealed outside the accepted group (or voted contrary in a check round)
	Undecided uint64 // revealed, but the round reached no verdict
	NoCommit  uint64
	NoReveal  uint64
	Jailed    uint64 // times jailed
	Waived    uint64 // no-reveal slashes waived: the node was down and jailed for it
	Copied    uint64
	Earned    uint64 // rewards paid
	Slashed   uint64 // stake taken
}

// TaskStatus is where a task stands.
type TaskStatus uint8

// Task statuses.
const (
	StatusCommit    TaskStatus = 1 // executors assigned, commit window open
	StatusReveal    TaskStatus = 2 // commit window closed, reveals accepted
	StatusAccepted  TaskStatus = 3 // settled with a verdict
	StatusNoVerdict TaskStatus = 4 // settled without a verdict; fee refunded
	StatusCheck     TaskStatus = 5 // revealed sequences differ: executors commit votes on each candidate (scorecheck.go)
	StatusSegments  TaskStatus = 6 // training, trajectory: verifiers re-execute their segments and commit votes (segments.go)
	StatusDispute   TaskStatus = 7 // training: a failed segment is being bisected (segments.go)
	// StatusCheckReveal: the vote commitments of the check round closed; votes are revealed.
	StatusCheckReveal TaskStatus = 8
	// StatusSpotDraw: a spot-checked task's executor committed; the next block's randomness
	// decides whether verifiers are drawn (spot.go).
	StatusSpotDraw TaskStatus = 9
	// StatusSegmentsReveal: the vote commitments of a training task's (or a trajectory-
	// verified image task's) verifiers closed; the votes are revealed (segments.go).
	StatusSegmentsReveal TaskStatus = 10
)

var statusNames = [...]string{"", "commit", "reveal", "accepted", "no-verdict", "check", "segments", "dispute", "check-reveal",
	"spot-draw", "segments-reveal"}

// String returns the status's name: "commit", "reveal", "accepted", "no-verdict", "check",
// "segments", "dispute", "check-reveal", "spot-draw" or "segments-reveal".
func (s TaskStatus) String() string {
	if s >= 1 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("TaskStatus(%d)", uint8(s))
}

// Settled reports whether the task has its final outcome.
func (s TaskStatus) Settled() bool { return s == StatusAccepted || s == StatusNoVerdict }

// Outcome is what settlement decided about one executor.
type Outcome uint8

// Executor outcomes. OutcomePending until the round settles.
const (
	OutcomePending   Outcome = 0
	OutcomeAgreed    Outcome = 1
	OutcomeOutlier   Outcome = 2
	OutcomeUndecided Outcome = 3
	OutcomeNoCommit  Outcome = 4
	OutcomeNoReveal  Outcome = 5
	OutcomeCopied    Outcome = 6
	OutcomeNoVote    Outcome = 7 // revealed, but committed or revealed no vote in the check round
	OutcomeContrary  Outcome = 8 // its vote contradicted a candidate the check round determined
	OutcomeAbstained Outcome = 9 // its output is valid, but it abstained on a determined candidate
)

var outcomeNames = [...]string{"pending", "agreed", "outlier", "undecided", "no-commit", "no-reveal", "copied", "no-vote",
	"contrary", "abstained"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Executor is one assigned node's part in a round.
type Executor struct {
	Node        PubKey
	Committed   bool
	Commitment  [32]byte
	Duplicate   bool // another executor of the round committed the same bytes
	Revealed    bool
	Fingerprint []byte
	Artifact    [32]byte // SHA-256 of the artifact, as revealed
	Outcome     Outcome
	// Check round (SubmitTask.Verify == VerifyScore): whether the executor committed its vote
	// and the commitment, whether it revealed the vote, the candidates (bit k:
	// Candidates(t)[k]) it judged valid and those it was unsure about. A verifier of a
	// training or trajectory-verified task (executor >= 1) commits and reveals its vote the
	// same way; bit j of Valid is its j-th pick (SegmentPicks, TrajectoryPicks), Unsure is 0.
	VoteCommitted  bool
	VoteCommitment [32]byte
	Voted          bool
	Valid          uint64
	Unsure         uint64
}

// Task is a submitted task and its progress. Values returned by State.Task are copies.
type Task struct {
	ID          TaskID
	Submitter   PubKey
	Spec        SubmitTask // as submitted
	SubmittedAt uint64

	Status         TaskStatus
	Round          uint8  // 0, or 1 after adaptive re-assignment
	AssignedAt     uint64 // height of the current round's assignment
	AssignedTime   uint64 // block time (ms) of the assignment
	ClosedTime     uint64 // block time (ms) at which the commit window closed
	CommitDeadline uint64 // last height accepting commitments
	RevealDeadline uint64 // last height accepting reveals; settlement at the latest here
	CommitClosedAt uint64 // height at which the commit window closed (0 while open)
	Executors      []Executor

	// Settlement.
	SettledAt uint64
	Value     []byte // accepted fingerprint
	Support   uint32 // executors within tolerance of the best candidate
	Need      uint32 // agreeing executors the rule needed
	Reason    string // why there is no verdict
	// CheckDeadline is the last height accepting vote commitments (StatusCheck,
	// StatusSegments) or vote reveals (StatusCheckReveal, StatusSegmentsReveal) (0: none
	// opened).
	CheckDeadline uint64
	// Training tasks (Verify == VerifySegments): the randomness that picked the segments, and
	// the current (or last) dispute.
	SegmentRand [32]byte
	Dispute     *Dispute
	// VoteClosedAt is the height at which the vote commitments (of a check round, or of a
	// training or trajectory-verified task's verifiers) closed (0 while open).
	VoteClosedAt uint64
	// Spot is the spot-check draw and escalation state (spot.go).
	Spot SpotState

	specDigest [32]byte // SHA-256 of the encoded Spec, cached for hashing
}

// clone returns a deep copy.
func (t *Task) clone() Task {
	c := *t
	c.Spec.Prompt = slices.Clone(t.Spec.Prompt)
	c.Spec.Params = slices.Clone(t.Spec.Params)
	c.Executors = slices.Clone(t.Executors)
	for i := range c.Executors {
		c.Executors[i].Fingerprint = slices.Clone(c.Executors[i].Fingerprint)
	}
	c.Value = slices.Clone(t.Value)
	if t.Dispute != nil {
		d := *t.Dispute
		c.Dispute = &d
	}
	return c
}

// executor returns the index of node among the executors, or -1.
func (t *Task) executor(node PubKey) int {
	for i := range t.Executors {
		if t.Executors[i].Node == node {
			return i
		}
	}
	return -1
}

// Verdict reports the outcome of a settled task.
func (t *Task) Verdict() (accepted bool, value []byte) {
	return t.Status == StatusAccepted, t.Value
}

// State is the ledger: accounts, nodes, tasks and the rules. It changes only through
// FinalizeBlock, and it is not safe for concurrent use (CheckTx, the package function, is).
type State struct {
	chainID string
	params  Params
	height  uint64 // last finalized block
	burned  uint64 // slashed stake, destroyed

	accounts map[PubKey]*Account
	nodes    map[PubKey]*Node
	nodeKeys []PubKey // sorted: the deterministic iteration order for assignment
	tasks    map[TaskID]*Task
	policies map[[32]byte]*Policy // by policyKey; fixed at genesis

	// due[h] lists tasks with a deadline at height h (derived from tasks; never hashed).
	due map[uint64][]TaskID
	// prune[h] lists settled tasks deleted at the end of block h (Params.PruneAfter; derived
	// from tasks; never hashed).
	prune map[uint64][]TaskID

	pending bool // a block was finalized and not yet committed

	// Block-local inputs: the block's randomness and time, and the set of state entries
	// changed in it.
	rand  [32]byte
	now   uint64
	dirty map[entryKey]struct{}
	hash  hasher
}

// New returns the state at genesis.
func New(g Genesis) (*State, error) {
	if err := g.Params.Validate(); err != nil {
		return nil, err
	}
	if len(g.ChainID) == 0 || len(g.ChainID) > MaxChainIDBytes {
		return nil, fmt.Errorf("ledger: genesis: chain ID of %d bytes (want 1..%d)", len(g.ChainID), MaxChainIDBytes)
	}
	s := newEmpty(g.ChainID, g.Params)
	var supply uint64
	for _, a := range g.Accounts {
		if _, ok := s.accounts[a.Key]; ok {
			return nil, fmt.Errorf("ledger: genesis: account %v listed twice", a.Key)
		}
		if supply+a.Balance < supply {
			return nil, fmt.Errorf("ledger: genesis: total supply overflows 64 bits")
		}
		supply += a.Balance
		s.accounts[a.Key] = &Account{Balance: a.Balance}
	}
	if err := s.addPolicies(g.Policies); err != nil {
		return nil, err
	}
	s.rehash()
	return s, nil
}

func newEmpty(chainID string, p Params) *State {
	return &State{
		chainID:  chainID,
		params:   p,
		accounts: make(map[PubKey]*Account),
		nodes:    make(map[PubKey]*Node),
		tasks:    make(map[TaskID]*Task),
		policies: make(map[[32]byte]*Policy),
		due:      make(map[uint64][]TaskID),
		prune:    make(map[uint64][]TaskID),
		dirty:    make(map[entryKey]struct{}),
		hash:     newHasher(),
	}
}

// ChainID returns the chain ID that transactions are signed for.
func (s *State) ChainID() string { return s.chainID }

// Params returns the chain's rules.
func (s *State) Params() Params { return s.params }

// Height returns the height of the last finalized block (0 at genesis).
func (s *State) Height() uint64 { return s.height }

// Burned returns the total stake slashed so far.
func (s *State) Burned() uint64 { return s.burned }

// Account returns the account of key (the zero Account if it has none).
func (s *State) Account(key PubKey) Account {
	if a := s.accounts[key]; a != nil {
		return *a
	}
	return Account{}
}

// Node returns a copy of the node registered with key.
func (s *State) Node(key PubKey) (Node, bool) {
	n := s.nodes[key]
	if n == nil {
		return Node{}, false
	}
	c := *n
	c.Engines = slices.Clone(n.Engines)
	c.Models = slices.Clone(n.Models)
	c.Kinds = slices.Clone(n.Kinds)
	c.Addrs = slices.Clone(n.Addrs)
	c.Pending = slices.Clone(n.Pending)
	return c, true
}

// Nodes returns the registered node keys in ascending order.
func (s *State) Nodes() []PubKey { return slices.Clone(s.nodeKeys) }

// Task returns a copy of the task with id.
func (s *State) Task(id TaskID) (Task, bool) {
	t := s.tasks[id]
	if t == nil {
		return Task{}, false
	}
	return t.clone(), true
}

// OpenTasks returns the IDs of the tasks not yet settled in which node is an executor of the
// current round or the drawn referee of the open dispute (a training task's referee is no
// executor), ascending. It scans the open tasks: a node daemon calls it after a restart, and
// otherwise follows the TaskAssigned and RefereeDrawn events.
func (s *State) OpenTasks(node PubKey) []TaskID {
	var ids []TaskID
	for _, list := range s.due {
		for _, id := range list {
			t := s.tasks[id]
			referee := t != nil && t.Dispute != nil && t.Dispute.Phase == PhaseReferee && !t.Dispute.Resolved && t.Dispute.Referee == node
			if t != nil && !t.Status.Settled() && (t.executor(node) >= 0 || referee) && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.SortFunc(ids, func(a, b TaskID) int { return compareKeys(a, b) })
	return ids
}

// NextDeadline returns the lowest height above the last block at which an open task's window
// ends, and false if no task is open. A chain that makes no empty blocks must still make a
// block at that height, or the task will wait.
func (s *State) NextDeadline() (uint64, bool) {
	var best uint64
	for h := range s.due {
		if h > s.height && (best == 0 || h < best) {
			best = h
		}
	}
	return best, best != 0
}

// Waiting reports whether some task is not settled yet: its windows end at heights still to
// come, so the chain must keep making blocks (a chain that makes no empty blocks makes paced
// ones while Waiting is true; see package chain).
func (s *State) Waiting() bool {
	for _, list := range s.due {
		for _, id := range list {
			if t := s.tasks[id]; t != nil && !t.Status.Settled() {
				return true
			}
		}
	}
	return false
}

// TaskCount returns the number of tasks in the state, settled ones not yet pruned included.
func (s *State) TaskCount() int { return len(s.tasks) }

// settled records that t was settled in this block: with Params.PruneAfter it is deleted at
// the end of block SettledAt+PruneAfter.
func (s *State) settled(t *Task) {
	if s.params.PruneAfter != 0 {
		h := t.SettledAt + s.params.PruneAfter
		s.prune[h] = append(s.prune[h], t.ID)
	}
}

// pruneTasks deletes the settled tasks whose pruning height is this block's.
func (s *State) pruneTasks() {
	for _, id := range s.prune[s.height] {
		if t := s.tasks[id]; t != nil && t.Status.Settled() {
			delete(s.tasks, id)
			s.touch(kindTask, id)
		}
	}
	delete(s.prune, s.height)
}

func compareKeys(a, b [32]byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ruleNeed wraps quorum.Rule.Need for uint32 replicas.
func ruleNeed(r quorum.Rule, n int) uint32 { return uint32(r.Need(n)) }
