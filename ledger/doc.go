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
//   - A policy is a model's verification policy for one kind of task, registered at genesis:
//     its fingerprint scheme (one or several hashes, each with a tolerance) and the measured
//     Type I and Type II rates in parts per million. A task on a model with a policy must
//     declare the policy's fingerprint length and tolerance, and settles under it (policy.go).
//   - A round is one set of executors for a task: round 0, and at most one adaptive round 1.
//   - A commitment is CommitmentFor(task, node, fingerprint, salt); a reveal opens it.
//
// # Protocol
//
// Transactions (wire format on Tx) are signed by their sender over the chain ID with a nonce
// that the account has not used: above its highest accepted nonce, or at most NonceWindow (1024)
// below it. Each nonce is accepted at most once, so a replay is rejected, while transactions
// of one signer that validators' mempools delivered out of order (they gossip independently)
// are still accepted; a nonce more than NonceWindow below the highest is refused.
//
// Admission and fees. A transaction is admitted to the state when it decodes, its signature
// verifies, its signer has an account (ErrUnknownAccount otherwise: a never-funded key), its
// nonce is unused and its balance covers Params.TxFee. An admitted transaction uses its nonce
// and pays TxFee (burned) whatever its body does; a body that fails changes nothing else. A
// transaction that is not admitted changes nothing at all. The mempool runs State.CheckTx on
// the committed state, which refuses everything that would not be admitted plus the cheap
// body failures (funds for the amount, stake or task fee, capacity, unknown task, not
// jailed), each with its own code (Code), so no free transaction reaches a block and a replay
// is refused even by a validator whose mempool cache is empty. A transaction that passes
// CheckTx and still fails in its block (the state moved on) pays its fee.
//
//  1. RegisterNode bonds stake (at least Params.MinStake), lists the models served and
//     declares Capacity, the most assignments the node holds open at once (0: no limit).
//  2. SubmitTask escrows the fee, and in the same block draws the executors: Replicas distinct
//     nodes serving the exact model, staked at least MinStake, not jailed, holding fewer open
//     assignments than their Capacity, not the submitter, sampled without replacement with
//     probability proportional to stake, from SHA-256(block randomness, task ID, round, draw
//     index) (see State.assign). With fewer eligible nodes than Replicas the submission is
//     rejected: ErrNotEnoughNodes when too few nodes serve the model at all, ErrNoCapacity
//     when enough serve it but too few are free (admission control: the client retries
//     later, and no node is handed more work than it declared it can finish in a window).
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
//     Wall-time floors (MinCommitMillis, MinRevealMillis) may move a deadline later; see
//     "Load" below.
//  5. Settlement happens in the transaction of the last outstanding reveal (so the verdict is
//     in the block of the last reveal), or at the end of the RevealDeadline block, or at the end
//     of the commit deadline block if nobody committed. quorum.Decide runs on the revealed
//     fingerprints with the round's executor count as replicas, so missing reveals count
//     against the threshold (quorum.DecideParts, each part within its own tolerance, when the
//     task's model has a verification policy for its kind: policy.go).
//     With a verdict: the fee is split equally among the agreeing executors; the remainder of
//     the integer division goes back to the submitter. Outliers lose SlashOutlierBPS of their
//     stake. Without a verdict: revealers are not slashed (nobody knows who was right).
//     In both cases executors who did not commit lose SlashNoCommitBPS, those who committed
//     and did not reveal SlashNoRevealBPS (with jailing: both count towards it, and the
//     no-reveal slash is deferred, see "Downtime"), copiers SlashCopyBPS. Slashed stake is
//     burned.
//  6. Adaptive replication: a round without verdict starts one more round with
//     max(2n-1, n+1) fresh executors if the task's MaxReplicas allows it and enough nodes are
//     eligible; otherwise, the task ends StatusNoVerdict with its fee refunded. The second
//     round stands alone: its executors are drawn afresh (round-0 executors may be drawn
//     again), round-0 reveals are not counted, and round-0 revealers are not slashed
//     afterwards even if the final verdict disagrees with them. The Task keeps only the
//     current round's executors; the events keep the history.
//  7. Score-based verdicts (SubmitTask.Verify == VerifyScore, text tasks whose fingerprint is
//     the token-sequence digest, tolerance 0). Exact equality stays the fast path: when every
//     revealed fingerprint is the same, settlement is as above. When they differ, settlement
//     opens a check round instead (StatusCheck, EventCheckOpen naming the revealers, votes
//     accepted until CheckDeadline = that height + RevealWindow). The candidates are the
//     distinct revealed fingerprints in the order of their first revealer (Candidates); each
//     executor who revealed fetches every candidate's token ids over p2p (by the revealed
//     artifact digest), checks them with one teacher-forced pass of the task's model on its own
//     hardware (greedy: every token within a logit margin of its argmax; sampled: top-k/top-p
//     membership and the replayed seeded draw inside the token's interval, see
//     engine/llm/SAMPLING.md) and votes, per candidate, valid, invalid or unsure (two 64-bit
//     masks, Valid and Unsure; a bit in neither is invalid). Votes are committed before they
//     are revealed, like outputs, so a voter that skips its checks cannot copy votes already in
//     blocks: a VoteCommit (VoteCommitmentFor(task, node, valid, unsure, salt)) in the
//     RevealWindow blocks after the round opened (closing early when every revealer committed:
//     StatusCheckReveal, EventVoteRevealOpen), then a Vote opening it, from the next block up
//     to CheckDeadline = close + RevealWindow; the two windows have the outputs' wall-time
//     floors, MinCommitMillis and MinRevealMillis (see "Load"). The round settles when every
//     committed vote is revealed, or at CheckDeadline. Tally: candidate k is determined valid
//     with at least need(rule, revealers) valid votes, invalid with as many invalid votes,
//     undetermined otherwise (unsure votes count neither way). Each revealer is then, in this
//     order: no-vote when it committed or revealed no vote (SlashNoRevealBPS, ReasonNoVote;
//     with jailing deferred and waivable like a missed reveal, see "Downtime"); an outlier when
//     its candidate is invalid (SlashOutlierBPS); contrary when its vote marked valid a
//     candidate determined invalid or invalid one determined valid (SlashOutlierBPS,
//     ReasonContrary, not paid: it judged wrong, or did not judge); abstained when it voted
//     unsure on a determined candidate (neither paid nor slashed); agreed (paid) when its
//     candidate is valid; undecided otherwise. The verdict needs need(rule, executors)
//     revealers whose candidate is valid (contrary and abstained ones included: their output is
//     valid); its value is the valid candidate revealed most often; the fee is split among the
//     agreed executors, the rest refunded. Without a verdict the fee is refunded (no adaptive
//     round after a check round). Honest near-tie disagreement: a verifier votes unsure when
//     the tolerance a claim needs lies in a band above the tolerance that is wider than the
//     largest drift measured between honest profiles (engine/llm.JudgeTokens:
//     DefaultGreedyBand 0.4 logits above DefaultGreedyTol 0.5, DefaultSampleBand 0.07 of mass
//     above DefaultSampleTol 0.05). If one honest verifier finds a claim valid, no honest
//     verifier finds it beyond the band, and the other way round, so honest voters never
//     firmly contradict each other and are never slashed as contrary; an honest abstention
//     costs at most that task's reward (a lazy voter that always abstains earns nothing in
//     check rounds). A candidate whose check lands in the band for most voters stays
//     undetermined: its revealer is neither paid nor slashed. Known limits: the drift bound is
//     measured on the preset profiles, not proven for all hardware; a substitute whose tokens
//     stay within the margin (a q8_0 quantisation of the task's model, see genquorum study
//     substitution) is accepted.
//
// # Spot checks and escalation
//
// A spot-checked task (SubmitTask.SpotPPM = q in parts per million, Replicas 1, VerifyEqual;
// refused unless Params.SpotVerifiers > 0) has one executor. When its commitment closes the
// commit window (block h) the task waits (StatusSpotDraw) and reveals are refused; at the end of
// block h+1 the draw takes that block's randomness, which did not exist when the commitment
// was sent: verified when floor(x * 10^6 / 2^64) < q, x the first 8 bytes of
// SHA-256("genquorum/spot/v1" || block rand || task ID) (SpotDrawn; EventSpotDrawn). Verified:
// SpotVerifiers nodes (by stake, never the executor or the submitter, capacity and jailing
// apply) join the round, commit within CommitWindow blocks (the executor's commitment stands),
// then all reveal and the round settles under the task's rule like any other: a cheating
// executor outvoted by honest verifiers is an outlier (SlashOutlierBPS), no verdict may start
// the adaptive round. Not verified: the reveal window opens for the executor alone and its
// reveal settles the task, accepted with Reason "unverified" (and paid the whole fee). Drawn
// but fewer than SpotVerifiers nodes free: settled unverified too, Reason saying so. The odds
// of catching a cheater and when cheating pays are computed off-chain (package odds, Spot).
//
// Escalation (Params.EscalateVerifiers = K > 0, VerifyEqual tasks): a verdict of a round of at
// least two executors that is thin (its agreeing executors are exactly the rule's need, e.g.
// 2 of 3) or near the tolerance edge (an agreeing fingerprint at distance d > 0 from the
// value with d + EscalateMarginBits >= Tolerance; margin 0: off) is not settled: K more
// verifiers, not among the executors, are drawn (EventEscalated, EventTaskAssigned naming
// them), commit and reveal, and the round settles over all its executors (the rule's need
// grows with them). Earlier executors that did not commit cannot commit any more. A round
// escalates at most once; with fewer than K free nodes, or no room under MaxReplicas, it
// settles as before with Reason "escalation skipped: too few free nodes". Known limits: the
// escalation verifiers see the revealed fingerprints, so a lazy one can copy the majority's
// value instead of computing (it then shares the fee without work, as in an adaptive round);
// a validator that proposes the draw block can bias the draw by choosing its contents, as it
// can bias any assignment.
//
// Nodes whose stake falls below MinStake are no longer assigned. Unbond returns stake to the
// balance, but a node with open assignments must keep MinStake bonded.
//
// # Training tasks
//
// A training task (SubmitTask.Verify == VerifySegments, segments.go; package train computes
// everything off-ledger) carries a SegmentSpec: Segments S, SegmentSteps K, Checks c. Executor 0 of the round is the trainer, the others are verifiers; only the
// trainer commits (the commit window closes with its commitment) and reveals its series
// (SeriesBytes: per checkpoint 0..S the SHA-256 of its state and its integer fingerprint;
// FingerprintLen = SeriesLen(S, dim)). The reveal opens verification (StatusSegments): the
// reveal block's randomness (Task.SegmentRand) picks c segments per verifier
// (SegmentPicks); each verifier fetches checkpoint k over p2p, checks it against the
// revealed digest, re-runs K steps on its own hardware, judges the distance to checkpoint
// k+1 off-ledger and votes (bit j: its j-th pick passed). Votes are committed before they are
// revealed, as in a check round (step 7, the same transactions and code): a VoteCommit
// (VoteCommitmentFor(task, node, mask, 0, salt); the picks the bits refer to are fixed by the
// task and the verifier's index) within CommitWindow blocks of the reveal (floor
// MinCommitMillis; closing early when every verifier committed: StatusSegmentsReveal,
// EventVoteRevealOpen), then a Vote opening it, from the next block up to RevealWindow blocks
// after the close (floor MinRevealMillis). A Vote without a commitment, before the
// commitments closed, or not opening its commitment is refused, and no commitment is accepted
// once the reveals opened, so a verifier that skips its checks cannot copy a vote it saw. When
// every committed vote is revealed (or at the deadline; verifiers that committed no vote or
// did not reveal it are no-votes: SlashNoRevealBPS, deferred and waivable like a missed reveal,
// see "Downtime"),
// each verifier that failed a segment, in executor order, opens a Dispute over its earliest
// failed segment, then (after conceding it) over its next failed one, so that honest drift on
// one segment cannot shield a cheat on another (StatusDispute): state digests under the spec's declared profile, exact,
// exchanged as Bisect transactions. For segment 0 the challenger first gives its digest of
// the initial state (if it differs from checkpoint 0, step 0 itself is disputed); then its
// digest after the segment's end (equal to the trainer's: it concedes, neither paid nor
// slashed); then both sides give their digests at the midpoint each round (RevealWindow
// blocks per round), the ledger keeping the half where they part, until one step is left
// (ceil(log2 K) rounds). A referee drawn by stake among the other eligible nodes
// (SHA-256 of the block randomness, the task and the challenger) re-executes that step from
// the agreed state and sends its digest within CommitWindow blocks; a side whose digest
// differs lied (SlashOutlierBPS, ReasonLied); half of what a liar loses pays whoever caught it
// (the referee, and the challenger when the trainer lied, in equal shares), the rest is
// burned. A trainer that lied ends the task rejected
// (StatusNoVerdict, Reason naming the step, fee refunded); a challenger that lied is slashed
// and the next challenger's dispute opens; when none is left the task is accepted, Value is
// the series, and the trainer and every verifier that voted (a lying challenger excepted)
// share the fee. A side silent in its phase loses (ReasonNoAnswer, slashed as a missed
// reveal: see Downtime); a silent referee ends the task without verdict (only the referee
// slashed); no eligible
// referee ends it without verdict. Only digests, step numbers and bitmasks reach the
// ledger: distances are judged by the verifiers. Known limits: a verifier can still vote
// "pass" without re-running anything (commitment only stops copying); the series must fit
// MaxFingerprintBytes (S+1 checkpoints of 32 + 4 dim bytes).
//
// # Trajectory-verified image tasks
//
// An image task with SubmitTask.Verify == VerifyTrajectory (trajectory.go) has one generator
// (executor 0), which alone commits, to its image fingerprint followed by the SHA-256 of its
// sampler's state at Segment.Segments+1 evenly spaced steps (TrajectoryBytes), and
// Replicas-1 verifiers. Its reveal opens verification (StatusSegments) and fixes SegmentRand;
// TrajectoryPicks draws the Segment.Checks segments every verifier re-runs from the served
// states on its own hardware. Each verifier votes (a bit per pick, one for the ends: the first
// state is the seed's noise, the image fingerprint is the last state's image's), committed
// then revealed exactly as a training task's verifier does (VoteCommit within CommitWindow
// blocks, closing early when all committed; Vote up to RevealWindow blocks after the close;
// no-votes as there). A pick or the ends failed by a strict majority of the drawn verifiers
// (among the revealed votes) rejects the task
// (ReasonTrajectorySegment naming the segment, or ReasonTrajectoryEnds; the generator slashed
// SlashOutlierBPS, half paid to the verifiers who voted the failure; fee refunded); otherwise
// Value is the image fingerprint and the generator and the voting verifiers share the fee.
// Known limits: no dispute or referee (a colluding majority of the drawn verifiers decides).
//
// # Load: batches, time floors, capacity
//
// An executor keeps up with many tasks by sending one Batch per block carrying all its ready
// commitments (and one with its ready reveals) under one signature, nonce and fee, with
// several batches in flight under increasing nonces (the NonceWindow accepts them in any
// order); items that fail are skipped (EventItemRejected, with the item's code) and the rest
// applies. A window is counted in blocks, and blocks come faster under load, so windows also
// have a wall-time floor from the blocks' consensus timestamps (Block.Time, integer
// milliseconds of CometBFT's BFT time, agreed by the validators): a commit window ends at its
// deadline height only once MinCommitMillis of block time has passed since the assignment,
// and a reveal window only once MinRevealMillis has passed since the commit window closed;
// otherwise the deadline moves to the next block. Honest rounds still close early (every
// executor committed, every committer revealed), so the floor only delays rounds with an
// absent executor. Capacity bounds each node's open assignments, so a burst larger than the
// network can run is refused at submission (ErrNoCapacity) instead of being handed to nodes
// that cannot finish in time. The ledger cannot know how fast a node runs, so this holds only
// if the node declares what it can run within MinCommitMillis: package node re-announces a
// smaller capacity (RegisterNode without stake) when its runs slow down.
//
// A client submits many tasks at once in a SubmitBatch: one signature, nonce and TxFee for up
// to MaxBatchItems tasks (within MaxTxBytes), each escrowing its own Fee; item i becomes
// task BatchTaskID(signer, nonce, i), known to the client before inclusion. Items apply in
// order like a Batch's: one that fails (ErrNoCapacity once the free capacity is used, funds,
// replicas) is skipped with an EventItemRejected, so a burst larger than the capacity is
// accepted up to it and the rest refused item by item. CheckTx refuses a SubmitBatch none of
// whose tasks passes the submission rules.
//
// # Downtime
//
// With Params.JailAfterMisses = k > 0, a node whose assignments ended k times in a row without
// its work (no commitment, or a commitment it did not reveal) is jailed: it is no longer
// assigned until it sends an Unjail transaction (the daemon sends it when it starts or sees
// itself jailed), and it is slashed once (EventJailed, then EventSlash). An assignment that
// settles with its reveal resets the count (unless a no-reveal slash of the node is still
// deferred: then the node has sent nothing since that miss, and the reveal is older); Unjail
// resets it too. Missed commitments are never slashed per task (not before the k-th miss,
// not while jailed). With k = 0 each missed commitment is slashed SlashNoCommitBPS and each
// missed reveal SlashNoRevealBPS, at settlement.
//
// A missed reveal is where a node that is down and a node that withholds look alike: both
// committed and then said nothing. The ledger tells them apart by what the node does next.
//
//   - Deferred. A missed reveal's SlashNoRevealBPS is not charged at settlement but recorded
//     on the node (Node.Pending, EventSlashDeferred), and the miss counts towards jailing.
//   - Charged on a sign of life. The node's next transaction admitted to a block (any kind:
//     a commitment, a reveal, a transfer, an unbond, an unjail; even one whose body then
//     fails) shows it is up: its deferred slashes are charged then, before the body runs,
//     oldest first (EventSlash, ReasonNoRevealCharged). So a node that is alive and withholds
//     a reveal pays per task, as before, one transaction later; an unbond cannot dodge it.
//   - Waived by jailing. If the node sends nothing until its k-th miss in a row, it is jailed
//     and its deferred slashes are waived (EventSlashWaived, ReasonWaivedJailed); while it is
//     jailed and still silent (Node.Dark) its further missed reveals are waived as well
//     (ReasonWaivedDown). Record.Waived counts them. A jailed node that sends a transaction is
//     no longer Dark: its later missed reveals are deferred again, and its Unjail (or any
//     other transaction) charges them.
//   - The jailing slash is SlashJailBPS, or SlashNoRevealBPS when that is larger and the
//     jailing waived at least one deferred no-reveal slash (ReasonJailedWaiving).
//
// What a node that is really down pays: one slash, SlashJailBPS if it owed no reveal when
// it fell silent, else SlashNoRevealBPS (genquorum testnet: 1 % or 5 %, once), instead of
// SlashNoRevealBPS per commitment it could not reveal compounded (a 60-second outage with 12
// commitments in flight cost 46 % of the stake before).
//
// The attack this opens, and what it costs. An executor whose output disagrees with the
// others' reveals (a cheater that ran a cheaper model, or an honest node on drifting
// hardware) can: reveal and be an outlier (SlashOutlierBPS, 10 % by default: the
// disagreement slash an honest node pays); withhold its reveal and stay active
// (SlashNoRevealBPS, 5 %, charged at its next transaction; this gap between withholding and
// disagreeing predates the deferral and is a choice of parameters: a chain that wants
// withholding never cheaper than disagreeing sets SlashNoRevealBPS >= SlashOutlierBPS, and
// then honest crashes between commit and reveal cost as much as a wrong answer); or withhold
// and go dark, sending no transaction at all until k assignments in a row have ended without
// its work, so that it is jailed. Going dark costs the jailing at the no-reveal rate (it
// waives a deferred no-reveal slash), every reward of the tasks it leaves undone while
// silent, and no assignments until its Unjail is included: never less than withholding while
// active, so the deferral opens no cheaper exit for one withheld reveal. It is not per task,
// though: one jailing waives every missed reveal of the silence, so a node that is in the
// minority on many open tasks at once can go dark and pay one no-reveal slash for all of
// them (instead of one per task, or the disagreement slash per task), at the price of every
// reward of that silence. That is the price of not slashing a node that is down per task,
// since the ledger cannot see whether a silent node is watching; it is bounded by the
// node's open assignments (its Capacity) per jailing, and jailings and waived reveals stay
// in the node's public Record. A missed vote (a check round's, or a verifier's of a training
// task or of a trajectory: ReasonNoVote) and a side's silence in a training dispute (ReasonNoAnswer, which
// also loses the dispute) are handled as missed reveals: deferred, and waived by jailing.
// Known limit: a node whose last transactions are included after it died (they were in flight) is
// seen as alive at that height, which only matters for slashes deferred before then.
//
// # Unrunnable tasks
//
// The ledger cannot tell whether a task can run (parameters are opaque, floats live in the
// engines), so griefing with a task that no honest executor can run is priced, not detected:
// an executor that cannot run a task commits to and reveals UnrunnableFingerprint(task,
// FingerprintLen), a hash only computable from the task ID. When a majority reveals it the
// task is accepted with Reason "unrunnable": the executors who agree are paid the fee like for
// any verdict (so the submitter pays for the task it made them check) and none is slashed; an
// executor claiming it alone on a runnable task is an outlier. Clients check parameters before
// submitting (package node), so an honest submission is not refused this way.
//
// What the ledger can check it refuses at submission: a node declares, per model it serves,
// the kinds of task its engines run on it (RegisterNode.Kinds, strings like "text" or
// "text,image"), a task is assigned only to nodes running its kind on its model, and a task
// for which fewer than Replicas staked nodes do is refused with ErrKindNotServed (code 25) in
// CheckTx and in its block, before any executor is drawn (ErrNotEnoughNodes when too few
// serve the model at all, ErrNoCapacity when enough run it but too few are free). A node that
// declares no kinds for a model is taken to run every kind on it, at its own risk.
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
//	// CheckTx (mempool; serialised with blocks): against the committed state, remembers good
//	// signatures. (The package function ledger.CheckTx is the stateless part alone.)
//	if _, err := st.CheckTx(raw, cache); err != nil {
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
// safe for concurrent use (State.CheckTx only reads, so it may run beside other readers); the
// package functions CheckTx, DecodeTx, TaskIDFor, CommitmentFor and SigCache are.
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
