package chain

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/genquorum/genquorum/ledger"
)

// Ledger adapts a ledger.State to StateMachine. The ledger's genesis arrives in CometBFT's
// genesis file as app_state (JSON of ledger.Genesis) and is applied at InitChain; after a
// restart the state is loaded from the newest snapshot (Open; StartNode opens it in the
// home) and CometBFT replays the blocks above it, or, in memory only, all blocks from genesis. Signatures checked by
// CheckTx are remembered in a SigCache so FinalizeBlock does not verify them again; the cache
// only memoises a pure function, so the state stays deterministic.
type Ledger struct {
	st    *ledger.State
	cache *ledger.SigCache

	// SnapshotEvery is how many blocks apart a persistent Ledger (Open) writes a snapshot
	// (DefaultSnapshotEvery when 0).
	SnapshotEvery int64
	dir           string // snapshots (snapshot.go); "" keeps the state in memory only
	snapshot      int64  // newest snapshot height
	oldest        int64  // oldest snapshot kept
}

// sigCacheSize bounds the verified-signature cache.
const sigCacheSize = 1 << 17

// NewLedger returns an adapter that creates its state at InitChain.
func NewLedger() *Ledger { return &Ledger{} }

// State returns the ledger state (nil before InitChain). Callers must not use it concurrently
// with the chain; queries go through Query.
func (l *Ledger) State() *ledger.State { return l.st }

// InitChain creates the state from the JSON-encoded ledger.Genesis in appState.
func (l *Ledger) InitChain(chainID string, appState []byte) ([]byte, error) {
	var g ledger.Genesis
	if len(appState) > 0 {
		if err := json.Unmarshal(appState, &g); err != nil {
			return nil, fmt.Errorf("chain: ledger genesis (app_state): %w", err)
		}
	}
	if g.ChainID == "" {
		g.ChainID = chainID
	}
	if g.ChainID != chainID {
		return nil, fmt.Errorf("chain: ledger genesis chain ID %q differs from the chain's %q", g.ChainID, chainID)
	}
	if g.Params == (ledger.Params{}) {
		g.Params = ledger.DefaultParams()
		g.Params.SpotVerifiers = 2 // spot-checked tasks on (escalation stays off)
	}
	st, err := ledger.New(g)
	if err != nil {
		return nil, err
	}
	l.st = st
	l.cache = ledger.NewSigCache(g.ChainID, sigCacheSize)
	h := st.AppHash()
	return h[:], nil
}

var errNotInitialised = errors.New("chain: ledger not initialised (InitChain not called)")

// CheckTx runs ledger.State.CheckTx: decoding, limits, signature, and against the state the
// signer's account, nonce, fee and the body's cheap rules. Its error carries the ledger's code
// (ABCICode), so every reason has its own mempool code.
func (l *Ledger) CheckTx(tx []byte) error {
	if l.st == nil {
		return errNotInitialised
	}
	if _, err := l.st.CheckTx(tx, l.cache); err != nil {
		return codedError{err}
	}
	return nil
}

// codedError gives a ledger error its ABCI code.
type codedError struct{ error }

func (e codedError) ABCICode() uint32 { return ledger.Code(e.error) }
func (e codedError) Unwrap() error    { return e.error }

// FinalizeBlock applies a block.
func (l *Ledger) FinalizeBlock(height int64, randomness []byte, timeMillis uint64, txs [][]byte) (BlockResult, error) {
	if l.st == nil {
		return BlockResult{}, errNotInitialised
	}
	b := ledger.Block{Height: uint64(height), Time: timeMillis, Txs: txs}
	copy(b.Rand[:], randomness)
	res, err := l.st.FinalizeBlock(b, l.cache)
	if err != nil {
		return BlockResult{}, err
	}
	out := BlockResult{AppHash: res.AppHash[:], Txs: make([]TxResult, len(res.TxResults))}
	for i, r := range res.TxResults {
		out.Txs[i] = TxResult{Code: r.Code, Events: ledgerEvents(r.Events)}
		if r.Err != nil {
			out.Txs[i].Log = r.Err.Error()
		}
	}
	out.Events = ledgerEvents(res.Events)
	return out, nil
}

