package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/quorum"
)

// TxVersion is the first byte of every transaction.
const TxVersion = 1

// TxType says which Body a transaction carries. Values are part of the wire format.
type TxType uint8

// The transaction types.
const (
	TxTransfer TxType = 1 // Transfer
	TxRegister TxType = 2 // RegisterNode
	TxUnbond   TxType = 3 // Unbond
	TxSubmit   TxType = 4 // SubmitTask
	TxCommit   TxType = 5 // Commit
	TxReveal   TxType = 6 // Reveal
	TxBatch    TxType = 7 // Batch
	TxUnjail   TxType = 8 // Unjail
	TxVote     TxType = 9 // Vote (opens a VoteCommit)
	// TxVoteCommit is a VoteCommit.
	TxVoteCommit TxType = 11
	// TxSubmitBatch is a SubmitBatch.
	TxSubmitBatch TxType = 12
)

var txTypeNames = [...]string{"", "transfer", "register", "unbond", "submit", "commit", "reveal", "batch", "unjail", "vote",
	"bisect", "vote-commit", "submit-batch"}

// String returns the type's lower-case name.
func (t TxType) String() string {
	if int(t) < len(txTypeNames) && t != 0 {
		return txTypeNames[t]
	}
	return fmt.Sprintf("TxType(%d)", uint8(t))
}

// txHeaderLen is version, type, signer and nonce; sigLen the trailing signature.
const (
	txHeaderLen = 1 + 1 + 32 + 8
	sigLen      = ed25519.SignatureSize
)

// Tx is a decoded transaction.
//
// Wire format (all integers big-endian):
//
//	u8  version (TxVersion)
//	u8  type (TxType)
//	32  signer ed25519 public key
//	u64 nonce (must exceed the signer's last accepted nonce)
//	... body (canonical encoding of the type's Body)
//	64  ed25519 signature of SignBytes(chainID, everything above)
type Tx struct {
	Signer PubKey
	Nonce  uint64
	Body   Body
}

// Body is one of *Transfer, *RegisterNode, *Unbond, *SubmitTask, *Commit, *Reveal, *Batch,
// *Unjail.
type Body interface {
	Type() TxType
	encode(e *encoder)
	decode(d *decoder)
	validate() error // stateless rules
}

// Transfer moves Amount from the signer's balance to To.
type Transfer struct {
	To     PubKey
	Amount uint64
}

// RegisterNode registers the signer as a node, or updates its description, and bonds Stake
// more from its balance. Engines and Models replace the previous lists.
type RegisterNode struct {
	Stake    uint64   // added to the node's bonded stake
	Engines  []string // engine names it runs, e.g. "llm", "diffusion", "remote/llamacpp"
	Models   []Model  // models it serves; only these tasks are assigned to it
	Hardware string   // hardware profile, e.g. "cpu-avx2-split4"
	Class    string   // hardware class, e.g. "cpu", "gpu"
	Addrs    []string // where the node serves artifacts (libp2p multiaddrs); informational
	// Capacity is the most assignments the node holds open at once (0: no limit). The ledger
	// assigns it no task while it has Capacity open assignments (see the package doc).
	Capacity uint32
	// Kinds says which kinds of task (SubmitTask.Kind: "text", "image", "train") the node runs
	// on each model: empty, or one entry per Models entry, a comma-separated list of kinds
	// ("text,image"). An empty entry (or no Kinds at all) declares nothing: the node is taken
	// to run every kind on that model. A task is assigned only to nodes that run its kind on
	// its model, and refused at submission (ErrKindNotServed) when too few do.
	Kinds []string
}

// Unbond moves Amount of the signer's stake back to its balance.
type Unbond struct {
	Amount uint64
}

