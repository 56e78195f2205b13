package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// TestLedgerNoEmptyBlocksPruneRestart runs the ledger on one validator with the default
// consensus settings (no empty blocks), block pruning, task pruning and snapshots:
//   - a task whose three executors commit and reveal settles in the last reveal's block;
//   - a task with an absent executor still settles: its windows end by tick blocks, since
//     no empty blocks are made;
//   - once nothing is open, no block comes;
//   - both tasks are pruned from the state; Client.Settlement still finds both settlements
//     while their blocks are kept, and, once the blocks below the retain height are pruned,
//     the one settled in a transaction (not the one settled at a deadline);
//   - the node stopped and restarted on a fresh Ledger starts from its snapshot (blocks 1..
//     are gone, so a replay from genesis would fail), reaches the same app hash and goes on.
func TestLedgerNoEmptyBlocksPruneRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator")
	}
	const chainID = "prune-test"
	signer := func(name string) *ledger.Signer {
		seed := sha256.Sum256([]byte(name))
		return ledger.NewSigner(ed25519.NewKeyFromSeed(seed[:]), chainID)
	}
	client := signer("client")
	execs := []*ledger.Signer{signer("e0"), signer("e1"), signer("e2")}
	p := ledger.DefaultParams()
	p.CommitWindow, p.RevealWindow = 3, 3
	p.MinCommitMillis, p.MinRevealMillis = 2000, 2000
	p.PruneAfter = 2
	gen := ledger.Genesis{ChainID: chainID, Params: p, Accounts: []ledger.GenesisAccount{{Key: client.Key(), Balance: 1 << 40}}}
	for _, e := range execs {
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: e.Key(), Balance: 1 << 20})
	}
	appState, err := json.Marshal(gen)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "home")
	ports := freePorts(t, 2)
	if err := InitHome(home, Settings{ChainID: chainID, AppState: appState,
		P2PAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), RPCAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])}); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(home); err != nil || c.Consensus.CreateEmptyBlocks || c.Consensus.CreateEmptyBlocksInterval != 0 {
		t.Fatalf("default settings: create_empty_blocks %v interval %v (%v), want false, 0", c.Consensus.CreateEmptyBlocks, c.Consensus.CreateEmptyBlocksInterval, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	logger := testLogger(t)
	opts := NodeOptions{RetainBlocks: 8, TickInterval: 50 * time.Millisecond}
	start := func() (*Node, *Ledger, *Client) {
		t.Helper()
		l := NewLedger()
		l.SnapshotEvery = 3
		n, err := StartNodeWith(ctx, home, l, logger, opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(logger, n.Local())
		if err != nil {
			t.Fatal(err)
		}
		return n, l, c
	}
	n, l, c := start()
	defer func() { n.Stop() }()
	submit := func(tx []byte) *Inclusion {
		t.Helper()
		inc, err := c.Submit(ctx, tx)
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		return inc
	}
	task := func(id ledger.TaskID) (TaskView, error) {
		var tv TaskView
		err := c.QueryJSON(ctx, QueryTask, id[:], &tv)
		return tv, err
	}
	waitStatus := func(id ledger.TaskID, status string) TaskView {
		t.Helper()
		for {
			tv, err := task(id)
			if err == nil && tv.Status == status {
				return tv
			}
			if ctx.Err() != nil {
				t.Fatalf("task %v: status %q (%v), want %q", id, tv.Status, err, status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	model := ledger.Model{Name: "m", Digest: sha256.Sum256([]byte("m"))}
	for _, e := range execs {
		submit(e.RegisterNode(ledger.RegisterNode{Stake: 1000, Models: []ledger.Model{model}}))
	}
	fp := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var salt [32]byte
	spec := ledger.SubmitTask{Kind: "image", Model: model, Prompt: []byte("a cat"), Seed: 1, Replicas: 3,
		Tolerance: 0, Rule: quorum.Majority, FingerprintLen: 8, Fee: 30}
	run := func(who, revealers []*ledger.Signer) ledger.TaskID {
		t.Helper()
		raw, id := client.SubmitTask(spec)
		submit(raw)
		for _, e := range who {
			if err := c.Broadcast(ctx, e.Commit(id, fp, salt)); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
		waitStatus(id, ledger.StatusReveal.String())
		for _, e := range revealers {
			if err := c.Broadcast(ctx, e.Reveal(id, fp, salt, [32]byte{})); err != nil {
				t.Fatalf("reveal: %v", err)
			}
		}
		return id
	}
	all := run(execs, execs)
	if tv := waitStatus(all, ledger.StatusAccepted.String()); tv.Support != 3 || tv.SettledAt == 0 {
		t.Errorf("all present: support %d, want 3", tv.Support)
	}
	// e2 never commits and e1 does not reveal: both windows end at their deadlines, reached by
	// tick blocks since no empty blocks are made; no verdict (1 of 3 revealed).
	absent := run(execs[:2], execs[:1])
	waitStatus(absent, ledger.StatusNoVerdict.String())

	// Nothing is open: after the proof block of the last change, no block comes.
	h0, err := c.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // 20 tick intervals: enough for ticks that should not be there
	if h, _ := c.Height(ctx); h > h0+1 {
		t.Errorf("idle chain made %d blocks in 1 s (height %d -> %d)", h-h0, h0, h)
	}

	// Transfers move the chain past the tasks' pruning heights (PruneAfter 2) while the
	// blocks that settled them are still kept (RetainBlocks 8).
	for _, err := task(absent); err == nil; _, err = task(absent) {
		submit(client.Transfer(execs[0].Key(), 1))
	}
	for _, id := range []ledger.TaskID{all, absent} {
		if _, err := task(id); err == nil || !strings.Contains(err.Error(), "unknown task") {
			t.Errorf("task %v after pruning: %v, want unknown task", id, err)
		}
	}
	checkAll := func() {
		t.Helper()
		if s, err := c.Settlement(ctx, all); err != nil || s.Event.Type != ledger.EventVerdict || !s.InTx || !s.Detailed ||
			!bytes.Equal(s.Event.Value, fp) || s.Event.Support != 3 {
			t.Errorf("Settlement(all) = %+v, %v; want the verdict with its attributes, from a transaction", s, err)
		} else if v := PrunedView(all, s); !v.Pruned || v.Status != "accepted" || v.Value != fmt.Sprintf("%x", fp) || len(v.Executors) != 3 {
			t.Errorf("PrunedView(all) = %+v", v)
		}
	}
	checkAll()
	// Settled at the reveal deadline: an end-of-block event, found by block search with its
	// attributes from the block's results while the block is kept.
	if s, err := c.Settlement(ctx, absent); err != nil || s.Event.Type != ledger.EventNoVerdict || s.InTx || !s.Detailed ||
		s.Event.Reason == "" {
		t.Errorf("Settlement(absent) = %+v, %v; want a no-verdict at the end of a block, with its reason", s, err)
	}
	// More blocks: the settling blocks are pruned. A verdict settled in a transaction stays
	// in the transaction index; one settled at a deadline is gone with its block (README:
	// Operations, pruning).
	for range 6 {
		submit(client.Transfer(execs[0].Key(), 1))
	}
	st, err := n.Local().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.SyncInfo.EarliestBlockHeight <= 1 {
		t.Errorf("earliest block %d: blocks not pruned", st.SyncInfo.EarliestBlockHeight)
	}
	checkAll()
	if s, err := c.Settlement(ctx, absent); !errors.Is(err, ErrNoSettlement) {
		t.Errorf("Settlement(absent) with its block pruned = %+v, %v; want ErrNoSettlement", s, err)
	}
	if _, err := c.Settlement(ctx, ledger.TaskID{9}); !errors.Is(err, ErrNoSettlement) {
		t.Errorf("Settlement(unknown) = %v, want ErrNoSettlement", err)
	}

	// Restart from the snapshot.
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	oldHeight, oldHash := l.Height(), l.AppHash()
	earliest := st.SyncInfo.EarliestBlockHeight
	n, l, c = start()
	inc := submit(client.Transfer(execs[1].Key(), 1)) // the node goes on
	if inc.Height <= oldHeight {
		t.Errorf("transfer after restart at height %d, want > %d", inc.Height, oldHeight)
	}
	next := oldHeight + 1
	blk, err := n.Local().Block(ctx, &next)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(blk.Block.AppHash, oldHash) {
		t.Errorf("app hash after restart at height %d: %X, before the stop %X", oldHeight, blk.Block.AppHash, oldHash)
	}
	if snap := l.SnapshotHeight(); snap == 0 || snap+1 < earliest {
		t.Errorf("restarted from snapshot %d with blocks kept from %d: a replay from genesis was needed", snap, earliest)
	}
	if _, err := c.Settlement(ctx, all); err != nil {
		t.Errorf("Settlement after restart: %v", err)
	}
}
