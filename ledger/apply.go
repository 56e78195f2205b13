package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/genquorum/genquorum/quorum"
)

// Block is the input of FinalizeBlock: everything a state transition may depend on besides
// the previous state.
type Block struct {
	Height uint64   // must be the previous height + 1
	Rand   [32]byte // randomness agreed by consensus (the block hash)
	// Time is the block's consensus timestamp in milliseconds since the Unix epoch (CometBFT's
	// BFT time, monotonic across blocks). Only windows' wall-time floors read it.
	Time uint64
	Txs  [][]byte // raw transactions in block order
}

// TxResult is the outcome of one transaction: Code 0 and Events when accepted; a non-zero
// Code and Err (wrapping a sentinel) when rejected, in which case the state is unchanged.
type TxResult struct {
	Code   uint32
	Err    error
	Events []Event
}

// BlockResult is the outcome of a block.
type BlockResult struct {
	TxResults []TxResult // one per transaction, in order
	Events    []Event    // end-of-block effects: deadlines passed, settlements
	AppHash   [32]byte
}

// ErrBlockOrder reports a FinalizeBlock out of sequence (a bug in the caller).
var ErrBlockOrder = errors.New("ledger: block out of order")

// FinalizeBlock applies a block and returns the results and the new app hash. The first
// block after genesis has height 1 (CometBFT's default initial_height). The result
// depends only on the previous state and b. Transactions are applied in order; a rejected one
// changes nothing. After the transactions, tasks whose windows end at this height are closed
// or settled, in ascending task ID order.
//
// Signatures of transactions found in cache (put there by CheckTx) are not verified again;
// cache may be nil. The block is applied to the in-memory state, which becomes the committed
// state at Commit; a caller that must abandon a finalized block restores the state it saved.
func (s *State) FinalizeBlock(b Block, cache *SigCache) (BlockResult, error) {
	if s.pending {
		return BlockResult{}, fmt.Errorf("%w: height %d finalized but not committed", ErrBlockOrder, s.height)
	}
	if b.Height != s.height+1 {
		return BlockResult{}, fmt.Errorf("%w: got height %d, want %d", ErrBlockOrder, b.Height, s.height+1)
	}
	s.beginBlock(b)
	res := BlockResult{TxResults: make([]TxResult, len(b.Txs))}
	for i, raw := range b.Txs {
		res.TxResults[i] = s.deliverTx(raw, cache)
	}
	s.endBlock(&res.Events)
	res.AppHash = s.fold()
	return res, nil
}

func (s *State) beginBlock(b Block) {
	s.height = b.Height
	s.rand = b.Rand
	s.now = b.Time
	s.pending = true
}

func (s *State) deliverTx(raw []byte, cache *SigCache) TxResult {
	var pre, ev []Event // pre: effects of admission, which stand whatever the body does
	err := s.deliver(raw, cache, &pre, &ev)
	if err != nil {
		ev = nil
	}
	return TxResult{Code: Code(err), Err: err, Events: append(pre, ev...)}
}

// Commit marks the finalized block as committed. The caller persists MarshalState (or the
// block) before answering CometBFT's Commit.
func (s *State) Commit() error {
	if !s.pending {
		return fmt.Errorf("%w: commit without a finalized block", ErrBlockOrder)
	}
	s.pending = false
	return nil
}

// deliver applies one transaction. A transaction is admitted when it decodes, its signature
// verifies, its signer has an account, its nonce is unused and the balance covers TxFee
// (admit); an admitted transaction uses its nonce and pays TxFee even if its body then fails.
// A body that fails changes nothing else: every handler checks all its conditions before it
// writes anything. A transaction that is not admitted changes nothing at all. An admitted
// transaction of a node is a sign of life: the node's deferred no-reveal slashes are charged
// (their events go to pre, kept even when the body fails) before the body runs.
func (s *State) deliver(raw []byte, cache *SigCache, pre, ev *[]Event) error {
	tx, err := DecodeTx(raw)
	if err != nil {
		return err
	}
	if !cache.take(s.chainID, TxHash(raw)) {
		if err := verifySignature(s.chainID, raw); err != nil {
			return err
		}
	}
	if err := s.admit(tx); err != nil {
		return err
	}
	a := s.account(tx.Signer)
	a.useNonce(tx.Nonce)
	if s.params.TxFee > 0 {
		a.Balance -= s.params.TxFee
		s.burned += s.params.TxFee
		s.touch(kindMeta, [32]byte{})
	}
	if nd := s.nodes[tx.Signer]; nd != nil {
		s.alive(nd, pre)
	}
	switch b := tx.Body.(type) {
	case *Transfer:
		err = s.transfer(tx, b)
	case *RegisterNode:
		err = s.register(tx, b, ev)
	case *Unbond:
		err = s.unbond(tx, b, ev)
	case *SubmitTask:
		err = s.submit(tx, b, ev)
	case *Commit:
		err = s.commit(tx, b, ev)
	case *Reveal:
		err = s.reveal(tx, b, ev)
	case *Batch:
		s.batch(tx, b, ev)
	case *SubmitBatch:
		s.submitBatch(tx, b, ev)
	case *Unjail:
		err = s.unjail(tx, ev)
	case *Vote:
		err = s.vote(tx, b, ev)
	case *Bisect:
		err = s.bisect(tx, b, ev)
	case *VoteCommit:
		err = s.voteCommit(tx, b, ev)
	default:
		panic(fmt.Sprintf("ledger: unhandled body %T", b))
	}
	return err
}

