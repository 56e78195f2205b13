package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/ledger"
)

// slowEngine is the fake engine taking run of wall time per task, as an engine on a busy
// machine does.
type slowEngine struct {
	*enginetest.Fake
	run time.Duration
}

func (e slowEngine) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	select {
	case <-time.After(e.run):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.Fake.Run(ctx, t)
}

// TestSlowNodesUnderBurst is the mechanism of the honest no-commit slashes of a loaded `demo
// --tasks 300`: a node holds as many open assignments as it declared, runs them one after the
// other, and the commit window only guarantees its time floor (MinCommitMillis; blocks may
// pass faster than the window's block count). Three nodes whose engine takes 500 ms get a
// burst of 12 tasks (all three execute each) with a 4 s floor and a 2-block window: with the
// fixed default capacity (32) each node queues all 12 and the last ones miss the window
// (6 s of runs); a node that sizes its capacity from its run time (intake.go: a 2 s budget
// for 500 ms runs, 3 open assignments) makes the burst wait for capacity and misses none.
func TestSlowNodesUnderBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator and a network of nodes")
	}
	for _, c := range []struct {
		name  string
		fixed bool
	}{
		{"fixed capacity: last of the queue misses the window", true},
		{"capacity from run time: none missed", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
			defer cancel()
			var reg engine.Registry
			if err := reg.Register(slowEngine{enginetest.NewFake(modelA), 500 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			params := ledger.DefaultParams()
			params.CommitWindow, params.RevealWindow = 2, 2
			params.MinCommitMillis, params.MinRevealMillis = 4000, 2000
			var specs []devnet.NodeSpec
			for _, p := range []string{"exact", "cpu-avx2", "ampere-fp16"} {
				specs = append(specs, devnet.NodeSpec{Profile: p, FixedCapacity: c.fixed})
			}
			nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, Params: params,
				EmptyBlockInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := nw.Stop(); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
			cl := nw.Clients[0]
			cl.WaitBusy = true
			// One task first: each node learns how long a run takes.
			id, err := cl.Submit(ctx, textRequest("warm-up", 1, 3))
			if err != nil {
				t.Fatal(err)
			}
			if tv, err := cl.Wait(ctx, id); err != nil || tv.Status != ledger.StatusAccepted.String() {
				t.Fatalf("warm-up task: %v (%+v)", err, tv)
			}
			if !c.fixed {
				// Wait (block by block) until every node declared what it can run in the floor.
				for h := int64(1); ; h++ {
					caps, err := capacities(ctx, nw)
					if err != nil {
						t.Fatal(err)
					}
					low := 0
					for _, cp := range caps {
						if cp < 32 {
							low++
						}
					}
					if low == len(caps) {
						t.Logf("declared capacities after one run: %v", caps)
						break
					}
					cur, err := nw.Chain.Height(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if err := nw.Chain.WaitHeight(ctx, cur+1); err != nil {
						t.Fatalf("nodes still declare %v after one 500 ms run: %v", caps, err)
					}
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 12)
			for i := range 12 {
				wg.Go(func() {
					id, err := cl.Submit(ctx, textRequest(fmt.Sprintf("burst %d", i), uint64(i), 3))
					if err == nil {
						_, err = cl.Wait(ctx, id)
					}
					if err != nil {
						errs <- fmt.Errorf("task %d: %w", i, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var noCommit, slashed uint64
			for _, n := range nw.Nodes {
				key := n.Key()
				var nv chain.NodeView
				if err := nw.Chain.QueryJSON(ctx, chain.QueryNode, key[:], &nv); err != nil {
					t.Fatal(err)
				}
				noCommit += nv.Record.NoCommit
				slashed += nv.Record.Slashed
			}
			t.Logf("honest no-commits %d, slashed %d", noCommit, slashed)
			switch {
			case c.fixed && noCommit == 0:
				t.Errorf("fixed capacity: no honest node missed a commit window; the burst did not reproduce the mechanism")
			case !c.fixed && (noCommit > 0 || slashed > 0):
				t.Errorf("capacity from run time: %d honest no-commits, %d slashed; want none", noCommit, slashed)
			}
		})
	}
}

// capacities returns the capacity each node of nw declares on the ledger.
func capacities(ctx context.Context, nw *devnet.Network) ([]uint32, error) {
	var out []uint32
	for _, n := range nw.Nodes {
		key := n.Key()
		var nv chain.NodeView
		if err := nw.Chain.QueryJSON(ctx, chain.QueryNode, key[:], &nv); err != nil {
			return nil, err
		}
		out = append(out, nv.Capacity)
	}
	return out, nil
}