// SubmitTask asks for a task to be run by Replicas executors and settled under Rule with the
// Hamming Tolerance. Fee is escrowed from the signer's balance and paid to the agreeing
// executors.
type SubmitTask struct {
	Kind           string      // e.g. "image", "text"
	Model          Model       // only nodes serving this model are eligible
	Prompt         []byte      // opaque to the ledger
	Seed           uint64      // engine seed
	Params         []byte      // opaque canonical engine parameters
	Replicas       uint32      // executors n in the first round, >= 1
	MaxReplicas    uint32      // adaptive replication cap: 0 = no second round
	Tolerance      uint32      // Hamming tolerance in bits
	Rule           quorum.Rule // Majority or SuperMajority
	FingerprintLen uint32      // bytes of every fingerprint revealed for the task
	Fee            uint64      // escrowed, split among the agreeing executors
	// Verify is VerifyEqual (settle on the revealed fingerprints) or VerifyScore (text: when
	// the revealed sequences differ, the executors vote on each candidate; see check.go), or
	// VerifySegments (training: segments re-executed by verifiers; see segments.go), or
	// VerifyTrajectory (images: trajectory segments re-run by verifiers; see trajectory.go).
	Verify uint8
	// Segment is encoded only when Verify == VerifySegments or VerifyTrajectory.
	Segment SegmentSpec
	// SpotPPM, when not 0, makes a spot-checked task (Replicas 1, VerifyEqual): the executor
	// commits, then the next block's randomness draws verification with probability SpotPPM
	// parts per million (1..1000000; see SpotDrawn and the package doc). Encoded only when not
	// 0 (flagged in the Verify byte), so other tasks' encodings are unchanged.
	SpotPPM uint32
}

// Commit binds an executor to a fingerprint without showing it:
// Commitment = CommitmentFor(Task, signer, fingerprint, salt).
type Commit struct {
	Task       TaskID
	Commitment [32]byte
}

// Reveal opens the signer's commitment for Task. Artifact is the SHA-256 of the artifact the
// fingerprint was computed from: the ledger records it so that clients can fetch the artifact
// by digest from an agreeing node (the commitment binds only the fingerprint; the digest is a
// claim whose artifact a client checks against the fingerprint).
type Reveal struct {
	Task        TaskID
	Fingerprint []byte
	Salt        [32]byte
	Artifact    [32]byte
}

// MaxBatchItems bounds the commitments plus reveals of one Batch.
const MaxBatchItems = 1024

// Batch carries several commitments and reveals of one executor in one transaction: one
// signature, one nonce and one TxFee for all of them. Items are applied in order, commitments
// first; an item that fails (window closed, already revealed, ...) is skipped with an
// EventItemRejected and the others still apply, so the transaction itself succeeds once it
// is admitted (see the package doc).
type Batch struct {
	Commits []Commit
	Reveals []Reveal
}

// SubmitBatch carries several task submissions of one client in one transaction: one
// signature, one nonce and one TxFee for all of them; each task pays its own Fee. Item i
// (0-based) becomes the task BatchTaskID(signer, nonce, i). Items are applied in order; one
// that fails (no capacity, funds, ...) is skipped with an EventItemRejected and the others
// still apply, as in a Batch.
type SubmitBatch struct {
	Tasks []SubmitTask
}

// minSubmitBytes is the shortest encoding of a SubmitTask (empty strings and byte fields,
// no segments): the decoder's bound on a SubmitBatch's item count before allocating.
const minSubmitBytes = 4 + 4 + 32 + 4 + 8 + 4 + 3*4 + 1 + 4 + 8 + 1

// Unjail asks for the signer's node, jailed for missed windows, to be assigned tasks again.
type Unjail struct{}

func (*Transfer) Type() TxType     { return TxTransfer }
func (*RegisterNode) Type() TxType { return TxRegister }
func (*Unbond) Type() TxType       { return TxUnbond }
func (*SubmitTask) Type() TxType   { return TxSubmit }
func (*Commit) Type() TxType       { return TxCommit }
func (*Reveal) Type() TxType       { return TxReveal }
func (*Batch) Type() TxType        { return TxBatch }
func (*Unjail) Type() TxType       { return TxUnjail }
func (*SubmitBatch) Type() TxType  { return TxSubmitBatch }

func (b *Transfer) encode(e *encoder) { e.fixed(b.To[:]); e.u64(b.Amount) }
func (b *Transfer) decode(d *decoder) { b.To = d.fixed32(); b.Amount = d.u64() }
func (b *Transfer) validate() error {
	if b.Amount == 0 {
		return fmt.Errorf("%w: transfer of zero", ErrMalformedTx)
	}
	return nil
}

func (b *RegisterNode) encode(e *encoder) {
	e.u64(b.Stake)
	e.strs(b.Engines)
	e.models(b.Models)
	e.str(b.Hardware)
	e.str(b.Class)
	e.strs(b.Addrs)
	e.u32(b.Capacity)
	e.strs(b.Kinds)
}