// admit checks what makes a transaction pay its fee: the signer's account exists, the nonce
// is unused and the balance covers TxFee.
func (s *State) admit(tx *Tx) error {
	a := s.accounts[tx.Signer]
	if a == nil {
		return fmt.Errorf("%w: %v", ErrUnknownAccount, tx.Signer)
	}
	if err := a.checkNonce(tx.Nonce); err != nil {
		return err
	}
	if a.Balance < s.params.TxFee {
		return fmt.Errorf("%w: balance %d, transaction fee %d", ErrInsufficientFunds, a.Balance, s.params.TxFee)
	}
	return nil
}

// batch applies a Batch's commitments, then its reveals; a failing item is reported by an
// EventItemRejected (Amount: its code, Reason: the error) and skipped.
func (s *State) batch(tx *Tx, b *Batch, ev *[]Event) {
	one := func(task TaskID, f func(*[]Event) error) {
		var sub []Event
		if err := f(&sub); err != nil {
			*ev = append(*ev, Event{Type: EventItemRejected, Task: task, Node: tx.Signer, Amount: uint64(Code(err)), Reason: err.Error()})
			return
		}
		*ev = append(*ev, sub...)
	}
	for i := range b.Commits {
		c := &b.Commits[i]
		one(c.Task, func(e *[]Event) error { return s.commit(tx, c, e) })
	}
	for i := range b.Reveals {
		r := &b.Reveals[i]
		one(r.Task, func(e *[]Event) error { return s.reveal(tx, r, e) })
	}
}

// submitBatch applies a SubmitBatch's tasks in order, item i as task BatchTaskID(signer,
// nonce, i); a failing item is reported by an EventItemRejected and skipped.
func (s *State) submitBatch(tx *Tx, b *SubmitBatch, ev *[]Event) {
	for i := range b.Tasks {
		id := BatchTaskID(tx.Signer, tx.Nonce, i)
		var sub []Event
		if err := s.submitAs(tx, &b.Tasks[i], id, &sub); err != nil {
			*ev = append(*ev, Event{Type: EventItemRejected, Task: id, Node: tx.Signer, Amount: uint64(Code(err)), Reason: err.Error()})
			continue
		}
		*ev = append(*ev, sub...)
	}
}

func (s *State) unjail(tx *Tx, ev *[]Event) error {
	n := s.nodes[tx.Signer]
	if n == nil {
		return fmt.Errorf("%w: %v", ErrUnknownNode, tx.Signer)
	}
	if !n.Jailed {
		return fmt.Errorf("%w: node %v is not jailed", ErrJail, tx.Signer)
	}
	n.Jailed, n.Missed = false, 0
	s.touch(kindNode, n.Key)
	*ev = append(*ev, Event{Type: EventUnjailed, Node: n.Key})
	return nil
}

// account returns the account of k, creating it, and marks it changed.
func (s *State) account(k PubKey) *Account {
	a := s.accounts[k]
	if a == nil {
		a = &Account{}
		s.accounts[k] = a
	}
	s.touch(kindAccount, k)
	return a
}

func (s *State) balance(k PubKey) uint64 {
	if a := s.accounts[k]; a != nil {
		return a.Balance
	}
	return 0
}

func (s *State) transfer(tx *Tx, b *Transfer) error {
	if bal := s.balance(tx.Signer); bal < b.Amount {
		return fmt.Errorf("%w: balance %d, transfer %d", ErrInsufficientFunds, bal, b.Amount)
	}
	s.account(tx.Signer).Balance -= b.Amount
	to := s.account(b.To)
	if to.Balance+b.Amount < to.Balance {
		panic("ledger: balance overflow") // total supply is fixed at genesis, below 2^64
	}
	to.Balance += b.Amount
	return nil
}

