package ledger

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The app hash commits to the whole state without re-reading it each block. Each state entry
// (the chain's parameters, an account, a node, a task, a verification policy) is a leaf with digest
// SHA-256(kind || canonical encoding). The state's accumulator is the LtHash16 of the set of
// leaf digests (Lewi et al., "Securing Update Propagation with Homomorphic Hashing", 2019):
// each digest is expanded with SHAKE128 to 1024 16-bit words, and the accumulator is their
// component-wise sum modulo 2^16. Changing an entry subtracts its old expansion and adds the
// new one, so a block costs O(entries it changed), and since addition commutes the order in
// which changed entries are folded in cannot matter. The app hash is
// SHA-256("genquorum/apphash/v1" || accumulator as little-endian words).
//
// fullAppHash recomputes the same value from scratch (the slow twin); tests compare the two.

const (
	ltWords      = 1024
	appHashLabel = "genquorum/apphash/v1"
)

// Kinds of state entries (the first byte of an entryKey and of a leaf).
const (
	kindMeta    = 0
	kindAccount = 1
	kindNode    = 2
	kindTask    = 3
	kindPolicy  = 4 // policy.go: the key is policyKey
)

// entryKey names one state entry: a kind and a 32-byte key (zero for meta).
type entryKey [33]byte

func keyOf(kind byte, id [32]byte) entryKey {
	var k entryKey
	k[0] = kind
	copy(k[1:], id[:])
	return k
}

type ltHash [ltWords]uint16

// hasher holds the accumulator and each entry's current leaf digest.
type hasher struct {
	acc    ltHash
	leaves map[entryKey][32]byte
	shake  *sha3.SHAKE
	buf    [2 * ltWords]byte
	enc    encoder
}

func newHasher() hasher {
	return hasher{leaves: make(map[entryKey][32]byte), shake: sha3.NewSHAKE128()}
}

// expand writes the SHAKE128 expansion of d into h.buf.
func (h *hasher) expand(d [32]byte) {
	h.shake.Reset()
	h.shake.Write(d[:])
	h.shake.Read(h.buf[:])
}

func (h *hasher) add(acc *ltHash, d [32]byte) {
	h.expand(d)
	for i := range acc {
		acc[i] += binary.LittleEndian.Uint16(h.buf[2*i:])
	}
}

func (h *hasher) sub(acc *ltHash, d [32]byte) {
	h.expand(d)
	for i := range acc {
		acc[i] -= binary.LittleEndian.Uint16(h.buf[2*i:])
	}
}

func (acc *ltHash) sum() [32]byte {
	var b [len(appHashLabel) + 2*ltWords]byte
	copy(b[:], appHashLabel)
	for i, w := range acc {
		binary.LittleEndian.PutUint16(b[len(appHashLabel)+2*i:], w)
	}
	return sha256.Sum256(b[:])
}

// touch marks an entry changed in the current block.
func (s *State) touch(kind byte, id [32]byte) { s.dirty[keyOf(kind, id)] = struct{}{} }

// leafDigest returns the digest of the entry k as it is now, and false if it does not exist.
func (s *State) leafDigest(k entryKey) ([32]byte, bool) {
	e := &s.hash.enc
	e.b = append(e.b[:0], k[0])
	var id [32]byte
	copy(id[:], k[1:])
	switch k[0] {
	case kindMeta:
		s.encodeMeta(e)
	case kindAccount:
		a := s.accounts[id]
		if a == nil {
			return [32]byte{}, false
		}
		encodeAccount(e, PubKey(id), a)
	case kindNode:
		n := s.nodes[id]
		if n == nil {
			return [32]byte{}, false
		}
		encodeNode(e, n, false)
	case kindTask:
		t := s.tasks[id]
		if t == nil {
			return [32]byte{}, false
		}
		encodeTask(e, t, false)
	case kindPolicy:
		p := s.policies[id]
		if p == nil {
			return [32]byte{}, false
		}
		encodePolicy(e, p)
	default:
		panic(fmt.Sprintf("ledger: unknown entry kind %d", k[0]))
	}
	return sha256.Sum256(e.b), true
}

