package ledger

import (
	"crypto/sha256"
	"fmt"
)

// CheckTx is the mempool's check against this state, which should be the last committed
// state: CheckTx (the package function: size, decoding, stateless rules, signature), then
// what makes a transaction pay its fee in a block (the signer's account exists, the nonce is
// unused, the balance covers TxFee), then the cheap body rules whose failure would only burn
// the fee: the balance covers TxFee plus a transfer, stake or task fee; a task has enough
// free nodes running its kind on its model (ErrNoCapacity, ErrKindNotServed,
// ErrNotEnoughNodes); a commit or reveal names an open task of
// the signer (a Batch: at least one of its items does; a SubmitBatch: at least one of its
// tasks passes the submission rules); an unjail comes from a jailed node.
//
// A transaction it refuses would be rejected by FinalizeBlock on this state; one it admits
// may still fail in its block (the state moves on, other transactions come first), and then
// pays TxFee. A replay is refused here even by a validator whose mempool cache is empty,
// since used nonces are in the state. It only reads s; the caller serialises it with
// FinalizeBlock.
func (s *State) CheckTx(raw []byte, cache *SigCache) (*Tx, error) {
	tx, err := CheckTx(s.chainID, raw, cache)
	if err != nil {
		return nil, err
	}
	if err := s.admit(tx); err != nil {
		return nil, err
	}
	bal := s.accounts[tx.Signer].Balance - s.params.TxFee
	need := func(amount uint64, what string) error {
		if bal < amount {
			return fmt.Errorf("%w: balance %d after the transaction fee, %s %d", ErrInsufficientFunds, bal, what, amount)
		}
		return nil
	}
	switch b := tx.Body.(type) {
	case *Transfer:
		err = need(b.Amount, "transfer")
	case *RegisterNode:
		err = need(b.Stake, "stake")
	case *Unbond:
		if s.nodes[tx.Signer] == nil {
			err = fmt.Errorf("%w: %v", ErrUnknownNode, tx.Signer)
		}
	case *SubmitTask:
		err = s.checkSubmit(tx.Signer, b, need)
	case *SubmitBatch:
		// Like a Batch: refused when no task of it could be accepted; the tasks that fail
		// in the block are skipped there.
		for i := range b.Tasks {
			if err = s.checkSubmit(tx.Signer, &b.Tasks[i], need); err == nil {
				break
			}
		}
		if err != nil {
			err = fmt.Errorf("no task of the batch can be accepted: %w", err)
		}
	case *Commit:
		_, _, err = s.openTask(b.Task, tx.Signer)
	case *Reveal:
		_, _, err = s.openTask(b.Task, tx.Signer)
	case *Vote:
		_, _, err = s.openTask(b.Task, tx.Signer)
	case *Bisect:
		if t := s.tasks[b.Task]; t == nil {
			err = fmt.Errorf("%w: %v", ErrUnknownTask, b.Task)
		} else if t.Status != StatusDispute {
			err = fmt.Errorf("%w: task %v has no open dispute (status %s)", ErrDispute, t.ID, t.Status)
		}
	case *VoteCommit:
		_, _, err = s.openTask(b.Task, tx.Signer)
	case *Batch:
		err = s.checkBatch(tx.Signer, b)
	case *Unjail:
		if n := s.nodes[tx.Signer]; n == nil {
			err = fmt.Errorf("%w: %v", ErrUnknownNode, tx.Signer)
		} else if !n.Jailed {
			err = fmt.Errorf("%w: node %v is not jailed", ErrJail, tx.Signer)
		}
	}
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// checkSubmit is CheckTx's rule for one submission: the balance left after the
// transaction fee (need) covers the task fee, the replicas are within the chain's limit, the
// task meets its verification policy (if any) and enough free nodes run the task's kind on
// its model.
func (s *State) checkSubmit(signer PubKey, b *SubmitTask, need func(uint64, string) error) error {
	if err := need(b.Fee, "task fee"); err != nil {
		return err
	}
	if b.Replicas > s.params.MaxReplicas || b.MaxReplicas > s.params.MaxReplicas {
		return fmt.Errorf("%w: replicas %d (max %d) over the chain's limit %d", ErrInvalidTask,
			b.Replicas, b.MaxReplicas, s.params.MaxReplicas)
	}
	if err := s.checkPolicy(b); err != nil {
		return err
	}
	if err := s.checkSpot(b); err != nil {
		return err
	}
	_, err := s.candidates(b.Model, b.Kind, signer, int(b.Replicas))
	return err
}

// checkBatch refuses a batch none of whose items names an open task of signer.
func (s *State) checkBatch(signer PubKey, b *Batch) error {
	var first error
	try := func(id TaskID) bool {
		_, _, err := s.openTask(id, signer)
		if err != nil && first == nil {
			first = err
		}
		return err == nil
	}
	for i := range b.Commits {
		if try(b.Commits[i].Task) {
			return nil
		}
	}
	for i := range b.Reveals {
		if try(b.Reveals[i].Task) {
			return nil
		}
	}
	return fmt.Errorf("no item of the batch can apply: %w", first)
}

// UnrunnableFingerprint is the fingerprint an executor commits to and reveals when it cannot
// run a task (its parameters do not decode, its kind does not match the model's engine, the
// engine refuses it): SHA-256("genquorum/unrunnable/v1" || task || counter) expanded to n
// bytes. Executors that all find a task unrunnable agree on it like on any fingerprint, so a
// majority of them is paid the task's fee (the submitter pays for the griefing task) and none
// is slashed; a lone executor who claims it on a runnable task is an outlier. It is a hash, so
// no artifact's fingerprint comes within tolerance of it except by chance.
func UnrunnableFingerprint(task TaskID, n uint32) []byte {
	out := make([]byte, 0, n+32)
	for i := uint32(0); uint32(len(out)) < n; i++ {
		var m [23 + 32 + 4]byte
		copy(m[:], "genquorum/unrunnable/v1")
		copy(m[23:], task[:])
		m[55], m[56], m[57], m[58] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		h := sha256.Sum256(m[:])
		out = append(out, h[:]...)
	}
	return out[:n]
}
