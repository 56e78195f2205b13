package node_test

import (
	"context"
	"slices"
	"strings"
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

// TestTrainingRefereeRestart: a node that is down when the ledger draws it as the referee of a
// training task's dispute, and restarts only blocks later (so that it never sees the
// RefereeDrawn event), finds the dispute at reconcile and answers it: the dispute resolves
// with the trainer (noise-weights) the liar at step 6, and the referee is not slashed for
// silence. Two devnet nodes (stake 10,000 each) train and verify; the third (stake 100, so
// almost never drawn to execute: then the task is submitted again) is the only node left to
// referee. The node is stopped as soon as the task is assigned, and a new Node on the same
// key, store and p2p host is started once the referee has been drawn.
func TestTrainingRefereeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 3 nodes, trains tiny runs")
	}
	reg, base, data := tinyTrainEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = 600, 300
	dir := t.TempDir()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: dir, Nodes: []devnet.NodeSpec{{Profile: "exact", TrainCheat: "noise-weights"},
		{Profile: "exact", TrainCheat: "noise-weights"}}, Engines: reg, Params: params, Clients: 2, EmptyBlockInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	// The referee: a node of its own, on a funded key (the second client's), that the test
	// stops and starts.
	referee := newRestartNode(ctx, t, dir, "referee")
	defer referee.close()
	ref := referee.pub
	stopRef := referee.start(ctx, t, nw, reg, "referee")
	w := taskWatch{ctx: ctx, t: t, nw: nw}
	taskView, waitTask := w.view, w.wait
	dim, err := train.FingerprintDimOf(base, "ti")
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := fingerprint.ParseScheme("vector:simhash/256")
	if err != nil {
		t.Fatal(err)
	}
	var id ledger.TaskID
	for seed := uint64(30); ; seed++ {
		if seed == 40 {
			t.Fatal("the low-stake node was drawn to execute ten tasks in a row")
		}
		task := engine.Task{Kind: engine.KindTrain, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "<concept>", Seed: seed,
			Train: &engine.TrainParams{Method: "ti", Steps: 12, Checkpoint: 4, Dataset: data.Digest()}}
		if id, err = nw.Clients[0].Submit(ctx, node.Request{Task: task, Scheme: scheme, Replicas: 2, Rule: quorum.Majority, Fee: 300,
			SegmentChecks: 3, SegmentDim: dim}); err != nil {
			t.Fatal(err)
		}
		tv := waitTask(id, "assigned", func(tv chain.TaskView) bool { return len(tv.Executors) == 2 })
		if !slices.ContainsFunc(tv.Executors, func(e chain.ExecutorView) bool { return e.Node == ref.String() }) {
			break
		}
		t.Logf("seed %d: the low-stake node is an executor; submitting again", seed)
		waitTask(id, "settled", func(tv chain.TaskView) bool { return tv.SettledAt != 0 })
	}
	stopRef() // down before the dispute opens: the only node left to referee
	tv := waitTask(id, "at its referee", func(tv chain.TaskView) bool {
		return tv.SettledAt != 0 || (tv.Dispute != nil && tv.Dispute.Phase == ledger.PhaseReferee)
	})
	if tv.SettledAt != 0 || tv.Dispute.Referee != ref {
		t.Fatalf("task %s %q without the stopped node as referee (dispute %+v)", tv.Status, tv.Reason, tv.Dispute)
	}
	// Restart only once the block that drew the referee is more than the two blocks back that
	// a starting node re-reads: the restarted node must find the dispute by reconciling.
	w.blocks(6)
	if tv := taskView(id); tv.SettledAt != 0 || tv.Dispute.Resolved {
		t.Fatalf("the dispute moved on without its referee: %s %q", tv.Status, tv.Reason)
	}
	stopRef = referee.start(ctx, t, nw, reg, "referee")
	defer stopRef()
	tv = waitTask(id, "settled", func(tv chain.TaskView) bool { return tv.SettledAt != 0 })
	d := tv.Dispute
	t.Logf("after the referee's restart: %s %q", tv.Status, tv.Reason)
	if tv.Status != "no-verdict" || d == nil || !d.Resolved || !d.TrainerLied || d.ChallengerLied || d.Step != 6 ||
		!strings.Contains(tv.Reason, "after step 6 ") || d.Referee != ref {
		t.Fatalf("want rejected by the restarted referee, the trainer lying at step 6; dispute %+v", d)
	}
	var nv chain.NodeView
	if err := nw.Chain.QueryJSON(ctx, chain.QueryNode, ref[:], &nv); err != nil {
		t.Fatal(err)
	}
	if nv.Record.Slashed != 0 {
		t.Errorf("the referee was slashed %d", nv.Record.Slashed)
	}
}
