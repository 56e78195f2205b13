package ledger

import (
	"crypto/ed25519"
)

// Signer builds and signs transactions for one key on one chain, numbering them with
// consecutive nonces. It is what the node daemon and the CLI use. It is not safe for
// concurrent use.
type Signer struct {
	priv    ed25519.PrivateKey
	pub     PubKey
	chainID string
	nonce   uint64
}

// NewSigner returns a signer for priv on chainID whose first transaction has nonce 1. Call
// SetNonce with the account's Nonce from the ledger to continue after earlier transactions.
// It panics if priv is not an ed25519 private key.
func NewSigner(priv ed25519.PrivateKey, chainID string) *Signer {
	if len(priv) != ed25519.PrivateKeySize {
		panic("ledger: NewSigner: bad private key length")
	}
	s := &Signer{priv: priv, chainID: chainID}
	copy(s.pub[:], priv.Public().(ed25519.PublicKey))
	return s
}

// Key returns the signer's public key.
func (s *Signer) Key() PubKey { return s.pub }

// Nonce returns the nonce of the last transaction signed (0 before any).
func (s *Signer) Nonce() uint64 { return s.nonce }

// SetNonce sets the last used nonce: the next transaction gets last+1.
func (s *Signer) SetNonce(last uint64) { s.nonce = last }

// Sign encodes body with the next nonce and signs it. The nonce advances even if the ledger
// later rejects the transaction; that is harmless, since nonces may skip values.
func (s *Signer) Sign(body Body) []byte {
	s.nonce++
	b := encodeUnsigned(s.pub, s.nonce, body)
	return append(b, ed25519.Sign(s.priv, SignBytes(s.chainID, b))...)
}

// Transfer signs a transfer of amount to to.
func (s *Signer) Transfer(to PubKey, amount uint64) []byte {
	return s.Sign(&Transfer{To: to, Amount: amount})
}

// RegisterNode signs a node registration or update.
func (s *Signer) RegisterNode(r RegisterNode) []byte { return s.Sign(&r) }

// SubmitBatch signs the submission of tasks in one SubmitBatch transaction and returns it
// with the IDs the tasks will have, in order.
func (s *Signer) SubmitBatch(tasks []SubmitTask) ([]byte, []TaskID) {
	tx := s.Sign(&SubmitBatch{Tasks: tasks})
	ids := make([]TaskID, len(tasks))
	for i := range ids {
		ids[i] = BatchTaskID(s.pub, s.nonce, i)
	}
	return tx, ids
}

// Unbond signs an unbonding of amount.
func (s *Signer) Unbond(amount uint64) []byte { return s.Sign(&Unbond{Amount: amount}) }

// SubmitTask signs a task submission and returns it with the ID the task will have.
func (s *Signer) SubmitTask(t SubmitTask) ([]byte, TaskID) {
	tx := s.Sign(&t)
	return tx, TaskIDFor(s.pub, s.nonce)
}

// Commit signs the commitment to fingerprint under salt for task. Keep fingerprint and salt
// for Reveal; the salt must come from a secure random source.
func (s *Signer) Commit(task TaskID, fingerprint []byte, salt [32]byte) []byte {
	return s.Sign(&Commit{Task: task, Commitment: CommitmentFor(task, s.pub, fingerprint, salt)})
}

// Reveal signs the opening of an earlier commitment.
func (s *Signer) Reveal(task TaskID, fingerprint []byte, salt [32]byte, artifact [32]byte) []byte {
	return s.Sign(&Reveal{Task: task, Fingerprint: fingerprint, Salt: salt, Artifact: artifact})
}

// Batch signs one transaction carrying commitments and reveals (see Batch).
func (s *Signer) Batch(b Batch) []byte { return s.Sign(&b) }

// Unjail signs a request to end the signer's node's jailing.
func (s *Signer) Unjail() []byte { return s.Sign(&Unjail{}) }