func (s *State) register(tx *Tx, b *RegisterNode, ev *[]Event) error {
	if bal := s.balance(tx.Signer); bal < b.Stake {
		return fmt.Errorf("%w: balance %d, stake %d", ErrInsufficientFunds, bal, b.Stake)
	}
	n := s.nodes[tx.Signer]
	var stake uint64
	if n != nil {
		stake = n.Stake
	}
	if stake+b.Stake < s.params.MinStake {
		return fmt.Errorf("%w: stake %d below minimum %d", ErrStake, stake+b.Stake, s.params.MinStake)
	}
	if n == nil {
		n = &Node{Key: tx.Signer, RegisteredAt: s.height}
		s.nodes[tx.Signer] = n
		i, _ := slices.BinarySearchFunc(s.nodeKeys, tx.Signer, func(a, b PubKey) int { return compareKeys(a, b) })
		s.nodeKeys = slices.Insert(s.nodeKeys, i, tx.Signer)
	}
	s.account(tx.Signer).Balance -= b.Stake
	n.Stake += b.Stake
	n.Engines = slices.Clone(b.Engines)
	n.Models = slices.Clone(b.Models)
	n.Hardware, n.Class = b.Hardware, b.Class
	n.Addrs = slices.Clone(b.Addrs)
	n.Capacity = b.Capacity
	n.Kinds = slices.Clone(b.Kinds)
	s.touch(kindNode, n.Key)
	*ev = append(*ev, Event{Type: EventNodeRegistered, Node: n.Key, Amount: n.Stake})
	return nil
}

func (s *State) unbond(tx *Tx, b *Unbond, ev *[]Event) error {
	n := s.nodes[tx.Signer]
	if n == nil {
		return fmt.Errorf("%w: %v", ErrUnknownNode, tx.Signer)
	}
	if b.Amount > n.Stake {
		return fmt.Errorf("%w: unbond %d of stake %d", ErrStake, b.Amount, n.Stake)
	}
	if n.Open > 0 && n.Stake-b.Amount < s.params.MinStake {
		return fmt.Errorf("%w: %d open assignments need stake %d, unbond would leave %d",
			ErrStake, n.Open, s.params.MinStake, n.Stake-b.Amount)
	}
	n.Stake -= b.Amount
	s.touch(kindNode, n.Key)
	s.account(tx.Signer).Balance += b.Amount
	*ev = append(*ev, Event{Type: EventUnbonded, Node: n.Key, Amount: b.Amount})
	return nil
}

func (s *State) submit(tx *Tx, b *SubmitTask, ev *[]Event) error {
	return s.submitAs(tx, b, TaskIDFor(tx.Signer, tx.Nonce), ev)
}

// submitAs is submit with the task's ID given (a single submission's or a batch item's).
func (s *State) submitAs(tx *Tx, b *SubmitTask, id TaskID, ev *[]Event) error {
	if b.Replicas > s.params.MaxReplicas || b.MaxReplicas > s.params.MaxReplicas {
		return fmt.Errorf("%w: replicas %d (max %d) over the chain's limit %d", ErrInvalidTask,
			b.Replicas, b.MaxReplicas, s.params.MaxReplicas)
	}
	if bal := s.balance(tx.Signer); bal < b.Fee {
		return fmt.Errorf("%w: balance %d, fee %d", ErrInsufficientFunds, bal, b.Fee)
	}
	if err := s.checkPolicy(b); err != nil {
		return err
	}
	if _, ok := s.tasks[id]; ok {
		panic("ledger: task ID reused") // each nonce is accepted at most once, and IDs hash it
	}
	if err := s.checkSpot(b); err != nil {
		return err
	}
	cands, err := s.candidates(b.Model, b.Kind, tx.Signer, int(b.Replicas))
	if err != nil {
		return err
	}
	s.account(tx.Signer).Balance -= b.Fee
	t := &Task{ID: id, Submitter: tx.Signer, Spec: *b, SubmittedAt: s.height}
	t.specDigest = specDigest(&t.Spec)
	s.tasks[id] = t
	s.assign(t, cands, int(b.Replicas), ev)
	return nil
}

// eligible returns the nodes that may execute a task of kind for model submitted by
// submitter, in key order: running kind on the model, staked at least MinStake, not jailed,
// under their capacity, not the submitter.
func (s *State) eligible(model Model, kind string, submitter PubKey) []*Node {
	var c []*Node
	for _, k := range s.nodeKeys {
		n := s.nodes[k]
		if k != submitter && n.free(s.params.MinStake) && n.runs(model, kind) {
			c = append(c, n)
		}
	}
	return c
}