// Commit commits the finalized block, and writes a snapshot every SnapshotEvery blocks when
// the Ledger is persistent.
func (l *Ledger) Commit() error {
	if err := l.st.Commit(); err != nil {
		return err
	}
	if l.dir != "" && int64(l.st.Height())%l.SnapshotEvery == 0 {
		return l.saveSnapshot()
	}
	return nil
}

// Waiting reports whether an open task waits for blocks (see Waiter).
func (l *Ledger) Waiting() bool { return l.st != nil && l.st.Waiting() }

// Height is the last committed height.
func (l *Ledger) Height() int64 {
	if l.st == nil {
		return 0
	}
	return int64(l.st.Height())
}

// AppHash is the app hash of the committed state; nil before the first block, as CometBFT
// expects of an app that has not stored a block.
func (l *Ledger) AppHash() []byte {
	if l.st == nil || l.st.Height() == 0 {
		return nil
	}
	h := l.st.AppHash()
	return h[:]
}

// Query paths. Data is the raw 32-byte key or task ID; answers are JSON.
const (
	QueryTask    = "task"    // data: task ID -> TaskView
	QueryNode    = "node"    // data: node key -> NodeView
	QueryAccount = "account" // data: key -> ledger.Account
	QueryOpen    = "open"    // data: node key -> []string of open task IDs (hex): executor or referee (ledger.State.OpenTasks)
	QueryNodes   = "nodes"   // no data -> []NodeView
	// QueryPolicies answers every registered verification policy (ledger.Policy), no data ->
	// []PolicyView.
	QueryPolicies = "policies"
	// QueryParams answers the ledger's rules (ledger.Params as JSON), no data: windows, floors,
	// slash rates.
	QueryParams = "params"
)

// TaskView is the JSON answer to a task query.
type TaskView struct {
	ID             string         `json:"id"`
	Submitter      string         `json:"submitter"`
	Kind           string         `json:"kind"`
	Model          string         `json:"model"`
	ModelDigest    string         `json:"model_digest"`
	Prompt         []byte         `json:"prompt"`
	Seed           uint64         `json:"seed"`
	Params         []byte         `json:"params"`
	Replicas       uint32         `json:"replicas"`
	Tolerance      uint32         `json:"tolerance"`
	FingerprintLen uint32         `json:"fingerprint_len"`
	Rule           string         `json:"rule"`
	Fee            uint64         `json:"fee"`
	Status         string         `json:"status"`
	Round          uint8          `json:"round"`
	SubmittedAt    uint64         `json:"submitted_at"`
	AssignedAt     uint64         `json:"assigned_at"`
	CommitBy       uint64         `json:"commit_deadline"`
	RevealBy       uint64         `json:"reveal_deadline"`
	SettledAt      uint64         `json:"settled_at,omitempty"`
	Value          string         `json:"value,omitempty"`
	Support        uint32         `json:"support"`
	Need           uint32         `json:"need"`
	Reason         string         `json:"reason,omitempty"`
	Executors      []ExecutorView `json:"executors"`
	// Training tasks with segment verification (ledger.VerifySegments): the segment layout,
	// the randomness that picked each verifier's segments (hex), and the current dispute.
	Verify      uint8               `json:"verify,omitempty"`
	Segment     *ledger.SegmentSpec `json:"segment,omitempty"`
	SegmentRand string              `json:"segment_rand,omitempty"`
	Dispute     *ledger.Dispute     `json:"dispute,omitempty"`
	// Spot-checked tasks (SubmitTask.SpotPPM): the probability of verification in parts per
	// million, and the draw's and escalation's state (also set for a task that escalated).
	SpotPPM uint32            `json:"spot_ppm,omitempty"`
	Spot    *ledger.SpotState `json:"spot,omitempty"`
	// Pruned marks a view rebuilt from the settlement's event (PrunedView) after the ledger
	// deleted the task: only the fields the event carries are set.
	Pruned bool `json:"pruned,omitempty"`
	// Policy is the verification policy the task is settled under: its model's registered
	// policy for its kind (nil: none; the task's own tolerance decides).
	Policy *PolicyView `json:"policy,omitempty"`
}

// PolicyView is a registered verification policy (ledger.Policy) as queries answer it.
type PolicyView struct {
	Model       string              `json:"model"`
	ModelDigest string              `json:"model_digest"`
	Kind        string              `json:"kind"`
	Parts       []ledger.PolicyPart `json:"parts"`
	TypeIPPM    uint32              `json:"type1_ppm"`
	TypeIPairs  uint64              `json:"type1_pairs"`
	TypeIIPPM   uint32              `json:"type2_ppm"`
	TypeIIUpper uint32              `json:"type2_upper95_ppm"`
	TypeIIPairs uint64              `json:"type2_pairs"`
	Dataset     string              `json:"dataset_digest"`
}

