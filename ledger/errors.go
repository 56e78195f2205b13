package ledger

import (
	"errors"
)

// Sentinel errors. Every rejected transaction's error wraps exactly one of them; callers branch
// with errors.Is and turn them into ABCI result codes with Code.
var (
	// ErrTxTooLarge: the transaction is longer than MaxTxBytes.
	ErrTxTooLarge = errors.New("ledger: transaction too large")
	// ErrMalformedTx: the bytes do not decode as a transaction, or a field breaks a
	// stateless rule (unknown type, bad length, zero amount...).
	ErrMalformedTx = errors.New("ledger: malformed transaction")
	// ErrBadSignature: the ed25519 signature does not verify for the signer and chain.
	ErrBadSignature = errors.New("ledger: bad signature")
	// ErrNonce: the nonce was already accepted (a replay), is zero, or is more than NonceWindow
	// below the signer's highest accepted nonce.
	ErrNonce = errors.New("ledger: nonce already used")
	// ErrInsufficientFunds: the balance does not cover the amount, stake or fee.
	ErrInsufficientFunds = errors.New("ledger: insufficient funds")
	// ErrUnknownNode: the signer is not a registered node.
	ErrUnknownNode = errors.New("ledger: unknown node")
	// ErrStake: a registration below the minimum stake, or an unbond that leaves too little
	// stake behind open assignments.
	ErrStake = errors.New("ledger: stake rule")
	// ErrInvalidTask: a task's parameters break a rule of the chain's Params.
	ErrInvalidTask = errors.New("ledger: invalid task")
	// ErrNotEnoughNodes: fewer eligible nodes than the replicas asked for.
	ErrNotEnoughNodes = errors.New("ledger: not enough eligible nodes")
	// ErrUnknownTask: no task has this ID.
	ErrUnknownTask = errors.New("ledger: unknown task")
	// ErrNotAssigned: the signer is not an executor of the task's current round.
	ErrNotAssigned = errors.New("ledger: node not assigned to task")
	// ErrCommitClosed: a commitment after the commit window closed.
	ErrCommitClosed = errors.New("ledger: commit window closed")
	// ErrAlreadyCommitted: a second commitment from the same executor.
	ErrAlreadyCommitted = errors.New("ledger: already committed")
	// ErrRevealTooEarly: a reveal while the commit window is still open (or in the block that
	// closed it), when it could still be copied.
	ErrRevealTooEarly = errors.New("ledger: reveal before commit window closed")
	// ErrNotCommitted: a reveal from an executor that made no commitment.
	ErrNotCommitted = errors.New("ledger: reveal without commitment")
	// ErrAlreadyRevealed: a second reveal from the same executor.
	ErrAlreadyRevealed = errors.New("ledger: already revealed")
	// ErrCommitmentMismatch: the revealed fingerprint and salt do not open the commitment.
	ErrCommitmentMismatch = errors.New("ledger: reveal does not match commitment")
	// ErrFingerprintLength: a revealed fingerprint of another length than the task declared.
	ErrFingerprintLength = errors.New("ledger: fingerprint length differs from task")
	// ErrTaskClosed: a commitment or reveal for a task already settled (a late reveal).
	ErrTaskClosed = errors.New("ledger: task already settled")
	// ErrUnknownAccount: the signer has no account (never funded); its transactions are
	// refused in CheckTx and never reach a block.
	ErrUnknownAccount = errors.New("ledger: unknown account")
	// ErrNoCapacity: enough nodes serve the task's model, but too few of them have a free
	// slot (Capacity) or are not jailed: the network is busy, retry later.
	ErrNoCapacity = errors.New("ledger: network at capacity")
	// ErrJail: an unjail from a node that is not jailed.
	ErrJail = errors.New("ledger: jail rule")
	// ErrCheck: a vote outside a check round, from an executor who did not reveal, a second
	// vote, or one naming candidates that do not exist.
	ErrCheck = errors.New("ledger: check round rule")
	// ErrKindNotServed: enough nodes serve the task's model, but too few of them declared that
	// they run the task's kind on it (RegisterNode.Kinds): nobody could run the task.
	ErrKindNotServed = errors.New("ledger: no node runs this kind of task on the model")
	// ErrPolicy: a task that disagrees with its model's registered verification policy
	// (fingerprint length, tolerance, verify mode), or a genesis policy that breaks a rule
	// (policy.go).
	ErrPolicy = errors.New("ledger: verification policy rule")
)

// codes maps each sentinel to its ABCI result code. Codes are part of the protocol: never
// renumber, only append.
var codes = []error{
	nil, // 0: OK
	ErrTxTooLarge,
	ErrMalformedTx,
	ErrBadSignature,
	ErrNonce,
	ErrInsufficientFunds,
	ErrUnknownNode,
	ErrStake,
	ErrInvalidTask,
	ErrNotEnoughNodes,
	ErrUnknownTask,
	ErrNotAssigned,
	ErrCommitClosed,
	ErrAlreadyCommitted,
	ErrRevealTooEarly,
	ErrNotCommitted,
	ErrAlreadyRevealed,
	ErrCommitmentMismatch,
	ErrFingerprintLength,
	ErrTaskClosed,
	ErrUnknownAccount,
	ErrNoCapacity,
	ErrJail,
	ErrCheck,
	ErrDispute, // segments.go
	ErrKindNotServed,
	ErrPolicy, // policy.go
}

// CodeInternal is the code of an error that wraps none of the sentinels (a bug).
const CodeInternal uint32 = 255

// Code returns the ABCI result code for err: 0 for nil, the sentinel's fixed code, or
// CodeInternal.
func Code(err error) uint32 {
	if err == nil {
		return 0
	}
	for i, e := range codes[1:] {
		if errors.Is(err, e) {
			return uint32(i + 1)
		}
	}
	return CodeInternal
}