// candidates returns the eligible nodes for a task of kind needing replicas executors, or
// ErrNoCapacity when enough nodes run the kind on the model but too few are free (busy or
// jailed), ErrKindNotServed when enough nodes serve the model but too few run the kind on it,
// or ErrNotEnoughNodes when too few serve the model at all.
func (s *State) candidates(model Model, kind string, submitter PubKey, replicas int) ([]*Node, error) {
	cands := s.eligible(model, kind, submitter)
	if len(cands) >= replicas {
		return cands, nil
	}
	serving, running := 0, 0
	for _, k := range s.nodeKeys {
		if n := s.nodes[k]; k != submitter && n.Stake >= s.params.MinStake && n.serves(model) {
			serving++
			if n.runs(model, kind) {
				running++
			}
		}
	}
	switch {
	case running >= replicas:
		return nil, fmt.Errorf("%w: %d of %d nodes running %s tasks on %v are free (not jailed, under capacity), %d replicas asked; retry later",
			ErrNoCapacity, len(cands), running, kind, model, replicas)
	case serving >= replicas:
		return nil, fmt.Errorf("%w: %d nodes serve %v but %d run %q tasks on it, %d replicas asked", ErrKindNotServed,
			serving, model, running, kind, replicas)
	}
	return nil, fmt.Errorf("%w: %d eligible for %v, %d replicas asked", ErrNotEnoughNodes, serving, model, replicas)
}

// assign picks n executors among cands by stake (drawByStake, domain "genquorum/assign/v1"),
// starts a round at the current height and schedules its deadlines. len(cands) >= n.
func (s *State) assign(t *Task, cands []*Node, n int, ev *[]Event) {
	t.Executors = make([]Executor, 0, n)
	t.Spot.From = 0
	s.openRound(t, s.drawByStake("genquorum/assign/v1", t, cands, n), ev)
}

// drawByStake draws k of cands by stake, without replacement, integers only. Draw i (0-based)
// hashes r_i = SHA-256(domain || block rand || task ID || round || u32 i) and takes the
// candidate stakePick maps it to among those not drawn yet. len(cands) >= k.
func (s *State) drawByStake(domain string, t *Task, cands []*Node, k int) []*Node {
	pool := slices.Clone(cands)
	var total uint64
	for _, c := range pool {
		total += c.Stake
	}
	msg := make([]byte, 0, len(domain)+32+32+1+4)
	msg = append(msg, domain...)
	msg = append(msg, s.rand[:]...)
	msg = append(msg, t.ID[:]...)
	msg = append(msg, t.Round, 0, 0, 0, 0)
	picks := make([]*Node, k)
	for i := range k {
		binary.BigEndian.PutUint32(msg[len(msg)-4:], uint32(i))
		j := stakePick(pool, total, sha256.Sum256(msg))
		picks[i] = pool[j]
		total -= pool[j].Stake
		pool = slices.Delete(pool, j, j+1)
	}
	return picks
}

// stakePick maps the hash r to a member of pool by stake: x = the first 8 bytes of r
// big-endian, mapped to [0, W) as floor(x * W / 2^64) where W = total, the pool's stake, and
// the member whose cumulative stake interval (in pool order) holds x. len(pool) > 0.
func stakePick(pool []*Node, total uint64, r [32]byte) int {
	x, _ := bits.Mul64(binary.BigEndian.Uint64(r[:8]), total)
	j := 0
	for ; j < len(pool)-1 && x >= pool[j].Stake; j++ {
		x -= pool[j].Stake
	}
	return j
}

// openRound appends picks to t's executors (counting each as open and assigned), opens the
// commit window at the current height (reveals follow it), schedules both deadlines and
// emits EventTaskAssigned for the picks. It returns their keys.
func (s *State) openRound(t *Task, picks []*Node, ev *[]Event) []PubKey {
	nodes := make([]PubKey, len(picks))
	for i, pick := range picks {
		t.Executors = append(t.Executors, Executor{Node: pick.Key})
		nodes[i] = pick.Key
		pick.Open++
		pick.Record.Assigned++
		s.touch(kindNode, pick.Key)
	}
	t.Status = StatusCommit
	t.AssignedAt, t.AssignedTime, t.ClosedTime = s.height, s.now, 0
	t.CommitDeadline = s.height + s.params.CommitWindow
	t.RevealDeadline = t.CommitDeadline + s.params.RevealWindow
	t.CommitClosedAt = 0
	s.addDue(t.CommitDeadline, t.ID)
	s.addDue(t.RevealDeadline, t.ID)
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventTaskAssigned, Task: t.ID, Round: t.Round, Nodes: slices.Clone(nodes),
		CommitDeadline: t.CommitDeadline, RevealDeadline: t.RevealDeadline})
	return nodes
}