// Scheme returns the policy's scheme name: its parts' schemes joined by "+".
func (p *PolicyView) Scheme() string {
	var names []string
	for _, x := range p.Parts {
		names = append(names, x.Scheme)
	}
	return strings.Join(names, "+")
}

// ViewPolicy returns the view of p.
func ViewPolicy(p ledger.Policy) PolicyView {
	return PolicyView{Model: p.Model.Name, ModelDigest: hex.EncodeToString(p.Model.Digest[:]), Kind: p.Kind,
		Parts: p.Parts, TypeIPPM: p.TypeIPPM, TypeIPairs: p.TypeIPairs, TypeIIPPM: p.TypeIIPPM,
		TypeIIUpper: p.TypeIIUpperPPM, TypeIIPairs: p.TypeIIPairs, Dataset: hex.EncodeToString(p.Dataset[:])}
}

// PrunedView is the TaskView of a task pruned from the ledger state, from its settlement
// event: status, settlement height, and when the event's attributes are known the verdict
// value, support, need, reason and agreeing executors (outcome "agreed"); the spec and the
// other executors are not in the event.
func PrunedView(id ledger.TaskID, s *Settlement) TaskView {
	v := TaskView{ID: id.String(), Pruned: true, SettledAt: uint64(s.Height), Round: s.Event.Round,
		Support: s.Event.Support, Need: s.Event.Need, Reason: s.Event.Reason, Status: ledger.StatusNoVerdict.String()}
	if s.Event.Type == ledger.EventVerdict {
		v.Status = ledger.StatusAccepted.String()
	}
	if s.Event.Value != nil {
		v.Value = hex.EncodeToString(s.Event.Value)
	}
	for _, k := range s.Event.Nodes {
		if s.Event.Type == ledger.EventVerdict {
			v.Executors = append(v.Executors, ExecutorView{Node: k.String(), Outcome: ledger.OutcomeAgreed.String()})
		}
	}
	return v
}

