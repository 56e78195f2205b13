// Package chain replicates genquorum's deterministic state machine (package ledger) with
// CometBFT v0.40 (ABCI++): it owns the ABCI application adapter, the home directory layout and
// configuration, the in-process validator that is the embedded default, the generator of
// N-validator testnets, and a client that submits transactions and waits for their inclusion.
//
// It holds no business logic: every rule lives in the StateMachine it wraps. The adapter maps
// CheckTx to StateMachine.CheckTx (against the committed state, with its own code per reason), FinalizeBlock to
// StateMachine.FinalizeBlock on a staged copy, and Commit to StateMachine.Commit. The block's
// hash, decided by consensus, is handed to the state machine as its randomness, and the block's
// consensus time as integer milliseconds (windows' wall-time floors); no rule reads a local
// clock.
//
// Persistence: the ledger state lives in memory and is written to DIR/data/ledger every
// SnapshotEvery blocks (snapshot.go; the newest two kept). On start the app loads the newest
// snapshot and reports its height and app hash in Info, and CometBFT's handshake replays only
// the stored blocks above it, so a node restarted from its home rebuilds exactly the state it
// had without the blocks below the snapshot. A storage failure inside CometBFT halts the
// node, as CometBFT requires.
//
// # Empty blocks and windows
//
// The ledger counts windows in blocks and gives them wall-time floors from the blocks'
// consensus time (MinCommitMillis, MinRevealMillis; ledger/doc.go "Load"): a window ends at
// its deadline height, or at the first block after it whose time is past the floor. So
// blocks must come while a task waits for a deadline (an absent executor), and nothing needs
// them otherwise. CometBFT offers only two modes: a block after every
// create_empty_blocks_interval without transactions, for ever (create_empty_blocks=true, or
// false with an interval > 0: CometBFT's WaitForTxs treats both alike), or no empty blocks at
// all (create_empty_blocks=false, interval 0). A fixed interval trades idle blocks against
// window time: generated testnets have 30-block windows, so 200 ms meant 300 blocks a minute
// idle (about 186 measured on the loaded machine), and an interval long enough to matter
// (say 15 s) would stretch a 30-block window to 7.5 minutes.
//
// genquorum therefore writes create_empty_blocks=false, create_empty_blocks_interval=0 by
// default and paces blocks itself only while needed: the state machine reports Waiting (some
// task is not settled), and then each validator puts a tick transaction (TickTx: no
// signature, no fee, one valid per height, stripped by App before the ledger sees the block)
// in its mempool when no block came for NodeOptions.TickInterval (1 s). Idle, the chain makes
// no block at all (0 per minute measured, against ~186 before); while a round waits for an
// absent executor, a block comes every 1-2 s, so a 30-block commit window with a 60 s floor
// closes after about 60 s and a reveal window with a 20 s floor after 30-60 s: bounded by
// max(window x 2 s, floor + 2 s). Rounds whose executors all answer close by their own
// transactions, as before. CometBFT still makes one "proof" block after every block that
// changed the app hash (its needProofBlock); the node daemon relies on it, since it reads a
// block's results once the next block exists. Tests and devnets that set EmptyBlockInterval
// (e.g. 20 ms) keep CometBFT's empty blocks.
//
// # Pruning
//
// Blocks: with NodeOptions.RetainBlocks = N > 0 the app answers Commit with a retain height
// that keeps the newest N blocks and every block above the older kept ledger snapshot (a
// restart, or a rollback, replays from there); CometBFT then prunes the block store and its
// per-height state below it. Tasks: the genesis parameter ledger.Params.PruneAfter deletes
// settled tasks from the ledger state that many blocks after settlement. Their verdicts stay
// in the event index: Client.Settlement finds a task's verdict or no-verdict event by
// tx_search (settled in a transaction, the usual case: the last reveal; kept for ever, the
// index is not pruned) or block_search (settled at a deadline: found only while that block is
// kept). genquorum task ID answers a pruned task from there (PrunedView).
// Only the "task" attribute of events is indexed (any event of a task is found by
// "TYPE.task='ID'"); searching by node, amount or other attributes is not supported.
//
// Other settings that matter (measured on a 2-core machine, see DESIGN.md): timeout_commit 0;
// on loopback addr_book_strict=false, allow_duplicate_ip=true, PEX off with persistent peers,
// timeout_propose ~500 ms and peer_gossip_sleep_duration 10 ms.
package chain