// fold adds the entries changed in this block to the accumulator and returns the app hash.
func (s *State) fold() [32]byte {
	h := &s.hash
	for k := range s.dirty { // order-free: the accumulator is a commutative sum
		d, ok := s.leafDigest(k)
		if old, had := h.leaves[k]; had {
			if ok && old == d {
				continue
			}
			h.sub(&h.acc, old)
			delete(h.leaves, k)
		}
		if ok {
			h.add(&h.acc, d)
			h.leaves[k] = d
		}
	}
	clear(s.dirty)
	return h.acc.sum()
}

// allKeys returns every entry's key.
func (s *State) allKeys() []entryKey {
	keys := make([]entryKey, 0, 1+len(s.accounts)+len(s.nodes)+len(s.tasks))
	keys = append(keys, keyOf(kindMeta, [32]byte{}))
	for k := range s.accounts {
		keys = append(keys, keyOf(kindAccount, k))
	}
	for k := range s.nodes {
		keys = append(keys, keyOf(kindNode, k))
	}
	for k := range s.tasks {
		keys = append(keys, keyOf(kindTask, k))
	}
	for k := range s.policies {
		keys = append(keys, keyOf(kindPolicy, k))
	}
	return keys
}

// rehash rebuilds the accumulator from every entry.
func (s *State) rehash() {
	s.hash.acc = ltHash{}
	clear(s.hash.leaves)
	clear(s.dirty)
	for _, k := range s.allKeys() {
		s.dirty[k] = struct{}{}
	}
	s.fold()
}

// AppHash returns the app hash of the state as of the last finalized block (or genesis).
func (s *State) AppHash() [32]byte {
	if len(s.dirty) != 0 {
		panic("ledger: AppHash in the middle of a block")
	}
	return s.hash.acc.sum()
}

// fullAppHash recomputes the app hash from scratch, ignoring the cached accumulator.
func (s *State) fullAppHash() [32]byte {
	var acc ltHash
	for _, k := range s.allKeys() {
		if d, ok := s.leafDigest(k); ok {
			s.hash.add(&acc, d)
		}
	}
	return acc.sum()
}

// Encodings of the entries. full selects the task's whole spec (MarshalState) instead of its
// digest (leaves).

func (s *State) encodeMeta(e *encoder) {
	e.str(s.chainID)
	encodeParams(e, s.params)
	e.u64(s.burned)
	if s.params.PruneAfter != 0 { // absent when 0: app hashes of chains without pruning unchanged
		e.u64(s.params.PruneAfter)
	}
	if p := s.params; p.SpotVerifiers != 0 || p.EscalateVerifiers != 0 || p.EscalateMarginBits != 0 { // likewise
		e.u8(spotFlag)
		encodeSpotParams(e, p)
	}
}

func encodeSpotParams(e *encoder, p Params) {
	e.u32(p.SpotVerifiers)
	e.u32(p.EscalateVerifiers)
	e.u32(p.EscalateMarginBits)
}

func encodeParams(e *encoder, p Params) {
	e.u64(p.CommitWindow)
	e.u64(p.RevealWindow)
	e.u64(p.MinStake)
	e.u32(p.MaxReplicas)
	e.u32(p.SlashOutlierBPS)
	e.u32(p.SlashNoRevealBPS)
	e.u32(p.SlashNoCommitBPS)
	e.u32(p.SlashCopyBPS)
	e.u64(p.TxFee)
	e.u64(p.MinCommitMillis)
	e.u64(p.MinRevealMillis)
	e.u32(p.JailAfterMisses)
	e.u32(p.SlashJailBPS)
}

func decodeParams(d *decoder) Params {
	return Params{
		CommitWindow: d.u64(), RevealWindow: d.u64(), MinStake: d.u64(), MaxReplicas: d.u32(),
		SlashOutlierBPS: d.u32(), SlashNoRevealBPS: d.u32(), SlashNoCommitBPS: d.u32(), SlashCopyBPS: d.u32(),
		TxFee: d.u64(), MinCommitMillis: d.u64(), MinRevealMillis: d.u64(), JailAfterMisses: d.u32(), SlashJailBPS: d.u32(),
	}
}

