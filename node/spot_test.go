package node_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
)

// revealCounter counts the reveals a node queues per task.
type revealCounter struct {
	mu sync.Mutex
	n  map[ledger.TaskID]int
}

func (c *revealCounter) Block(*chain.BlockActivity)              {}
func (c *revealCounter) Queue(int)                               {}
func (c *revealCounter) EngineStarted(string)                    {}
func (c *revealCounter) EngineDone(string, time.Duration, error) {}
func (c *revealCounter) TxQueued(kind string, task ledger.TaskID) {
	if kind == "reveal" {
		c.mu.Lock()
		c.n[task]++
		c.mu.Unlock()
	}
}

func (c *revealCounter) count(task ledger.TaskID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[task]
}

// TestSpotCheckOnDevnet runs spot-checked tasks through real transactions and node daemons.
// The wrong-model node holds nearly all the stake, so it is the single executor of both tasks
// (each other node is drawn with probability 1e4/1.00003e9). Task 1 (verified with
// probability 1): two honest verifiers are drawn after its commitment, act on the assignment,
// outvote it, and the thin verdict (2 of 3) escalates to one more honest verifier; it is
// slashed as an outlier. Task 2 (1 ppm): not drawn, settled on its reveal alone, "unverified",
// the wrong value accepted: what a spot check trades away. No node queues its reveal twice
// although the escalation opens the round's reveals a second time.
func TestSpotCheckOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator and a network of nodes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	p := ledger.DefaultParams()
	p.CommitWindow, p.RevealWindow = 200, 20
	p.SpotVerifiers, p.EscalateVerifiers = 2, 1
	specs := []devnet.NodeSpec{{}, {}, {}, {}, {Behaviour: node.WrongModel, Stake: 1_000_000_000}}
	counters := make([]*revealCounter, len(specs))
	for i := range specs {
		counters[i] = &revealCounter{n: map[ledger.TaskID]int{}}
		specs[i].Observer = counters[i]
	}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: registry(t), Params: p,
		EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	cheater := nw.Nodes[4].Key().String()
	c := nw.Clients[0]
	verified := textRequest("A spot-checked prompt", 1, 1)
	verified.SpotPPM = ledger.PPM
	unverified := textRequest("An unchecked prompt", 2, 1)
	unverified.SpotPPM = 1
	id1, err := c.Submit(ctx, verified)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Submit(ctx, unverified)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := c.Wait(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tv.Executors) == 0 || tv.Executors[0].Node != cheater {
		t.Skipf("the wrong-model node was not drawn as executor (probability 3e-5)")
	}
	if tv.Status != "accepted" || tv.Spot == nil || tv.Spot.Phase != ledger.SpotVerified || !tv.Spot.Escalated ||
		len(tv.Executors) != 4 || tv.Support != 3 || tv.Reason != "" {
		t.Fatalf("verified task: status %s spot %+v, %d executors, support %d, reason %q; want accepted, verified and escalated, 4 executors, support 3",
			tv.Status, tv.Spot, len(tv.Executors), tv.Support, tv.Reason)
	}
	for i, c := range counters {
		if n := c.count(id1); n > 1 {
			t.Errorf("node %d queued its reveal of the verified task %d times", i, n)
		}
	}
	for i, e := range tv.Executors {
		want := "agreed"
		if i == 0 {
			want = "outlier"
		}
		if e.Outcome != want || (i > 0 && e.Node == cheater) {
			t.Errorf("executor %d (%s): %s, want %s", i, e.Node[:12], e.Outcome, want)
		}
	}
	tv, err = c.Wait(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if tv.Executors[0].Node != cheater {
		t.Skipf("the wrong-model node was not drawn as executor (probability 3e-5)")
	}
	if tv.Status != "accepted" || tv.Reason != ledger.ReasonUnverified || len(tv.Executors) != 1 || tv.Spot.Phase != ledger.SpotUnverified {
		t.Fatalf("unverified task: status %s reason %q, %d executors, spot %+v", tv.Status, tv.Reason, len(tv.Executors), tv.Spot)
	}
}
