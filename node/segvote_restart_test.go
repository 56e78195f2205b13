package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/train"
)

// TestSegmentVoteRestart: a verifier of a training task that is stopped after its vote
// commitment is on chain, and restarted only after the vote reveals opened (more blocks back
// than a starting node re-reads, so it never sees EventVoteRevealOpen), reveals the vote it
// committed from the salt it saved, at reconcile: the vote opens its commitment, the task is
// accepted and the verifier paid, not slashed. The network: a devnet node (stake 10,000: the
// trainer, drawn first almost always; the task is submitted again otherwise), a crashed
// devnet node (a verifier that never commits, so that the vote commitments stay open until
// their window ends: the test can stop the verifier between commit and reveal), and the
// verifier under test, a node of its own that the test stops and starts on the same key,
// store and p2p host. The windows have wall-time floors (MinCommitMillis, MinRevealMillis)
// so that a loaded machine does not close them before the verifier has had its turn.
func TestSegmentVoteRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 3 nodes, trains a tiny run")
	}
	reg, base, data := tinyTrainEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = 100, 100
	params.MinCommitMillis, params.MinRevealMillis = 15_000, 30_000
	dir := t.TempDir()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: dir, Nodes: []devnet.NodeSpec{{Profile: "exact"},
		{Profile: "exact", Behaviour: node.Crashed, Stake: 100}}, Engines: reg, Params: params, Clients: 2,
		EmptyBlockInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	verifier := newRestartNode(ctx, t, dir, "verifier")
	defer verifier.close()
	me := verifier.pub
	stop := verifier.start(ctx, t, nw, reg, "verifier")
	w := taskWatch{ctx: ctx, t: t, nw: nw}
	taskView, waitTask := w.view, w.wait
	mine := func(tv chain.TaskView) int {
		for i, e := range tv.Executors {
			if e.Node == me.String() {
				return i
			}
		}
		return -1
	}
	dim, err := train.FingerprintDimOf(base, "ti")
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := fingerprint.ParseScheme("vector:simhash/256")
	if err != nil {
		t.Fatal(err)
	}
	var id ledger.TaskID
	var v int
	for seed := uint64(50); ; seed++ {
		if seed == 55 {
			t.Fatal("the trainer was not the high-stake node in five tasks in a row")
		}
		task := engine.Task{Kind: engine.KindTrain, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "<concept>", Seed: seed,
			Train: &engine.TrainParams{Method: "ti", Steps: 12, Checkpoint: 4, Dataset: data.Digest()}}
		if id, err = nw.Clients[0].Submit(ctx, node.Request{Task: task, Scheme: scheme, Replicas: 3, Rule: quorum.Majority, Fee: 300,
			SegmentChecks: 3, SegmentDim: dim}); err != nil {
			t.Fatal(err)
		}
		tv := waitTask(id, "assigned", func(tv chain.TaskView) bool { return len(tv.Executors) == 3 })
		if tv.Executors[0].Node == nw.Nodes[0].Key().String() {
			v = mine(tv)
			break
		}
		t.Logf("seed %d: the trainer is not the high-stake node; submitting again", seed)
		waitTask(id, "settled", func(tv chain.TaskView) bool { return tv.SettledAt != 0 })
	}
	if v < 1 {
		t.Fatalf("the verifier under test is executor %d", v)
	}
	tv := waitTask(id, "vote-committed by the verifier", func(tv chain.TaskView) bool {
		return tv.SettledAt != 0 || tv.Executors[v].VoteCommitted
	})
	if tv.Status != ledger.StatusSegments.String() {
		t.Fatalf("task %s %q when the verifier's commitment landed: want the vote commitments still open", tv.Status, tv.Reason)
	}
	stop() // between commit and reveal
	tv = waitTask(id, "in its vote reveals", func(tv chain.TaskView) bool { return tv.Status != ledger.StatusSegments.String() })
	if tv.Status != ledger.StatusSegmentsReveal.String() || tv.Executors[v].Voted {
		t.Fatalf("task %s %q, verifier voted %t: want the vote reveals open, no vote", tv.Status, tv.Reason, tv.Executors[v].Voted)
	}
	// Restart only once the block that opened the reveals is more than the two blocks back
	// that a starting node re-reads: the restarted node must find its vote by reconciling.
	w.blocks(6)
	if tv := taskView(id); tv.Status != ledger.StatusSegmentsReveal.String() {
		t.Fatalf("the vote reveals ended before the restart: %s %q", tv.Status, tv.Reason)
	}
	stop = verifier.start(ctx, t, nw, reg, "verifier")
	defer stop()
	tv = waitTask(id, "settled", func(tv chain.TaskView) bool { return tv.SettledAt != 0 })
	x := tv.Executors[v]
	t.Logf("after the verifier's restart: %s %q, verifier %s voted %t valid %b", tv.Status, tv.Reason, x.Outcome, x.Voted, x.Valid)
	if tv.Status != ledger.StatusAccepted.String() || !x.Voted || x.Valid != 7 || x.Outcome != ledger.OutcomeAgreed.String() {
		t.Fatalf("want accepted with the restarted verifier's revealed vote (all 3 picks passed) counted")
	}
	var nv chain.NodeView
	if err := nw.Chain.QueryJSON(ctx, chain.QueryNode, me[:], &nv); err != nil {
		t.Fatal(err)
	}
	if nv.Record.Slashed != 0 || nv.Record.Earned == 0 {
		t.Errorf("the verifier was slashed %d, earned %d", nv.Record.Slashed, nv.Record.Earned)
	}
}