// openTask returns the task and the signer's executor index for a commit or reveal.
func (s *State) openTask(id TaskID, signer PubKey) (*Task, int, error) {
	t := s.tasks[id]
	if t == nil {
		return nil, -1, fmt.Errorf("%w: %v", ErrUnknownTask, id)
	}
	if t.Status.Settled() {
		return nil, -1, fmt.Errorf("%w: task %v settled at height %d", ErrTaskClosed, id, t.SettledAt)
	}
	i := t.executor(signer)
	if i < 0 {
		return nil, -1, fmt.Errorf("%w: task %v round %d", ErrNotAssigned, id, t.Round)
	}
	return t, i, nil
}

func (s *State) commit(tx *Tx, b *Commit, ev *[]Event) error {
	t, i, err := s.openTask(b.Task, tx.Signer)
	if err != nil {
		return err
	}
	if t.Status != StatusCommit {
		return fmt.Errorf("%w: task %v closed commitments at height %d", ErrCommitClosed, t.ID, t.CommitClosedAt)
	}
	x := &t.Executors[i]
	if x.Committed {
		return fmt.Errorf("%w: task %v", ErrAlreadyCommitted, t.ID)
	}
	if t.Spec.oneCommitter() && i != 0 {
		return fmt.Errorf("%w: task %v: only the trainer or generator (executor 0) commits; verifiers vote", ErrNotCommitted, t.ID)
	}
	if err := t.mayCommit(i); err != nil {
		return err
	}
	x.Committed, x.Commitment = true, b.Commitment
	*ev = append(*ev, Event{Type: EventCommitted, Task: t.ID, Round: t.Round, Node: tx.Signer})
	var same []PubKey
	all := true
	for j := range t.Executors {
		y := &t.Executors[j]
		if j != i && y.Committed && y.Commitment == b.Commitment {
			y.Duplicate, x.Duplicate = true, true
			same = append(same, y.Node)
		}
		all = all && !t.waitsCommit(j)
	}
	if same != nil {
		*ev = append(*ev, Event{Type: EventDuplicateCommitment, Task: t.ID, Round: t.Round, Node: tx.Signer, Nodes: same})
	}
	s.touch(kindTask, t.ID)
	if all {
		s.closeCommits(t, ev)
	}
	return nil
}

// closeCommits ends the commit window at the current height. The reveal window is RevealWindow
// blocks from here: a window that closed early (every executor committed) brings the reveal
// deadline forward, so that one executor that never reveals delays the verdict by RevealWindow
// blocks, not by what was left of the commit window as well.
func (s *State) closeCommits(t *Task, ev *[]Event) {
	if s.holdForDraw(t, ev) {
		return
	}
	t.Status = StatusReveal
	t.CommitClosedAt, t.ClosedTime = s.height, s.now
	if d := s.height + s.params.RevealWindow; d < t.RevealDeadline {
		t.RevealDeadline = d
		s.addDue(d, t.ID)
	}
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventRevealOpen, Task: t.ID, Round: t.Round, RevealDeadline: t.RevealDeadline})
}

func (s *State) reveal(tx *Tx, b *Reveal, ev *[]Event) error {
	t, i, err := s.openTask(b.Task, tx.Signer)
	if err != nil {
		return err
	}
	x := &t.Executors[i]
	switch {
	case !x.Committed:
		return fmt.Errorf("%w: task %v", ErrNotCommitted, t.ID)
	case t.Status == StatusCommit:
		return fmt.Errorf("%w: task %v commit window open until height %d", ErrRevealTooEarly, t.ID, t.CommitDeadline)
	case t.Status == StatusSpotDraw:
		return fmt.Errorf("%w: task %v waits for its spot-check draw at height %d", ErrRevealTooEarly, t.ID, t.Spot.DrawAt)
	case t.CommitClosedAt == s.height:
		return fmt.Errorf("%w: task %v commit window closed in this block, reveal from height %d", ErrRevealTooEarly, t.ID, s.height+1)
	case x.Revealed:
		return fmt.Errorf("%w: task %v", ErrAlreadyRevealed, t.ID)
	case len(b.Fingerprint) != int(t.Spec.FingerprintLen):
		return fmt.Errorf("%w: %d bytes, task %v wants %d", ErrFingerprintLength, len(b.Fingerprint), t.ID, t.Spec.FingerprintLen)
	case CommitmentFor(t.ID, tx.Signer, b.Fingerprint, b.Salt) != x.Commitment:
		return fmt.Errorf("%w: task %v", ErrCommitmentMismatch, t.ID)
	}
	x.Revealed, x.Fingerprint, x.Artifact = true, slices.Clone(b.Fingerprint), b.Artifact
	s.touch(kindTask, t.ID)
	*ev = append(*ev, Event{Type: EventRevealed, Task: t.ID, Round: t.Round, Node: tx.Signer})
	for j := range t.Executors {
		if y := &t.Executors[j]; y.Committed && !y.Revealed {
			return nil
		}
	}
	s.settle(t, ev) // everyone who committed has revealed: no reason to wait
	return nil
}