func encodeAccount(e *encoder, k PubKey, a *Account) {
	e.fixed(k[:])
	e.u64(a.Balance)
	e.u64(a.Nonce)
	for _, w := range a.Used {
		e.u64(w)
	}
}

// encodeNode encodes n; full (MarshalState, since v6) always writes the deferred-slash fields
// after the record, while a leaf writes them only when one is set, so chains that never
// deferred a slash keep their app hashes (the fields end the leaf, so the encoding stays
// one-to-one).
func encodeNode(e *encoder, n *Node, full bool) {
	e.fixed(n.Key[:])
	e.u64(n.Stake)
	e.strs(n.Engines)
	e.models(n.Models)
	e.str(n.Hardware)
	e.str(n.Class)
	e.strs(n.Addrs)
	e.u64(n.RegisteredAt)
	e.u32(n.Open)
	e.u32(n.Capacity)
	e.u32(n.Missed)
	e.boolean(n.Jailed)
	e.strs(n.Kinds)
	r := &n.Record
	for _, v := range [...]uint64{r.Assigned, r.Agreed, r.Outliers, r.Undecided, r.NoCommit, r.NoReveal, r.Copied, r.Earned, r.Slashed, r.Jailed} {
		e.u64(v)
	}
	if full || n.Dark || len(n.Pending) != 0 || r.Waived != 0 {
		e.boolean(n.Dark)
		e.u64(r.Waived)
		e.u32(uint32(len(n.Pending)))
		for _, id := range n.Pending {
			e.fixed(id[:])
		}
	}
}

// decodeNode reads a node of MarshalState; v6 has the deferred-slash fields.
func decodeNode(d *decoder, v6 bool) *Node {
	n := &Node{Key: d.fixed32(), Stake: d.u64()}
	n.Engines = d.strs("engines", MaxListItems, MaxNameBytes)
	n.Models = d.models("models", MaxListItems)
	n.Hardware = d.str("hardware", MaxNameBytes)
	n.Class = d.str("class", MaxNameBytes)
	n.Addrs = d.strs("addrs", MaxAddrs, MaxAddrBytes)
	n.RegisteredAt = d.u64()
	n.Open = d.u32()
	n.Capacity = d.u32()
	n.Missed = d.u32()
	n.Jailed = d.boolean("jailed")
	n.Kinds = d.strs("kinds", MaxListItems, MaxNameBytes)
	r := &n.Record
	for _, p := range [...]*uint64{&r.Assigned, &r.Agreed, &r.Outliers, &r.Undecided, &r.NoCommit, &r.NoReveal, &r.Copied, &r.Earned, &r.Slashed, &r.Jailed} {
		*p = d.u64()
	}
	if v6 {
		n.Dark = d.boolean("dark")
		r.Waived = d.u64()
		k := d.count("pending", MaxPending, 32)
		for range k {
			n.Pending = append(n.Pending, TaskID(d.fixed32()))
		}
	}
	return n
}

func encodeTask(e *encoder, t *Task, full bool) { encodeTaskAs(e, t, full, true) }

// encodeTaskAs is encodeTask; without segVotes a training or trajectory-verified task is
// encoded without its verifiers' vote commitments (v6's layout).
func encodeTaskAs(e *encoder, t *Task, full, segVotes bool) {
	votes := t.Spec.Verify == VerifyScore || segVotes && t.Spec.votes()
	e.fixed(t.ID[:])
	e.fixed(t.Submitter[:])
	if full {
		t.Spec.encode(e)
	} else {
		e.fixed(t.specDigest[:])
	}
	e.u64(t.SubmittedAt)
	e.u8(uint8(t.Status))
	e.u8(t.Round)
	e.u64(t.AssignedAt)
	e.u64(t.AssignedTime)
	e.u64(t.ClosedTime)
	e.u64(t.CommitDeadline)
	e.u64(t.RevealDeadline)
	e.u64(t.CommitClosedAt)
	e.u32(uint32(len(t.Executors)))
	for i := range t.Executors {
		x := &t.Executors[i]
		e.fixed(x.Node[:])
		e.boolean(x.Committed)
		e.fixed(x.Commitment[:])
		e.boolean(x.Duplicate)
		e.boolean(x.Revealed)
		e.bytes(x.Fingerprint)
		e.fixed(x.Artifact[:])
		e.u8(uint8(x.Outcome))
		e.boolean(x.Voted)
		e.u64(x.Valid)
		if votes { // absent otherwise: other tasks' encodings unchanged
			e.boolean(x.VoteCommitted)
			e.fixed(x.VoteCommitment[:])
			e.u64(x.Unsure)
		}
	}
	e.u64(t.SettledAt)
	e.bytes(t.Value)
	e.u32(t.Support)
	e.u32(t.Need)
	e.str(t.Reason)
	e.u64(t.CheckDeadline)
	if t.Spec.oneCommitter() {
		e.fixed(t.SegmentRand[:])
		encodeDispute(e, t.Dispute)
	}
	if votes {
		e.u64(t.VoteClosedAt)
	}
	if full || t.Spot != (SpotState{}) { // absent from leaves when zero: other tasks' hashes unchanged
		e.u8(spotFlag)
		encodeSpot(e, &t.Spot)
	}
}

