package node_test

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/store"
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
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 7)
	if err != nil {
		t.Fatal(err)
	}
	base, err := diffusion.NamedModel("base", m)
	if err != nil {
		t.Fatal(err)
	}
	data := train.Synthetic(12, 1)
	eng, err := train.NewEngine([]diffusion.Named{base}, data)
	if err != nil {
		t.Fatal(err)
	}
	eng.Tolerance = segmentTolerance
	var reg engine.Registry
	if err := reg.Register(eng); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = 600, 300
	dir := t.TempDir()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: dir, Nodes: []devnet.NodeSpec{{Profile: "exact", TrainCheat: "noise-weights"},
		{Profile: "exact", TrainCheat: "noise-weights"}}, Engines: &reg, Params: params, Clients: 2, EmptyBlockInterval: 50 * time.Millisecond})
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
	refKey := devnet.Key("client", 1)
	var ref ledger.PubKey
	copy(ref[:], refKey.Public().(ed25519.PublicKey))
	st, err := store.Open(filepath.Join(dir, "referee.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: refKey, Source: st}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	startRef := func() (stop func()) {
		n, err := node.New(node.Config{Key: refKey, Stake: 100, Profile: "exact", Behaviour: node.Honest, Addrs: host.P2PAddrs(), Host: host}, nw.ChainID, nw.Chain,
			&reg, st, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Register(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- n.Run(rctx) }()
		return func() {
			rcancel()
			if err := <-done; err != nil {
				t.Errorf("referee node: %v", err)
			}
		}
	}
	stopRef := startRef()
	taskView := func(id ledger.TaskID) chain.TaskView {
		var tv chain.TaskView
		if err := nw.Chain.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil {
			t.Fatal(err)
		}
		return tv
	}
	waitTask := func(id ledger.TaskID, what string, ok func(chain.TaskView) bool) chain.TaskView {
		for {
			if tv := taskView(id); ok(tv) {
				return tv
			}
			select {
			case <-ctx.Done():
				t.Fatalf("task %.12s never %s", id.String(), what)
			case <-time.After(20 * time.Millisecond):
			}
		}
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
	drawn, err := nw.Chain.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for h := drawn; h < drawn+6; {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if h, err = nw.Chain.Height(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if tv := taskView(id); tv.SettledAt != 0 || tv.Dispute.Resolved {
		t.Fatalf("the dispute moved on without its referee: %s %q", tv.Status, tv.Reason)
	}
	stopRef = startRef()
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