// ExecutorView is one executor of a task.
type ExecutorView struct {
	Node        string `json:"node"`
	Committed   bool   `json:"committed"`
	Commitment  string `json:"commitment,omitempty"` // public once sent: H(task, node, fingerprint, salt)
	Revealed    bool   `json:"revealed"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Artifact    string `json:"artifact,omitempty"` // SHA-256 of the artifact, as revealed
	Outcome     string `json:"outcome"`
	// Check round of a score-verified text task: whether the executor committed its vote,
	// whether it revealed it, and the bitmasks of candidates (distinct revealed fingerprints,
	// in executor order) it judged valid and unsure. A verifier of a training or
	// trajectory-verified task commits and reveals its vote the same way (Valid: bit j its
	// j-th pick passed; for a trajectory bit Checks the ends).
	VoteCommitted bool   `json:"vote_committed,omitempty"`
	Voted         bool   `json:"voted,omitempty"`
	Valid         uint64 `json:"valid,omitempty"`
	Unsure        uint64 `json:"unsure,omitempty"`
}

// NodeView is the JSON answer to a node query.
type NodeView struct {
	Key      string        `json:"key"`
	Stake    uint64        `json:"stake"`
	Engines  []string      `json:"engines"`
	Models   []string      `json:"models"`
	Hardware string        `json:"hardware"`
	Class    string        `json:"class"`
	Addrs    []string      `json:"addrs"`
	Open     uint32        `json:"open"`
	Capacity uint32        `json:"capacity"` // most open assignments (0: no limit)
	Missed   uint32        `json:"missed"`   // assignments missed in a row
	Jailed   bool          `json:"jailed"`
	Dark     bool          `json:"dark,omitempty"`    // jailed and silent since: missed reveals waived
	Pending  int           `json:"pending,omitempty"` // no-reveal slashes deferred to its next transaction
	Kinds    []string      `json:"kinds,omitempty"`   // per model, the kinds of task it runs
	Record   ledger.Record `json:"record"`
}

// Query answers the read-only queries listed above.
func (l *Ledger) Query(path string, data []byte) ([]byte, error) {
	if l.st == nil {
		return nil, errNotInitialised
	}
	key := func() ([32]byte, error) {
		var k [32]byte
		if len(data) != 32 {
			return k, fmt.Errorf("chain: query %s: want a 32-byte key, got %d bytes", path, len(data))
		}
		copy(k[:], data)
		return k, nil
	}
	switch path {
	case QueryParams:
		return json.Marshal(l.st.Params())
	case QueryTask:
		id, err := key()
		if err != nil {
			return nil, err
		}
		t, ok := l.st.Task(id)
		if !ok {
			return nil, fmt.Errorf("chain: unknown task %x", id)
		}
		v := viewTask(t)
		if p, ok := l.st.Policy(t.Spec.Model, t.Spec.Kind); ok && t.Spec.Verify == ledger.VerifyEqual {
			pv := ViewPolicy(p)
			v.Policy = &pv
		}
		return json.Marshal(v)
	case QueryNode:
		k, err := key()
		if err != nil {
			return nil, err
		}
		n, ok := l.st.Node(k)
		if !ok {
			return nil, fmt.Errorf("chain: unknown node %x", k)
		}
		return json.Marshal(viewNode(n))
	case QueryNodes:
		var out []NodeView
		for _, k := range l.st.Nodes() {
			n, _ := l.st.Node(k)
			out = append(out, viewNode(n))
		}
		return json.Marshal(out)
	case QueryPolicies:
		out := []PolicyView{}
		for _, p := range l.st.Policies() {
			out = append(out, ViewPolicy(p))
		}
		return json.Marshal(out)
	case QueryAccount:
		k, err := key()
		if err != nil {
			return nil, err
		}
		return json.Marshal(l.st.Account(k))
	case QueryOpen:
		k, err := key()
		if err != nil {
			return nil, err
		}
		ids := []string{}
		for _, id := range l.st.OpenTasks(k) {
			ids = append(ids, id.String())
		}
		return json.Marshal(ids)
	}
	return nil, fmt.Errorf("chain: unknown query path %q", path)
}

func viewTask(t ledger.Task) TaskView {
	v := TaskView{
		ID: t.ID.String(), Submitter: t.Submitter.String(), Kind: t.Spec.Kind,
		Model: t.Spec.Model.Name, ModelDigest: hex.EncodeToString(t.Spec.Model.Digest[:]),
		Prompt: t.Spec.Prompt, Seed: t.Spec.Seed, Params: t.Spec.Params,
		Replicas: t.Spec.Replicas, Tolerance: t.Spec.Tolerance, FingerprintLen: t.Spec.FingerprintLen, Rule: t.Spec.Rule.String(), Fee: t.Spec.Fee,
		Status: t.Status.String(), Round: t.Round, SubmittedAt: t.SubmittedAt, AssignedAt: t.AssignedAt,
		CommitBy: t.CommitDeadline, RevealBy: t.RevealDeadline, SettledAt: t.SettledAt,
		Support: t.Support, Need: t.Need, Reason: t.Reason,
	}
	if t.Value != nil {
		v.Value = hex.EncodeToString(t.Value)
	}
	v.Verify = t.Spec.Verify
	v.SpotPPM = t.Spec.SpotPPM
	if sp := t.Spot; t.Spec.SpotPPM != 0 || sp != (ledger.SpotState{}) {
		v.Spot = &sp
	}
	if t.Spec.Verify == ledger.VerifySegments || t.Spec.Verify == ledger.VerifyTrajectory {
		seg := t.Spec.Segment
		v.Segment, v.SegmentRand, v.Dispute = &seg, hex.EncodeToString(t.SegmentRand[:]), t.Dispute
	}
	for _, e := range t.Executors {
		ev := ExecutorView{Node: e.Node.String(), Committed: e.Committed, Revealed: e.Revealed, Outcome: e.Outcome.String(),
			VoteCommitted: e.VoteCommitted, Voted: e.Voted, Valid: e.Valid, Unsure: e.Unsure}
		if e.Committed {
			ev.Commitment = hex.EncodeToString(e.Commitment[:])
		}
		if e.Fingerprint != nil {
			ev.Fingerprint = hex.EncodeToString(e.Fingerprint)
		}
		if e.Revealed {
			ev.Artifact = hex.EncodeToString(e.Artifact[:])
		}
		v.Executors = append(v.Executors, ev)
	}
	return v
}

func viewNode(n ledger.Node) NodeView {
	v := NodeView{Key: n.Key.String(), Stake: n.Stake, Engines: n.Engines, Hardware: n.Hardware, Class: n.Class, Addrs: n.Addrs, Open: n.Open,
		Capacity: n.Capacity, Missed: n.Missed, Jailed: n.Jailed, Dark: n.Dark, Pending: len(n.Pending), Kinds: n.Kinds, Record: n.Record}
	for _, m := range n.Models {
		v.Models = append(v.Models, m.Name+"@"+hex.EncodeToString(m.Digest[:]))
	}
	return v
}

// Event attribute keys.
const (
	attrTask, attrRound, attrNode, attrNodes = "task", "round", "node", "nodes"
	attrAmount, attrReason, attrValue        = "amount", "reason", "value"
	attrSupport, attrNeed                    = "support", "need"
	attrCommitBy, attrRevealBy               = "commit_deadline", "reveal_deadline"
)

func ledgerEvents(evs []ledger.Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		ev := Event{Type: e.Type.String()}
		add := func(k, v string) { ev.Attributes = append(ev.Attributes, Attribute{k, v}) }
		if e.Task != (ledger.TaskID{}) {
			add(attrTask, e.Task.String())
		}
		add(attrRound, strconv.Itoa(int(e.Round)))
		if e.Node != (ledger.PubKey{}) {
			add(attrNode, e.Node.String())
		}
		if len(e.Nodes) > 0 {
			keys := make([]string, len(e.Nodes))
			for i, k := range e.Nodes {
				keys[i] = k.String()
			}
			add(attrNodes, strings.Join(keys, ","))
		}
		if e.Amount != 0 {
			add(attrAmount, strconv.FormatUint(e.Amount, 10))
		}
		if e.Reason != "" {
			add(attrReason, e.Reason)
		}
		if e.Value != nil {
			add(attrValue, hex.EncodeToString(e.Value))
		}
		if e.Need != 0 || e.Support != 0 {
			add(attrSupport, strconv.FormatUint(uint64(e.Support), 10))
			add(attrNeed, strconv.FormatUint(uint64(e.Need), 10))
		}
		if e.CommitDeadline != 0 {
			add(attrCommitBy, strconv.FormatUint(e.CommitDeadline, 10))
			add(attrRevealBy, strconv.FormatUint(e.RevealDeadline, 10))
		}
		out = append(out, ev)
	}
	return out
}

// ParseLedgerEvent turns an ABCI event emitted by Ledger back into a ledger.Event. It reports
// false for events of other origins (CometBFT's own, such as "tx").
func ParseLedgerEvent(e abci.Event) (ledger.Event, bool) {
	var out ledger.Event
	for t := ledger.EventType(1); ; t++ {
		name := t.String()
		if strings.HasPrefix(name, "EventType(") {
			return out, false
		}
		if name == e.Type {
			out.Type = t
			break
		}
	}
	key32 := func(s string) [32]byte {
		var k [32]byte
		b, err := hex.DecodeString(s)
		if err == nil && len(b) == 32 {
			copy(k[:], b)
		}
		return k
	}
	for _, a := range e.Attributes {
		switch a.Key {
		case attrTask:
			out.Task = key32(a.Value)
		case attrRound:
			r, _ := strconv.Atoi(a.Value)
			out.Round = uint8(r)
		case attrNode:
			out.Node = key32(a.Value)
		case attrNodes:
			for _, s := range strings.Split(a.Value, ",") {
				out.Nodes = append(out.Nodes, key32(s))
			}
		case attrAmount:
			out.Amount, _ = strconv.ParseUint(a.Value, 10, 64)
		case attrReason:
			out.Reason = a.Value
		case attrValue:
			out.Value, _ = hex.DecodeString(a.Value)
		case attrSupport:
			v, _ := strconv.ParseUint(a.Value, 10, 32)
			out.Support = uint32(v)
		case attrNeed:
			v, _ := strconv.ParseUint(a.Value, 10, 32)
			out.Need = uint32(v)
		case attrCommitBy:
			out.CommitDeadline, _ = strconv.ParseUint(a.Value, 10, 64)
		case attrRevealBy:
			out.RevealDeadline, _ = strconv.ParseUint(a.Value, 10, 64)
		}
	}
	return out, true
}