func (b *RegisterNode) decode(d *decoder) {
	b.Stake = d.u64()
	b.Engines = d.strs("engines", MaxListItems, MaxNameBytes)
	b.Models = d.models("models", MaxListItems)
	b.Hardware = d.str("hardware", MaxNameBytes)
	b.Class = d.str("class", MaxNameBytes)
	b.Addrs = d.strs("addrs", MaxAddrs, MaxAddrBytes)
	b.Capacity = d.u32()
	b.Kinds = d.strs("kinds", MaxListItems, MaxNameBytes)
}

func (b *RegisterNode) validate() error {
	if len(b.Models) == 0 {
		return fmt.Errorf("%w: node serves no model", ErrMalformedTx)
	}
	if len(b.Addrs) > MaxAddrs {
		return fmt.Errorf("%w: more than %d addresses", ErrMalformedTx, MaxAddrs)
	}
	for _, a := range b.Addrs {
		if len(a) == 0 || len(a) > MaxAddrBytes {
			return fmt.Errorf("%w: address of %d bytes", ErrMalformedTx, len(a))
		}
	}
	if len(b.Engines) > MaxListItems || len(b.Models) > MaxListItems {
		return fmt.Errorf("%w: more than %d engines or models", ErrMalformedTx, MaxListItems)
	}
	for _, s := range b.Engines {
		if len(s) == 0 || len(s) > MaxNameBytes {
			return fmt.Errorf("%w: engine name of %d bytes", ErrMalformedTx, len(s))
		}
	}
	for i, m := range b.Models {
		if len(m.Name) == 0 || len(m.Name) > MaxNameBytes {
			return fmt.Errorf("%w: model name of %d bytes", ErrMalformedTx, len(m.Name))
		}
		for _, o := range b.Models[:i] {
			if o == m {
				return fmt.Errorf("%w: model %v listed twice", ErrMalformedTx, m)
			}
		}
	}
	if len(b.Hardware) > MaxNameBytes || len(b.Class) > MaxNameBytes {
		return fmt.Errorf("%w: hardware name too long", ErrMalformedTx)
	}
	if len(b.Kinds) != 0 && len(b.Kinds) != len(b.Models) {
		return fmt.Errorf("%w: %d kind lists for %d models", ErrMalformedTx, len(b.Kinds), len(b.Models))
	}
	for _, k := range b.Kinds {
		if len(k) > MaxNameBytes {
			return fmt.Errorf("%w: kind list of %d bytes", ErrMalformedTx, len(k))
		}
		if k != "" && slices.Contains(strings.Split(k, ","), "") {
			return fmt.Errorf("%w: kind list %q has an empty kind", ErrMalformedTx, k)
		}
	}
	return nil
}

func (b *Unbond) encode(e *encoder) { e.u64(b.Amount) }
func (b *Unbond) decode(d *decoder) { b.Amount = d.u64() }
func (b *Unbond) validate() error {
	if b.Amount == 0 {
		return fmt.Errorf("%w: unbond of zero", ErrMalformedTx)
	}
	return nil
}

func (b *SubmitTask) encode(e *encoder) {
	e.str(b.Kind)
	e.model(b.Model)
	e.bytes(b.Prompt)
	e.u64(b.Seed)
	e.bytes(b.Params)
	e.u32(b.Replicas)
	e.u32(b.MaxReplicas)
	e.u32(b.Tolerance)
	e.u8(uint8(b.Rule))
	e.u32(b.FingerprintLen)
	e.u64(b.Fee)
	if b.SpotPPM != 0 {
		e.u8(b.Verify | spotFlag)
	} else {
		e.u8(b.Verify)
	}
	if b.oneCommitter() {
		e.u32(b.Segment.Segments)
		e.u32(b.Segment.SegmentSteps)
		e.u32(b.Segment.Checks)
	}
	if b.SpotPPM != 0 {
		e.u32(b.SpotPPM)
	}
}

