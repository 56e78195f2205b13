// Package ledger is genquorum's settlement core: a pure, deterministic state machine of
// accounts, nodes, stake, tasks, executor assignment, commit-reveal of fingerprints, verdicts,
// rewards and slashing. The chain package wraps it in a CometBFT ABCI application; the node
// daemon and the CLI build transactions with a Signer.
//
// # Determinism
//
// The next state depends only on the previous state and the Block (height, consensus
// randomness, transactions). The package reads no clock, randomness, file, network or
// environment, starts no goroutines, uses integers only (amounts are uint64 units, rates basis
// points), never lets map order reach a result (every ordered walk is over sorted keys, and the
// app hash accumulator is a commutative sum), and derives all randomness by hashing the
// block's randomness with SHA-256 in this package. TestDeps fails if the package imports time,
// math/rand, crypto/rand, os or net.
//
// # Vocabulary
//
//   - An account is an ed25519 public key with a balance, the highest nonce it used and which
//     of the NonceWindow nonces below that it used.
//   - A node is an account that registered: bonded stake, the engines and models it serves,
//     its hardware profile and class, and its record (assigned, agreed, outliers, ...).
//   - A task asks for Replicas executors to run a model on a prompt and seed and reveal
//     fingerprints of FingerprintLen bytes; a Rule (majority or super-majority) and a Hamming
//     Tolerance decide it (package quorum). Its Fee is escrowed at submission.
//   - A round is one set of executors for a task: round 0, and at most one adaptive round 1.
//   - A commitment is CommitmentFor(task, node, fingerprint, salt); a reveal opens it.
//
// # Protocol
//
// Transactions (wire format on Tx) are signed by their sender over the chain ID with a nonce
// that the account has not used: above its highest accepted nonce, or at most NonceWindow (1024)
// below it. Each nonce is accepted at most once, so a replay is rejected, while transactions
// of one signer that validators' mempools delivered out of order (they gossip independently)
// are still accepted; a nonce more than NonceWindow below the highest is refused. A
// transaction that fails any check is rejected with a non-zero code (Code) and changes
// nothing at all, its nonce included.
//
//  1. RegisterNode bonds stake (at least Params.MinStake) and lists the models served.
//  2. SubmitTask escrows the fee, and in the same block draws the executors: Replicas distinct
//     nodes serving the exact model, staked at least MinStake, not the submitter, sampled
//     without replacement with probability proportional to stake, from
//     SHA-256(block randomness, task ID, round, draw index) (see State.assign). With fewer
//     eligible nodes than Replicas the submission is rejected (ErrNotEnoughNodes): the client
//     retries later or asks for fewer.
//  3. Commit windows: executors commit in the CommitWindow blocks after the assignment. The
//     window closes early, in the block of the last executor's commitment. Two executors
//     committing identical bytes are both flagged (EventDuplicateCommitment); since the
//     commitment contains the committer's key, only its author can open it, and the other is
//     slashed as a copier at settlement. (Penalising "the later one" outright would let a
//     copier who front-runs the author's transaction get the author slashed.)
//  4. Reveals are accepted from the block after the commit window closed up to
//     RevealDeadline = (height the commit window closed) + RevealWindow, which is at most
//     assignment + CommitWindow + RevealWindow (the deadline set at assignment, brought forward
//     when the commit window closes early). Reveals that do not open the
//     commitment, come before the window closed, come from executors without a commitment,
//     have the wrong length, or come after settlement are rejected with their own error.
//  5. Settlement happens in the transaction of the last outstanding reveal (so the verdict is
//     in the block of the last reveal), or at the end of the RevealDeadline block, or at the end
//     of the commit deadline block if nobody committed. quorum.Decide runs on the revealed
//     fingerprints with the round's executor count as replicas, so missing reveals count
//     against the threshold.
//     With a verdict: the fee is split equally among the agreeing executors; the remainder of
//     the integer division goes back to the submitter. Outliers lose SlashOutlierBPS of their
//     stake. Without a verdict: revealers are not slashed (nobody knows who was right).
//     In both cases executors who did not commit lose SlashNoCommitBPS, those who committed
//     and did not reveal SlashNoRevealBPS, copiers SlashCopyBPS. Slashed stake is burned.
//  6. Adaptive replication: a round without verdict starts one more round with
//     max(2n-1, n+1) fresh executors if the task's MaxReplicas allows it and enough nodes are
//     eligible; otherwise, the task ends StatusNoVerdict with its fee refunded. The second
//     round stands alone: its executors are drawn afresh (round-0 executors may be drawn
//     again), round-0 reveals are not counted, and round-0 revealers are not slashed
//     afterwards even if the final verdict disagrees with them. The Task keeps only the
//     current round's executors; the events keep the history.
//
// Nodes whose stake falls below MinStake are no longer assigned. Unbond returns stake to the
// balance, but a node with open assignments must keep MinStake bonded.
//
// # App hash
//
// The app hash commits to every state entry through an LtHash accumulator updated in O(changed
// entries) per block (see hash.go); it does not depend on the height, so blocks that change
// nothing leave it as it was, as a chain without empty blocks needs. MarshalState is the
// canonical encoding of the whole state; UnmarshalState restores it and recomputes the hash.
//
// # Use
//
// The shell (package chain) runs, for each transaction that reaches the mempool and each
// decided block:
//
//	cache := ledger.NewSigCache(chainID, 1<<16)
//	// CheckTx (mempool, may run concurrently with blocks): stateless, remembers good signatures.
//	if _, err := ledger.CheckTx(chainID, raw, cache); err != nil {
//		return reject(ledger.Code(err), err)
//	}
//	// FinalizeBlock: the state machine; signatures found in the cache are not checked again.
//	res, err := st.FinalizeBlock(ledger.Block{Height: h, Rand: blockHash, Txs: txs}, cache)
//	// ... turn res.TxResults and res.Events into ABCI results and events, answer res.AppHash
//	// Commit: persist, then
//	err = st.Commit()
//	save(st.MarshalState())
//
// The cache memoizes a pure function (ed25519 verification of exact bytes for one chain ID),
// so a validator with a cold cache reaches the same results, only more slowly. A State is not
// safe for concurrent use; CheckTx, DecodeTx, TaskIDFor, CommitmentFor and SigCache are.
//
// Clients use a Signer:
//
//	s := ledger.NewSigner(priv, chainID)
//	s.SetNonce(st.Account(s.Key()).Nonce)
//	tx, id := s.SubmitTask(ledger.SubmitTask{...})
//	// an executor, after EventTaskAssigned names it:
//	commit := s.Commit(id, fingerprint, salt) // salt: 32 bytes from crypto/rand, kept secret
//	// after EventRevealOpen (from the next block on):
//	reveal := s.Reveal(id, fingerprint, salt)
package ledger