// endBlock closes the commit windows and settles the tasks whose deadlines are this height.
func (s *State) endBlock(ev *[]Event) {
	ids := s.due[s.height]
	delete(s.due, s.height)
	slices.SortFunc(ids, func(a, b TaskID) int { return compareKeys(a, b) })
	ids = slices.Compact(ids)
	for _, id := range ids {
		t := s.tasks[id]
		if t == nil { // pruned after it settled early
			continue
		}
		switch {
		case t.Status == StatusCommit && t.CommitDeadline == s.height && s.now < t.AssignedTime+s.params.MinCommitMillis:
			// Blocks came faster than the window's wall-time floor: keep it open one more block.
			t.CommitDeadline = s.height + 1
			t.RevealDeadline = t.CommitDeadline + s.params.RevealWindow
			s.addDue(t.CommitDeadline, t.ID)
			s.addDue(t.RevealDeadline, t.ID)
			s.touch(kindTask, t.ID)
		case t.Status == StatusReveal && t.RevealDeadline == s.height && s.now < t.ClosedTime+s.params.MinRevealMillis:
			t.RevealDeadline = s.height + 1
			s.addDue(t.RevealDeadline, t.ID)
			s.touch(kindTask, t.ID)
		case t.Status == StatusCommit && t.CommitDeadline == s.height:
			committed := false
			for j := range t.Executors {
				committed = committed || t.Executors[j].Committed
			}
			if !committed { // nothing can be revealed: settle now
				t.CommitClosedAt = s.height
				s.settle(t, ev)
				continue
			}
			s.closeCommits(t, ev)
		case t.Status == StatusReveal && t.RevealDeadline == s.height:
			s.settle(t, ev)
		case t.Status == StatusSpotDraw && t.Spot.DrawAt == s.height:
			s.spotDraw(t, ev)
		case t.CheckDeadline == s.height && (t.Status == StatusCheck || t.Status == StatusSegments) && s.now < t.ClosedTime+s.params.MinCommitMillis,
			t.CheckDeadline == s.height && (t.Status == StatusCheckReveal || t.Status == StatusSegmentsReveal) && s.now < t.ClosedTime+s.params.MinRevealMillis:
			// The vote windows have the same wall-time floors as the outputs'.
			t.CheckDeadline = s.height + 1
			s.addDue(t.CheckDeadline, t.ID)
			s.touch(kindTask, t.ID)
		case t.CheckDeadline == s.height && (t.Status == StatusCheck || t.Status == StatusCheckReveal ||
			t.Status == StatusSegments || t.Status == StatusSegmentsReveal):
			s.endCheck(t, ev)
		case t.Status == StatusDispute && t.Dispute.Deadline == s.height:
			s.disputeTimeout(t, ev)
		}
	}
	s.pruneTasks()
}

