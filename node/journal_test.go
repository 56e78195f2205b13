package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
)

// TestSubmitRetryAfterTimeout: a submission whose context ends right after a mempool admitted
// it (genquorum submit's --timeout, with KEY.pending as the journal) keeps its signed bytes in
// the journal; running the same submission again, as a new process, resends those bytes: one
// transaction (the account's nonce moves by one), the same task ID, and the journal is gone.
func TestSubmitRetryAfterTimeout(t *testing.T) {
	nw, ctx := startNet(t, []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}})
	key := devnet.Key("client", 0)
	journal := filepath.Join(t.TempDir(), "client.key.pending")
	nonce := func() uint64 {
		t.Helper()
		var a ledger.Account
		k := nw.Clients[0].Key()
		if err := nw.Chain.QueryJSON(ctx, chain.QueryAccount, k[:], &a); err != nil {
			t.Fatal(err)
		}
		return a.Nonce
	}
	// The timeout strikes between admission and inclusion. Should a block include the
	// submission before Submit notices (it polls), that try says nothing: try another request.
	for try := range 5 {
		req := textRequest("retried after a timeout", uint64(try), 3)
		before := nonce()
		first := node.NewClient(key, nw.ChainID, nw.Chain)
		first.Journal = journal
		tctx, cancel := context.WithCancel(ctx)
		var announced ledger.TaskID
		first.Accepted = func(id ledger.TaskID) { announced = id; cancel() }
		_, err := first.Submit(tctx, req)
		cancel()
		if err == nil {
			t.Logf("try %d: included before the timeout was noticed; again", try)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("first submit: %v", err)
		}
		if _, err := os.Stat(journal); err != nil {
			t.Fatalf("no journal after the timeout: %v", err)
		}
		// The user retries once the first transaction is in a block (the worst case: a client
		// that signed afresh would now take the next nonce and pay twice).
		for {
			var tv chain.TaskView
			if nw.Chain.QueryJSON(ctx, chain.QueryTask, announced[:], &tv) == nil {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("the first submission never reached a block")
			case <-time.After(20 * time.Millisecond):
			}
		}
		retry := node.NewClient(key, nw.ChainID, nw.Chain) // a new process: fresh nonce, same journal
		retry.Journal = journal
		id, err := retry.Submit(ctx, req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if id != announced {
			t.Errorf("retry returned task %v, the first submit announced %v", id, announced)
		}
		if got := nonce(); got != before+1 {
			t.Errorf("account nonce %d after the retry, want %d: the submission was paid twice", got, before+1)
		}
		if _, err := os.Stat(journal); !os.IsNotExist(err) {
			t.Errorf("journal left after inclusion: %v", err)
		}
		if _, err := retry.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("every try was included before its timeout was noticed")
}
