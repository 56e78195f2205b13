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
// Persistence: the state machine lives in memory; on start the app reports the height and app
// hash of its last snapshot (none by default), and CometBFT's handshake replays the stored
// blocks above it, so a node restarted from its home rebuilds exactly the state it had. A
// storage failure inside CometBFT halts the node, as CometBFT requires.
//
// Settings that matter (measured on a 2-core machine, see DESIGN.md): timeout_commit 0 and
// empty blocks every EmptyBlockInterval (windows in the ledger are counted in blocks, so blocks
// must keep coming while tasks wait); on loopback addr_book_strict=false,
// allow_duplicate_ip=true, PEX off with persistent peers, timeout_propose ~500 ms and
// peer_gossip_sleep_duration 10 ms.
package chain