// settle decides the current round of t, pays and slashes its executors, and then either
// records the verdict, starts an adaptive second round, or refunds the fee.
func (s *State) settle(t *Task, ev *[]Event) {
	if s.openSegments(t, ev) {
		return
	}
	if s.openCheck(t, ev) {
		return
	}
	var fps [][]byte
	var who []int
	for j := range t.Executors {
		if x := &t.Executors[j]; x.Revealed {
			fps = append(fps, x.Fingerprint)
			who = append(who, j)
		}
	}
	n := len(t.Executors)
	reason := ""
	var v quorum.Verdict
	if len(fps) == 0 {
		reason = ReasonNoReveals
		v.Need = int(ruleNeed(t.Spec.Rule, n))
	} else {
		var err error
		v, err = s.decideTask(t, fps, n)
		switch {
		case err != nil: // cannot happen: lengths, rule and tolerance were checked
			reason = ReasonQuorumError + ": " + err.Error()
		case !v.Accepted:
			reason = ReasonNoQuorum
		}
	}
	if reason == "" && s.escalate(t, v, fps, ev) {
		return // more verifiers commit and reveal; the round settles over all its executors
	}
	agreeing := make([]bool, n)
	if reason == "" {
		for _, k := range v.Agreeing {
			agreeing[who[k]] = true
		}
	}
	var agreed []PubKey
	var slashes []Event // reported after the verdict
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
			s.noReveal(t, nd, &slashes)
		case reason != "":
			x.Outcome = OutcomeUndecided
			nd.Record.Undecided++
		case agreeing[j]:
			x.Outcome = OutcomeAgreed
			nd.Record.Agreed++
			agreed = append(agreed, x.Node)
		default:
			x.Outcome = OutcomeOutlier
			nd.Record.Outliers++
			s.slash(t, nd, s.params.SlashOutlierBPS, ReasonOutlier, &slashes)
		}
		s.worked(nd, x.Revealed)
		nd.Open--
		s.touch(kindNode, nd.Key)
	}
	t.Support, t.Need = uint32(v.Support), uint32(v.Need)
	s.touch(kindTask, t.ID)
	if reason == "" {
		t.Status, t.SettledAt, t.Value = StatusAccepted, s.height, v.Value
		s.settled(t)
		if bytes.Equal(v.Value, UnrunnableFingerprint(t.ID, t.Spec.FingerprintLen)) {
			t.Reason = ReasonUnrunnable
		}
		t.Reason = t.spotReason(t.Reason)
		*ev = append(*ev, Event{Type: EventVerdict, Task: t.ID, Round: t.Round, Value: slices.Clone(v.Value),
			Support: t.Support, Need: t.Need, Nodes: agreed})
		*ev = append(*ev, slashes...)
		s.payShares(t, agreed, ev)
		return
	}
	// Adaptive replication: one more round with more executors, if the submitter allowed it.
	var cands []*Node
	next := max(2*n-1, n+1)
	retry := t.Round == 0 && next <= int(t.Spec.MaxReplicas)
	if retry {
		if cands = s.eligible(t.Spec.Model, t.Spec.Kind, t.Submitter); len(cands) < next {
			retry = false
			reason += "; second round: " + ReasonNotEnough
		}
	}
	*ev = append(*ev, Event{Type: EventNoVerdict, Task: t.ID, Round: t.Round, Support: t.Support, Need: t.Need, Reason: reason})
	*ev = append(*ev, slashes...)
	if retry {
		t.Round++
		s.assign(t, cands, next, ev)
		return
	}
	t.Status, t.SettledAt, t.Reason = StatusNoVerdict, s.height, reason
	s.settled(t)
	s.refund(t, t.Spec.Fee, ev)
}

// missed handles an executor that did not commit: the per-task SlashNoCommitBPS without
// jailing (JailAfterMisses 0); with jailing, no per-task slash, and the miss counts towards
// jailing (see miss).
func (s *State) missed(t *Task, nd *Node, ev *[]Event) {
	if s.params.JailAfterMisses == 0 {
		s.slash(t, nd, s.params.SlashNoCommitBPS, ReasonNoCommit, ev)
		return
	}
	s.miss(t, nd, ev)
}

// noReveal handles an executor that committed and did not reveal. Without jailing it is
// slashed SlashNoRevealBPS at once. With jailing the ledger cannot tell a node that is down
// from one that withholds its reveal, so: a node that is Dark (jailed and silent since) is
// down and the slash is waived; otherwise the slash is deferred (Pending) until the node's
// next admitted transaction, which shows it alive and charges it (alive), and the miss
// counts towards jailing, which waives the deferred slashes of the silence it ends.
func (s *State) noReveal(t *Task, nd *Node, ev *[]Event) { s.silent(t, nd, ReasonNoReveal, ev) }

// noVote handles an executor that revealed but gave no vote in a check round, or a
// verifier of a training task that did not vote on its segments: a node that died between
// its reveal and its vote looks the same as one that keeps its vote back, so it is treated
// as a missed reveal (deferred, waived by jailing), with reason ReasonNoVote.
func (s *State) noVote(t *Task, nd *Node, ev *[]Event) { s.silent(t, nd, ReasonNoVote, ev) }

