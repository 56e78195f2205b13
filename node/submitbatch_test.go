package node_test

import (
	"errors"
	"testing"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
)

// TestSubmitBatchRunsOnExecutors: tasks a client submits in one SubmitBatch transaction are
// run by the nodes like singly submitted ones and settle accepted by all three executors; a
// task the ledger skips (more replicas than nodes) comes back with its code and never exists.
func TestSubmitBatchRunsOnExecutors(t *testing.T) {
	nw, ctx := startNet(t, []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}})
	c := nw.Clients[0]
	rs := []node.Request{textRequest("Once upon a time", 1, 3), textRequest("Once upon a time", 2, 3),
		textRequest("Once upon a time", 3, 5), textRequest("A photo of a bag", 4, 3)}
	ids, errs, err := c.SubmitBatch(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	var rej *node.ItemRejectedError
	if len(ids) != 4 || errs[0] != nil || errs[1] != nil || errs[3] != nil ||
		!errors.As(errs[2], &rej) || rej.Code != ledger.Code(ledger.ErrNotEnoughNodes) {
		t.Fatalf("ids %d, item errors %v; want 4, only the third skipped (not enough nodes)", len(ids), errs)
	}
	for i, id := range ids {
		if i == 2 {
			if _, err := c.Task(ctx, id); err == nil {
				t.Errorf("skipped task %d exists", i)
			}
			continue
		}
		tv, err := c.Wait(ctx, id)
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		if tv.Status != "accepted" || tv.Support != 3 {
			t.Errorf("task %d: status %s support %d; want accepted by 3", i, tv.Status, tv.Support)
		}
	}
}
