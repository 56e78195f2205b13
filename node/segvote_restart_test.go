package node_test

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
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
	params.CommitWindow, params.RevealWindow = 100, 100
	params.MinCommitMillis, params.MinRevealMillis = 15_000, 30_000
	dir := t.TempDir()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: dir, Nodes: []devnet.NodeSpec{{Profile: "exact"},
		{Profile: "exact", Behaviour: node.Crashed, Stake: 100}}, Engines: &reg, Params: params, Clients: 2,
		EmptyBlockInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	vKey := devnet.Key("client", 1)
	var me ledger.PubKey
	copy(me[:], vKey.Public().(ed25519.PublicKey))
	st, err := store.Open(filepath.Join(dir, "verifier.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: vKey, Source: st}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	start := func() (stop func()) {
		n, err := node.New(node.Config{Key: vKey, Stake: 100, Profile: "exact", Behaviour: node.Honest, Addrs: host.P2PAddrs(), Host: host},
			nw.ChainID, nw.Chain, &reg, st, slog.New(slog.DiscardHandler))
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
				t.Errorf("verifier node: %v", err)
			}
		}
	}
	stop := start()
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
	opened, err := nw.Chain.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for h := opened; h < opened+6; {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if h, err = nw.Chain.Height(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if tv := taskView(id); tv.Status != ledger.StatusSegmentsReveal.String() {
		t.Fatalf("the vote reveals ended before the restart: %s %q", tv.Status, tv.Reason)
	}
	stop = start()
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
