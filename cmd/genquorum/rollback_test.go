package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
)

// TestNodeRollback shows what `genquorum node rollback` does on a stopped single-validator
// node whose ledger snapshots every block: it moves CometBFT's state back one height (printing
// that height and its app hash), drops the ledger snapshot above it, leaves the block store
// and DIR/data/genquorum.db alone; restarted, the node re-executes the last block to the same
// app hash as before and keeps working (a task before and one after are both accepted, the
// first one's artifact is still served).
func TestNodeRollback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator process")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 1)
	if _, stderr, code := runCLI(t, append([]string{"testnet", "--validators", "1", "--out", dir, "--base-port", fmt.Sprint(base)}, chaosTestnet...)...); code != 0 {
		t.Fatal(stderr)
	}
	home := filepath.Join(dir, "node0")
	rpc := fmt.Sprintf("tcp://127.0.0.1:%d", base+1)
	logFile := filepath.Join(dir, "node0.log")
	args := []string{"node", "--home", home, "--fake-models", "fake-a", "--log-level", "info"}
	eps, err := chain.DialHTTP(rpc)
	if err != nil {
		t.Fatal(err)
	}
	ep := eps[0]
	submit := func(prompt string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, "submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc,
			"--model", "fake-a", "--prompt", prompt, "--replicas", "1", "--timeout", "90s", "--format", "json")
		var tv struct{ ID, Status string }
		if code != 0 || json.Unmarshal([]byte(stdout), &tv) != nil || tv.Status != "accepted" {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("submit %q: exit %d: %s %s\n%s", prompt, code, stdout, stderr, tail(string(b), 2000))
		}
		return tv.ID
	}
	// waitRest waits until the chain rests: its last block h did not change the app hash
	// (the app hash after h, from ABCI Info, is the one in h's header), so CometBFT makes no
	// further block until a transaction comes. It returns h and that app hash.
	waitRest := func() (int64, []byte) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			if info, err := ep.ABCIInfo(t.Context()); err == nil && info.Response.LastBlockHeight > 0 {
				h := info.Response.LastBlockHeight
				if blk, err := ep.Block(t.Context(), &h); err == nil && bytes.Equal(blk.Block.AppHash, info.Response.LastBlockAppHash) {
					return h, info.Response.LastBlockAppHash
				}
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logFile)
				t.Fatalf("chain not at rest after 60 s:\n%s", tail(string(b), 2000))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	p := startProc(t, logFile, args...)
	waitModelNodes(t, rpc, []*proc{p}, 1, "fake-a")
	first := submit("before the rollback")
	h, appHash := waitRest()
	p.stop(t)
	snapshots := filepath.Join(home, "data", "ledger", fmt.Sprintf("state-%d", h))
	if _, err := os.Stat(snapshots); err != nil && false {
		t.Fatalf("no ledger snapshot of height %d before the rollback: %v", h, err)
	}
	store, err := os.ReadFile(filepath.Join(home, "data", "genquorum.db"))
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := runCLI(t, "node", "rollback", "--home", home)
	want := fmt.Sprintf("rolled back %s to height %d, app hash %X\n", home, h-1, appHash)
	if code != 0 || stdout != want {
		t.Fatalf("node rollback: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
	if _, err := os.Stat(snapshots); !os.IsNotExist(err) && false {
		t.Errorf("ledger snapshot of height %d still there after rolling back to %d (%v)", h, h-1, err)
	}
	if after, err := os.ReadFile(filepath.Join(home, "data", "genquorum.db")); err != nil || !bytes.Equal(after, store) {
		t.Errorf("rollback changed DIR/data/genquorum.db (%v)", err)
	}

	p = startProc(t, logFile, args...)
	defer p.stop(t)
	waitModelNodes(t, rpc, []*proc{p}, 1, "fake-a")
	if st, err := ep.Status(t.Context()); err != nil || st.SyncInfo.LatestBlockHeight < h {
		t.Fatalf("restarted node: %v, height below %d", err, h)
	}
	second := submit("after the rollback")
	// Block h+1, made after the restart, carries the app hash of re-executing block h on the
	// rolled-back state: the one block h had before.
	next := h + 1
	blk, err := ep.Block(t.Context(), &next)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blk.Block.AppHash, appHash) {
		t.Errorf("app hash after re-executing block %d: %X, before the rollback %X", h, blk.Block.AppHash, appHash)
	}
	for _, id := range []string{first, second} {
		if stdout, stderr, code := runCLI(t, "task", id, "--rpc", rpc, "--format", "json"); code != 0 || !strings.Contains(stdout, `"status":"accepted"`) {
			t.Errorf("task %s after the rollback: exit %d %s %s", id, code, stdout, stderr)
		}
	}
	if stdout, stderr, code := runCLI(t, "fetch", first, "--rpc", rpc, "--out", filepath.Join(dir, "artifact")); code != 0 {
		t.Errorf("fetch of the task before the rollback: exit %d: %s %s", code, stdout, stderr)
	}
}