func decodeTask(d *decoder, v5, v7 bool) *Task {
	t := &Task{ID: d.fixed32(), Submitter: d.fixed32()}
	t.Spec.decode(d)
	votes := t.Spec.Verify == VerifyScore || v7 && t.Spec.votes() // v6: segment votes were not committed
	t.SubmittedAt = d.u64()
	t.Status = TaskStatus(d.u8())
	t.Round = d.u8()
	t.AssignedAt = d.u64()
	t.AssignedTime = d.u64()
	t.ClosedTime = d.u64()
	t.CommitDeadline = d.u64()
	t.RevealDeadline = d.u64()
	t.CommitClosedAt = d.u64()
	n := d.count("executors", MaxReplicasLimit, 32+1+32+1+1+4+32+1+1+8)
	if n > 0 {
		t.Executors = make([]Executor, n)
	}
	for i := range t.Executors {
		x := &t.Executors[i]
		x.Node = d.fixed32()
		x.Committed = d.boolean("committed")
		x.Commitment = d.fixed32()
		x.Duplicate = d.boolean("duplicate")
		x.Revealed = d.boolean("revealed")
		x.Fingerprint = d.bytes("fingerprint", MaxFingerprintBytes)
		if len(x.Fingerprint) == 0 {
			x.Fingerprint = nil
		}
		x.Artifact = d.fixed32()
		x.Outcome = Outcome(d.u8())
		x.Voted = d.boolean("voted")
		x.Valid = d.u64()
		if votes {
			x.VoteCommitted = d.boolean("vote committed")
			x.VoteCommitment = d.fixed32()
			x.Unsure = d.u64()
		}
	}
	t.SettledAt = d.u64()
	t.Value = d.bytes("value", MaxFingerprintBytes)
	if len(t.Value) == 0 {
		t.Value = nil
	}
	t.Support = d.u32()
	t.Need = d.u32()
	t.Reason = d.str("reason", 256)
	t.CheckDeadline = d.u64()
	if t.Spec.oneCommitter() {
		t.SegmentRand = d.fixed32()
		t.Dispute = decodeDispute(d)
	}
	if votes {
		t.VoteClosedAt = d.u64()
	}
	if v5 {
		if d.u8() != spotFlag {
			d.fail(errors.New("task: spot state tag"))
		}
		t.Spot = decodeSpot(d)
	}
	return t
}

func specDigest(spec *SubmitTask) [32]byte {
	var e encoder
	spec.encode(&e)
	return sha256.Sum256(e.b)
}

// stateMagic starts every MarshalState output.
const stateMagic = "genquorum/ledger/state/v7"

// stateMagicV6 is the previous encoding: v7 without the vote commitments of training and
// trajectory-verified tasks' verifiers (their votes were sent in the clear: read as none
// committed, the votes already sent stand).
const stateMagicV6 = "genquorum/ledger/state/v6"

// stateMagicV5 is the previous encoding: v6 without the nodes' deferred-slash fields (Dark,
// Record.Waived, Pending: read as zero).
const stateMagicV5 = "genquorum/ledger/state/v5"