func (b *SubmitTask) decode(d *decoder) {
	b.Kind = d.str("kind", MaxNameBytes)
	b.Model = d.model("model")
	b.Prompt = d.bytes("prompt", MaxPromptBytes)
	b.Seed = d.u64()
	b.Params = d.bytes("params", MaxParamsBytes)
	b.Replicas = d.u32()
	b.MaxReplicas = d.u32()
	b.Tolerance = d.u32()
	b.Rule = quorum.Rule(d.u8())
	b.FingerprintLen = d.u32()
	b.Fee = d.u64()
	v := d.u8()
	b.Verify = v &^ spotFlag
	if b.oneCommitter() {
		b.Segment.Segments = d.u32()
		b.Segment.SegmentSteps = d.u32()
		b.Segment.Checks = d.u32()
	}
	if v&spotFlag != 0 {
		if b.SpotPPM = d.u32(); b.SpotPPM == 0 {
			d.fail(errors.New("spot flag with probability 0 (not canonical)"))
		}
	}
}

func (b *SubmitTask) validate() error {
	switch {
	case len(b.Kind) == 0 || len(b.Kind) > MaxNameBytes:
		return fmt.Errorf("%w: task kind of %d bytes", ErrMalformedTx, len(b.Kind))
	case len(b.Model.Name) == 0 || len(b.Model.Name) > MaxNameBytes:
		return fmt.Errorf("%w: model name of %d bytes", ErrMalformedTx, len(b.Model.Name))
	case len(b.Prompt) > MaxPromptBytes || len(b.Params) > MaxParamsBytes:
		return fmt.Errorf("%w: prompt or params too long", ErrMalformedTx)
	case b.Replicas == 0 || b.Replicas > MaxReplicasLimit:
		return fmt.Errorf("%w: %d replicas (want 1..%d)", ErrMalformedTx, b.Replicas, MaxReplicasLimit)
	case b.MaxReplicas != 0 && (b.MaxReplicas < b.Replicas || b.MaxReplicas > MaxReplicasLimit):
		return fmt.Errorf("%w: max replicas %d below replicas %d or over %d", ErrMalformedTx,
			b.MaxReplicas, b.Replicas, MaxReplicasLimit)
	case !b.Rule.Valid():
		return fmt.Errorf("%w: rule %d", ErrMalformedTx, uint8(b.Rule))
	case b.FingerprintLen == 0 || b.FingerprintLen > MaxFingerprintBytes:
		return fmt.Errorf("%w: fingerprint length %d (want 1..%d)", ErrMalformedTx,
			b.FingerprintLen, MaxFingerprintBytes)
	case uint64(b.Tolerance) > 8*uint64(b.FingerprintLen):
		return fmt.Errorf("%w: tolerance %d over %d fingerprint bits", ErrMalformedTx,
			b.Tolerance, 8*b.FingerprintLen)
	case b.SpotPPM > PPM:
		return fmt.Errorf("%w: spot probability %d ppm over %d", ErrMalformedTx, b.SpotPPM, PPM)
	case b.SpotPPM != 0 && (b.Replicas != 1 || b.Verify != VerifyEqual):
		return fmt.Errorf("%w: a spot-checked task has 1 replica and verify equal (replicas %d, verify %d)",
			ErrMalformedTx, b.Replicas, b.Verify)
	case b.Verify == VerifySegments:
		return b.Segment.validate(b)
	case b.Verify == VerifyTrajectory:
		return b.Segment.validateTrajectory(b)
	case b.Verify > VerifyTrajectory:
		return fmt.Errorf("%w: verify mode %d", ErrMalformedTx, b.Verify)
	case b.Verify == VerifyScore && b.Tolerance != 0:
		return fmt.Errorf("%w: score-verified tasks compare fingerprints exactly (tolerance %d)", ErrMalformedTx, b.Tolerance)
	}
	return nil
}

func (b *Commit) encode(e *encoder) { e.fixed(b.Task[:]); e.fixed(b.Commitment[:]) }
func (b *Commit) decode(d *decoder) { b.Task = d.fixed32(); b.Commitment = d.fixed32() }
func (b *Commit) validate() error   { return nil }

func (b *Reveal) encode(e *encoder) {
	e.fixed(b.Task[:])
	e.bytes(b.Fingerprint)
	e.fixed(b.Salt[:])
	e.fixed(b.Artifact[:])
}
func (b *Reveal) decode(d *decoder) {
	b.Task = d.fixed32()
	b.Fingerprint = d.bytes("fingerprint", MaxFingerprintBytes)
	b.Salt = d.fixed32()
	b.Artifact = d.fixed32()
}
func (b *Reveal) validate() error {
	if len(b.Fingerprint) == 0 {
		return fmt.Errorf("%w: empty fingerprint", ErrMalformedTx)
	}
	return nil
}

