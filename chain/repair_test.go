package chain

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
)

// storeHeights opens the block and state stores of home and returns the block store's height,
// the state's last block height and its app hash.
func storeHeights(t *testing.T, home string) (blocks, stateHeight int64, appHash []byte) {
	t.Helper()
	c, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := dbm.NewDB("blockstore", dbm.BackendType(c.DBBackend), c.DBDir())
	if err != nil {
		t.Fatal(err)
	}
	bs := store.NewBlockStore(bdb)
	defer bs.Close()
	sdb, err := dbm.NewDB("state", dbm.BackendType(c.DBBackend), c.DBDir())
	if err != nil {
		t.Fatal(err)
	}
	ss := state.NewStore(sdb, state.StoreOptions{})
	defer ss.Close()
	st, err := ss.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The header of the block after the state's height carries the app hash of that state.
	if m := bs.LoadBlockMeta(st.LastBlockHeight + 1); m != nil && !bytes.Equal(m.Header.AppHash, st.AppHash) {
		t.Errorf("state at %d has app hash %X, block %d's header says %X", st.LastBlockHeight, st.AppHash,
			st.LastBlockHeight+1, m.Header.AppHash)
	}
	return bs.Height(), st.LastBlockHeight, st.AppHash
}

// TestRollback rolls a stopped validator back by one height, keeping the last block (it is
// executed again on the restart) and then removing it, and checks the stores.
func TestRollback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator")
	}
	if _, _, err := Rollback(t.TempDir(), false); err == nil {
		t.Error("Rollback of an empty directory = nil error")
	}
	home := filepath.Join(t.TempDir(), "home")
	ports := freePorts(t, 2)
	s := Settings{P2PAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), RPCAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]), EmptyBlockInterval: 20 * time.Millisecond}
	if err := InitHome(home, s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Rollback(home, false); err == nil {
		t.Error("Rollback of a home without blocks = nil error")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	logger := testLogger(t)
	nonce := 0
	run := func(txs int) {
		t.Helper()
		n, err := StartNode(ctx, home, newCounter(), logger)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(logger, n.Local())
		if err != nil {
			t.Fatal(err)
		}
		for range txs {
			nonce++
			if _, err := c.Submit(ctx, fmt.Appendf(nil, "add:k%d:%d", nonce%3, nonce)); err != nil {
				t.Fatalf("Submit: %v", err)
			}
		}
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	run(4)
	blocks, height, _ := storeHeights(t, home)
	if height < 2 || blocks != height {
		t.Fatalf("after a run: block store at %d, state at %d; want equal and >= 2", blocks, height)
	}

	h, hash, err := Rollback(home, false)
	if err != nil {
		t.Fatal(err)
	}
	b2, s2, appHash := storeHeights(t, home)
	if h != height-1 || s2 != h || b2 != blocks || !bytes.Equal(hash, appHash) {
		t.Fatalf("Rollback = %d, %X; stores: blocks %d, state %d, app hash %X; want %d, blocks %d", h, hash, b2, s2, appHash, height-1, blocks)
	}

	// A restart executes the kept block again (CometBFT checks the app hashes on the way).
	run(2)
	blocks, height, _ = storeHeights(t, home)
	if height <= h+1 || blocks != height {
		t.Fatalf("after restart: block store at %d, state at %d; want equal and > %d", blocks, height, h+1)
	}

	h, hash, err = Rollback(home, true)
	if err != nil {
		t.Fatal(err)
	}
	b2, s2, appHash = storeHeights(t, home)
	if h != height-1 || s2 != h || b2 != h || !bytes.Equal(hash, appHash) {
		t.Fatalf("Rollback(hard) = %d, %X; stores: blocks %d, state %d, app hash %X; want %d for both", h, hash, b2, s2, appHash, height-1)
	}
	// No restart here: a lone validator's key has signed the removed block, and its
	// double-signing guard refuses to sign a different one at that height.
}