// silent is noReveal and noVote: reason names what was missed.
func (s *State) silent(t *Task, nd *Node, reason string, ev *[]Event) {
	if s.params.JailAfterMisses == 0 {
		s.slash(t, nd, s.params.SlashNoRevealBPS, reason, ev)
		return
	}
	s.touch(kindNode, nd.Key)
	if nd.Dark {
		nd.Record.Waived++
		*ev = append(*ev, Event{Type: EventSlashWaived, Task: t.ID, Node: nd.Key, Reason: ReasonWaivedDown})
		return
	}
	nd.Pending = append(nd.Pending, t.ID)
	*ev = append(*ev, Event{Type: EventSlashDeferred, Task: t.ID, Node: nd.Key, Reason: reason})
	s.miss(t, nd, ev)
}

// miss counts an assignment that ended without the node's work (JailAfterMisses > 0). The
// JailAfterMisses-th miss in a row jails the node: it is Dark (silent since), its deferred
// no-reveal slashes are waived, and it is slashed once: SlashJailBPS, or SlashNoRevealBPS if
// that is larger and at least one no-reveal slash was waived, so that going silent after
// withholding a reveal never costs less than the withheld reveal would have (package doc,
// "Downtime"). A node already jailed is not jailed again.
func (s *State) miss(t *Task, nd *Node, ev *[]Event) {
	if nd.Jailed {
		return
	}
	s.touch(kindNode, nd.Key)
	nd.Missed++
	if nd.Missed < s.params.JailAfterMisses {
		return
	}
	nd.Jailed, nd.Dark = true, true
	nd.Record.Jailed++
	*ev = append(*ev, Event{Type: EventJailed, Task: t.ID, Node: nd.Key, Amount: uint64(nd.Missed)})
	bps, reason := s.params.SlashJailBPS, ReasonJailed
	if len(nd.Pending) > 0 && s.params.SlashNoRevealBPS > bps {
		bps = s.params.SlashNoRevealBPS
		reason = ReasonJailedWaiving
	}
	for _, id := range nd.Pending {
		nd.Record.Waived++
		*ev = append(*ev, Event{Type: EventSlashWaived, Task: id, Node: nd.Key, Reason: ReasonWaivedJailed})
	}
	nd.Pending = nil
	s.slash(t, nd, bps, reason, ev)
}

// worked resets nd's count of misses in a row when one of its assignments settles with its
// reveal, unless a no-reveal slash of nd is still deferred: then nd has sent nothing since
// that miss, so the reveal is older than the miss and does not break the row.
func (s *State) worked(nd *Node, revealed bool) {
	if revealed && len(nd.Pending) == 0 && nd.Missed != 0 {
		nd.Missed = 0
		s.touch(kindNode, nd.Key)
	}
}

// alive handles an admitted transaction of node nd, a sign that it is up: its deferred
// no-reveal slashes are charged, oldest first (ReasonNoRevealCharged), and it is no longer
// Dark. It changes nothing for a node with nothing deferred that is not Dark.
func (s *State) alive(nd *Node, ev *[]Event) {
	if !nd.Dark && len(nd.Pending) == 0 {
		return
	}
	nd.Dark = false
	for _, id := range nd.Pending {
		s.slashID(id, nd, s.params.SlashNoRevealBPS, ReasonNoRevealCharged, ev)
	}
	nd.Pending = nil
	s.touch(kindNode, nd.Key)
}

// payShares splits t's fee equally among agreed (non-empty), in their order (EventReward,
// Record.Earned); the remainder of the division goes back to the submitter.
func (s *State) payShares(t *Task, agreed []PubKey, ev *[]Event) {
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

func (s *State) refund(t *Task, amount uint64, ev *[]Event) {
	if amount == 0 {
		return
	}
	s.account(t.Submitter).Balance += amount
	*ev = append(*ev, Event{Type: EventRefund, Task: t.ID, Node: t.Submitter, Amount: amount})
}

// slash burns bps basis points of nd's stake (rounded down) and returns the amount taken.
func (s *State) slash(t *Task, nd *Node, bps uint32, reason string, ev *[]Event) uint64 {
	return s.slashID(t.ID, nd, bps, reason, ev)
}

// slashID is slash for a task known by its ID only (it may have been pruned).
func (s *State) slashID(task TaskID, nd *Node, bps uint32, reason string, ev *[]Event) uint64 {
	hi, lo := bits.Mul64(nd.Stake, uint64(bps))
	amt, _ := bits.Div64(hi, lo, 10000) // hi < 10000 since bps <= 10000
	if amt == 0 {
		return 0
	}
	nd.Stake -= amt
	nd.Record.Slashed += amt
	s.burned += amt
	s.touch(kindMeta, [32]byte{})
	s.touch(kindNode, nd.Key)
	*ev = append(*ev, Event{Type: EventSlash, Task: task, Node: nd.Key, Amount: amt, Reason: reason})
	return amt
}
