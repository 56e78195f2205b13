package chain

import (
	"fmt"
	"os"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/privval"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
)

// Rollback rolls the CometBFT state of the home back by one height (CometBFT's rollback
// command), and with removeBlock also deletes the last block. A validator that halted with a
// state store ahead of its block store, or with an app hash mismatch after a bad upgrade,
// then re-executes the last block on start. Ledger snapshots above that height are deleted;
// the ledger restarts from the older one kept and replays the blocks above it. It returns the
// height and app hash rolled back to.
func Rollback(home string, removeBlock bool) (int64, []byte, error) {
	c, err := LoadConfig(home)
	if err != nil {
		return 0, nil, err
	}
	h, hash, err := rollbackState(c, removeBlock)
	if err != nil {
		return 0, nil, fmt.Errorf("chain: rollback %s: %w", home, err)
	}
	if err := restoreAppVersion(c); err != nil {
		return h, hash, fmt.Errorf("chain: rollback %s: %w", home, err)
	}
	// The ledger must not start above the rolled-back height: drop newer snapshots (the one
	// kept below is replayed from).
	if _, err := DropSnapshotsAbove(LedgerDir(c.DBDir()), h); err != nil {
		return h, hash, err
	}
	return h, hash, nil
}

// rollbackState is CometBFT's commands.RollbackState (cmd/cometbft/commands/rollback.go,
// v0.40.0) on the same public API: it opens the block and state stores of the home and calls
// state.Rollback. Importing package commands instead linked CometBFT's whole command line
// (its inspect server, light proxy and cgo) into genquorum, and its package initialisation
// into every command's start-up.
func rollbackState(c *cfg.Config, removeBlock bool) (int64, []byte, error) {
	dbType := dbm.BackendType(c.DBBackend)
	for _, name := range []string{"blockstore.db", "state.db"} {
		if _, err := os.Stat(filepath.Join(c.DBDir(), name)); err != nil {
			return -1, nil, fmt.Errorf("no %s found in %v: %w", name, c.DBDir(), err)
		}
	}
	blockDB, err := dbm.NewDB("blockstore", dbType, c.DBDir())
	if err != nil {
		return -1, nil, err
	}
	blocks := store.NewBlockStore(blockDB)
	defer blocks.Close()
	stateDB, err := dbm.NewDB("state", dbType, c.DBDir())
	if err != nil {
		return -1, nil, err
	}
	states := sm.NewStore(stateDB, sm.StoreOptions{DiscardABCIResponses: c.Storage.DiscardABCIResponses})
	defer states.Close()
	return sm.Rollback(blocks, states, removeBlock)
}

// ResetData deletes the CometBFT databases of the home (block store, state, consensus WAL,
// evidence, transaction index) and resets the validator's last-signed state, keeping its
// keys, genesis and configuration (CometBFT's unsafe-reset-all without touching keys). The
// node then syncs the chain again from its peers. It returns the paths removed.
func ResetData(home string) ([]string, error) {
	c, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, name := range []string{"blockstore.db", "state.db", "cs.wal", "evidence.db", "tx_index.db", "ledger"} {
		p := filepath.Join(c.DBDir(), name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return removed, fmt.Errorf("chain: reset %s: %w", home, err)
		}
		removed = append(removed, p)
	}
	if _, err := os.Stat(c.PrivValidatorKeyFile()); err != nil {
		return removed, fmt.Errorf("chain: reset %s: validator key: %w", home, err)
	}
	privval.LoadFilePVEmptyState(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()).Reset()
	return removed, nil
}

// restoreAppVersion gives the rolled-back state the app version its blocks carry. CometBFT
// keeps the app version twice: in the state's version (from the app's Info at genesis: 1 for
// the ledger) and in the consensus parameters (the genesis file's, 0). Its rollback rebuilds
// the state's version from the parameters, so the node then refused to start ("error on
// replay: wrong Block.Header.Version. Expected {11 0}, got {11 1}"; tendermint issue 8095).
// The version is taken from the block the node will re-execute (or, with the last block
// removed, the newest block kept).
func restoreAppVersion(c *cfg.Config) error {
	dbType := dbm.BackendType(c.DBBackend)
	blockDB, err := dbm.NewDB("blockstore", dbType, c.DBDir())
	if err != nil {
		return err
	}
	blocks := store.NewBlockStore(blockDB)
	defer blocks.Close()
	stateDB, err := dbm.NewDB("state", dbType, c.DBDir())
	if err != nil {
		return err
	}
	states := sm.NewStore(stateDB, sm.StoreOptions{DiscardABCIResponses: c.Storage.DiscardABCIResponses})
	defer states.Close()
	st, err := states.Load()
	if err != nil {
		return err
	}
	meta := blocks.LoadBlockMeta(st.LastBlockHeight + 1)
	if meta == nil {
		meta = blocks.LoadBlockMeta(st.LastBlockHeight)
	}
	if meta == nil || meta.Header.Version.App == st.Version.Consensus.App {
		return nil
	}
	st.Version.Consensus.App = meta.Header.Version.App
	return states.Save(st)
}