// MaxPending bounds a node's deferred no-reveal slashes in a decoded state (a node holds at
// most one per open assignment it had when it fell silent).
const MaxPending = 1 << 20

// stateMagicV4 is v5 without the spot parameters and tasks' spot states (read as zero).
const stateMagicV4 = "genquorum/ledger/state/v4"

// stateMagicV3 is the previous encoding: v4 without PruneAfter (read as 0).
const stateMagicV3 = "genquorum/ledger/state/v3"

// ErrMalformedState reports bytes that UnmarshalState cannot restore.
var ErrMalformedState = errors.New("ledger: malformed state")

// MarshalState returns the canonical encoding of the whole state as of the last finalized
// block: equal states give equal bytes. A chain saves it at Commit (or every few blocks, and
// replays the blocks since) and restores it with UnmarshalState.
//
//	magic "genquorum/ledger/state/v7"
//	str chain ID, params, u64 prune after, spot params (3 u32), u64 height, u64 burned
//	u32 count, accounts sorted by key: key, u64 balance, u64 nonce, NonceWindow/64 u64 used-nonce bits
//	u32 count, nodes sorted by key (each ends with: bool dark, u64 waived, u32 count, pending task IDs)
//	u32 count, tasks sorted by ID (with the full spec)
//	only when there are policies: u32 count, policies sorted by policyKey
func (s *State) MarshalState() []byte {
	if len(s.dirty) != 0 {
		panic("ledger: MarshalState in the middle of a block")
	}
	return s.marshal()
}

// marshal is MarshalState without the check (tests snapshot the state mid-block).
func (s *State) marshal() []byte { return s.marshalAs(stateMagic, true, true) }

// marshalAs is marshal under magic; without nodeFields nodes are encoded as their leaves are
// (v5's layout for a state that deferred no slash), without segVotes training and
// trajectory-verified tasks lack their verifiers' vote commitments (v6's layout for a state
// with none): tests write old snapshots with it.
func (s *State) marshalAs(magic string, nodeFields, segVotes bool) []byte {
	e := &encoder{b: make([]byte, 0, 256+64*len(s.accounts)+256*len(s.nodes)+512*len(s.tasks))}
	e.fixed([]byte(magic))
	e.str(s.chainID)
	encodeParams(e, s.params)
	e.u64(s.params.PruneAfter)
	encodeSpotParams(e, s.params)
	e.u64(s.height)
	e.u64(s.burned)
	ak := sortedKeys(s.accounts)
	e.u32(uint32(len(ak)))
	for _, k := range ak {
		encodeAccount(e, k, s.accounts[k])
	}
	e.u32(uint32(len(s.nodeKeys)))
	for _, k := range s.nodeKeys {
		encodeNode(e, s.nodes[k], nodeFields)
	}
	tk := sortedKeys(s.tasks)
	e.u32(uint32(len(tk)))
	for _, k := range tk {
		encodeTaskAs(e, s.tasks[k], true, segVotes)
	}
	if len(s.policies) > 0 { // absent when none: states without policies encode as before
		pk := sortedKeys(s.policies)
		e.u32(uint32(len(pk)))
		for _, k := range pk {
			encodePolicy(e, s.policies[k])
		}
	}
	return e.b
}

func sortedKeys[K ~[32]byte, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int { return compareKeys(a, b) })
	return keys
}