func (b *Batch) encode(e *encoder) {
	e.u32(uint32(len(b.Commits)))
	for i := range b.Commits {
		b.Commits[i].encode(e)
	}
	e.u32(uint32(len(b.Reveals)))
	for i := range b.Reveals {
		b.Reveals[i].encode(e)
	}
}

func (b *Batch) decode(d *decoder) {
	if n := d.count("commits", MaxBatchItems, 64); n > 0 {
		b.Commits = make([]Commit, n)
		for i := range b.Commits {
			b.Commits[i].decode(d)
		}
	}
	if n := d.count("reveals", MaxBatchItems, 32+4+1+32+32); n > 0 {
		b.Reveals = make([]Reveal, n)
		for i := range b.Reveals {
			b.Reveals[i].decode(d)
		}
	}
}

func (b *Batch) validate() error {
	n := len(b.Commits) + len(b.Reveals)
	if n == 0 || n > MaxBatchItems {
		return fmt.Errorf("%w: batch of %d items (want 1..%d)", ErrMalformedTx, n, MaxBatchItems)
	}
	for i := range b.Reveals {
		if err := b.Reveals[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

func (b *SubmitBatch) encode(e *encoder) {
	e.u32(uint32(len(b.Tasks)))
	for i := range b.Tasks {
		b.Tasks[i].encode(e)
	}
}

func (b *SubmitBatch) decode(d *decoder) {
	if n := d.count("tasks", MaxBatchItems, minSubmitBytes); n > 0 {
		b.Tasks = make([]SubmitTask, n)
		for i := range b.Tasks {
			b.Tasks[i].decode(d)
		}
	}
}

func (b *SubmitBatch) validate() error {
	if n := len(b.Tasks); n == 0 || n > MaxBatchItems {
		return fmt.Errorf("%w: submit batch of %d tasks (want 1..%d)", ErrMalformedTx, n, MaxBatchItems)
	}
	for i := range b.Tasks {
		if err := b.Tasks[i].validate(); err != nil {
			return fmt.Errorf("task %d: %w", i, err)
		}
	}
	return nil
}

func (*Unjail) encode(*encoder) {}
func (*Unjail) decode(*decoder) {}
func (*Unjail) validate() error { return nil }

// newBody returns an empty body of type t, or nil for an unknown type.
func newBody(t TxType) Body {
	switch t {
	case TxTransfer:
		return new(Transfer)
	case TxRegister:
		return new(RegisterNode)
	case TxUnbond:
		return new(Unbond)
	case TxSubmit:
		return new(SubmitTask)
	case TxCommit:
		return new(Commit)
	case TxReveal:
		return new(Reveal)
	case TxBatch:
		return new(Batch)
	case TxUnjail:
		return new(Unjail)
	case TxVote:
		return new(Vote)
	case TxBisect:
		return new(Bisect)
	case TxVoteCommit:
		return new(VoteCommit)
	case TxSubmitBatch:
		return new(SubmitBatch)
	}
	return nil
}

// DecodeTx decodes raw without checking the signature. It rejects oversize input
// (ErrTxTooLarge), and anything that is not exactly one canonical transaction whose body passes
// the stateless rules (ErrMalformedTx). The returned Tx does not alias raw.
func DecodeTx(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTxTooLarge, len(raw), MaxTxBytes)
	}
	if len(raw) < txHeaderLen+sigLen {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a header and signature", ErrMalformedTx, len(raw))
	}
	if raw[0] != TxVersion {
		return nil, fmt.Errorf("%w: version %d", ErrMalformedTx, raw[0])
	}
	body := newBody(TxType(raw[1]))
	if body == nil {
		return nil, fmt.Errorf("%w: unknown type %d", ErrMalformedTx, raw[1])
	}
	tx := &Tx{Body: body, Nonce: binary.BigEndian.Uint64(raw[34:42])}
	copy(tx.Signer[:], raw[2:34])
	d := decoder{b: raw[txHeaderLen : len(raw)-sigLen]}
	body.decode(&d)
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("%w: %v body: %v", ErrMalformedTx, body.Type(), err)
	}
	if err := body.validate(); err != nil {
		return nil, err
	}
	return tx, nil
}