// UnmarshalState restores a state saved by MarshalState. It checks the encoding (sorted unique
// keys, valid params, sizes before allocation) and recomputes the app hash from the entries;
// errors wrap ErrMalformedState.
func UnmarshalState(b []byte) (*State, error) {
	v3 := len(b) >= len(stateMagicV3) && string(b[:len(stateMagicV3)]) == stateMagicV3
	v4 := len(b) >= len(stateMagicV4) && string(b[:len(stateMagicV4)]) == stateMagicV4
	v7 := len(b) >= len(stateMagic) && string(b[:len(stateMagic)]) == stateMagic
	v6 := v7 || len(b) >= len(stateMagicV6) && string(b[:len(stateMagicV6)]) == stateMagicV6 // v6's fields are in v7
	v5 := v6 || len(b) >= len(stateMagicV5) && string(b[:len(stateMagicV5)]) == stateMagicV5 // v5's fields are in v6
	if !v3 && !v4 && !v5 {
		return nil, fmt.Errorf("%w: bad magic", ErrMalformedState)
	}
	d := &decoder{b: b[len(stateMagic):]}
	chainID := d.str("chain id", MaxChainIDBytes)
	p := decodeParams(d)
	if !v3 {
		p.PruneAfter = d.u64()
	}
	if v5 {
		p.SpotVerifiers, p.EscalateVerifiers, p.EscalateMarginBits = d.u32(), d.u32(), d.u32()
	}
	if d.err == nil {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedState, err)
		}
	}
	s := newEmpty(chainID, p)
	s.height = d.u64()
	s.burned = d.u64()
	const maxEntries = 1 << 31
	var prev [32]byte
	n := d.count("accounts", maxEntries, 48+len(nonceBits{})*8)
	for i := 0; i < n && d.err == nil; i++ {
		k := PubKey(d.fixed32())
		if i > 0 && compareKeys(prev, k) >= 0 {
			d.fail(fmt.Errorf("accounts not sorted"))
		}
		prev = k
		a := &Account{Balance: d.u64(), Nonce: d.u64()}
		for j := range a.Used {
			a.Used[j] = d.u64()
		}
		s.accounts[k] = a
	}
	n = d.count("nodes", maxEntries, 100)
	for i := 0; i < n && d.err == nil; i++ {
		nd := decodeNode(d, v6)
		if i > 0 && compareKeys(prev, nd.Key) >= 0 {
			d.fail(fmt.Errorf("nodes not sorted"))
		}
		prev = nd.Key
		s.nodes[nd.Key] = nd
		s.nodeKeys = append(s.nodeKeys, nd.Key)
	}
	n = d.count("tasks", maxEntries, 150)
	for i := 0; i < n && d.err == nil; i++ {
		t := decodeTask(d, v5, v7)
		if i > 0 && compareKeys(prev, t.ID) >= 0 {
			d.fail(fmt.Errorf("tasks not sorted"))
		}
		prev = t.ID
		if t.Status < StatusCommit || t.Status > StatusSegmentsReveal || (t.Status == StatusDispute && t.Dispute == nil) {
			d.fail(fmt.Errorf("task %v: status %d", t.ID, t.Status))
		}
		t.specDigest = specDigest(&t.Spec)
		s.tasks[t.ID] = t
		switch t.Status {
		case StatusCommit:
			s.addDue(t.CommitDeadline, t.ID)
			s.addDue(t.RevealDeadline, t.ID)
		case StatusReveal:
			s.addDue(t.RevealDeadline, t.ID)
		case StatusSpotDraw:
			s.addDue(t.Spot.DrawAt, t.ID)
		case StatusCheck, StatusCheckReveal, StatusSegments, StatusSegmentsReveal:
			s.addDue(t.CheckDeadline, t.ID)
		case StatusDispute:
			s.addDue(t.Dispute.Deadline, t.ID)
		case StatusAccepted, StatusNoVerdict:
			if p.PruneAfter != 0 && t.SettledAt+p.PruneAfter > s.height {
				s.settled(t)
			}
		}
	}
	if d.err == nil && len(d.b) > 0 { // policies, when there are any
		n = d.count("policies", maxEntries, 36+4+4+36)
		if n == 0 && d.err == nil {
			d.fail(fmt.Errorf("policy section of no policies"))
		}
		for i := 0; i < n && d.err == nil; i++ {
			p := decodePolicy(d)
			if d.err != nil {
				break
			}
			if err := p.Validate(); err != nil {
				d.fail(err)
				break
			}
			k := policyKey(p.Model, p.Kind)
			if i > 0 && compareKeys(prev, k) >= 0 {
				d.fail(fmt.Errorf("policies not sorted"))
			}
			prev = k
			s.policies[k] = p
		}
	}
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedState, err)
	}
	if chainID == "" {
		return nil, fmt.Errorf("%w: empty chain ID", ErrMalformedState)
	}
	s.rehash()
	return s, nil
}

func (s *State) addDue(h uint64, id TaskID) { s.due[h] = append(s.due[h], id) }