// signDomain separates ledger signatures from any other use of the same keys.
const signDomain = "genquorum/ledger/tx/v1\x00"

// SignBytes returns the message a transaction's signature covers: a domain separator, the
// chain ID (so a transaction cannot be replayed on another chain) and the transaction without
// its signature.
func SignBytes(chainID string, unsigned []byte) []byte {
	m := make([]byte, 0, len(signDomain)+4+len(chainID)+len(unsigned))
	m = append(m, signDomain...)
	m = binary.BigEndian.AppendUint32(m, uint32(len(chainID)))
	m = append(m, chainID...)
	return append(m, unsigned...)
}

// verifySignature checks raw's trailing signature. raw must be at least a header and a
// signature long (DecodeTx checked).
func verifySignature(chainID string, raw []byte) error {
	n := len(raw) - sigLen
	if !ed25519.Verify(ed25519.PublicKey(raw[2:34]), SignBytes(chainID, raw[:n]), raw[n:]) {
		return fmt.Errorf("%w: signer %x", ErrBadSignature, raw[2:10])
	}
	return nil
}

// TxHash is the SHA-256 of the raw transaction, as CometBFT names transactions.
func TxHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// CheckTx is the stateless check a mempool runs: size, decoding, stateless field rules and the
// signature for chainID. A transaction that passes is remembered in cache (which may be nil)
// so that FinalizeBlock need not verify its signature again. Safe for concurrent use.
func CheckTx(chainID string, raw []byte, cache *SigCache) (*Tx, error) {
	tx, err := DecodeTx(raw)
	if err != nil {
		return nil, err
	}
	h := TxHash(raw)
	if cache.has(chainID, h) {
		return tx, nil
	}
	if err := verifySignature(chainID, raw); err != nil {
		return nil, err
	}
	cache.add(chainID, h)
	return tx, nil
}

// TaskIDFor returns the ID of the task submitted by submitter in the transaction with nonce:
// SHA-256("genquorum/task/v1" || submitter || u64 nonce). A client knows it before the
// transaction is included.
func TaskIDFor(submitter PubKey, nonce uint64) TaskID {
	var m [17 + 32 + 8]byte
	copy(m[:], "genquorum/task/v1")
	copy(m[17:], submitter[:])
	binary.BigEndian.PutUint64(m[49:], nonce)
	return sha256.Sum256(m[:])
}

// BatchTaskID returns the ID of the task submitted as item i of the SubmitBatch transaction
// of submitter with nonce: SHA-256("genquorum/task-batch/v1" || submitter || u64 nonce ||
// u32 i). The tag differs from TaskIDFor's, so a batch's tasks never share an ID with a
// single submission. A client knows them before the transaction is included.
func BatchTaskID(submitter PubKey, nonce uint64, i int) TaskID {
	var m [23 + 32 + 8 + 4]byte
	copy(m[:], "genquorum/task-batch/v1")
	copy(m[23:], submitter[:])
	binary.BigEndian.PutUint64(m[55:], nonce)
	binary.BigEndian.PutUint32(m[63:], uint32(i))
	return sha256.Sum256(m[:])
}

// CommitmentFor returns the commitment of node to fingerprint for task:
// SHA-256("genquorum/commit/v1" || task || node || u32 len(fingerprint) || fingerprint || salt).
// The node's key is inside, so a commitment copied from another node can never be opened by
// the copier. The salt must be secret and random (32 bytes from crypto/rand) until the
// reveal; otherwise a short fingerprint can be found by trying every value.
func CommitmentFor(task TaskID, node PubKey, fingerprint []byte, salt [32]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("genquorum/commit/v1"))
	h.Write(task[:])
	h.Write(node[:])
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(fingerprint)))
	h.Write(n[:])
	h.Write(fingerprint)
	h.Write(salt[:])
	var c [32]byte
	h.Sum(c[:0])
	return c
}

// encodeUnsigned returns the transaction bytes without signature.
func encodeUnsigned(signer PubKey, nonce uint64, body Body) []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.u8(TxVersion)
	e.u8(uint8(body.Type()))
	e.fixed(signer[:])
	e.u64(nonce)
	body.encode(&e)
	return e.b
}
