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
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
	"github.com/genquorum/genquorum/train"
)

// tinyTrainEngine returns a registry holding a train engine over the tiny base model (seed 7)
// at segmentTolerance, given 12 synthetic images, with the base model and the images.
func tinyTrainEngine(t *testing.T) (*engine.Registry, diffusion.Named, *train.Dataset) {
	t.Helper()
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
	return &reg, base, data
}

// restartNode is a node of a test's own, beside a devnet, on a funded key (the devnet's second
// client's) with its own store (name.db in dir) and p2p host, that the test stops and starts
// again on the same key, store and host. close closes the store and the host.
type restartNode struct {
	key  ed25519.PrivateKey
	pub  ledger.PubKey
	st   *store.Store
	host *p2p.Host
}

func newRestartNode(ctx context.Context, t *testing.T, dir, name string) *restartNode {
	t.Helper()
	r := &restartNode{key: devnet.Key("client", 1)}
	copy(r.pub[:], r.key.Public().(ed25519.PublicKey))
	var err error
	if r.st, err = store.Open(filepath.Join(dir, name+".db"), store.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	if r.host, err = p2p.NewHost(ctx, p2p.Config{PrivateKey: r.key, Source: r.st}, slog.New(slog.DiscardHandler)); err != nil {
		r.st.Close()
		t.Fatal(err)
	}
	return r
}

func (r *restartNode) close() {
	r.host.Close()
	r.st.Close()
}

// start registers an honest node (stake 100, profile exact) on nw's chain and runs it until
// stop, which reports its error as what's.
func (r *restartNode) start(ctx context.Context, t *testing.T, nw *devnet.Network, reg *engine.Registry, what string) (stop func()) {
	t.Helper()
	n, err := node.New(node.Config{Key: r.key, Stake: 100, Profile: "exact", Behaviour: node.Honest, Addrs: r.host.P2PAddrs(), Host: r.host},
		nw.ChainID, nw.Chain, reg, r.st, slog.New(slog.DiscardHandler))
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
			t.Errorf("%s node: %v", what, err)
		}
	}
}

// taskWatch reads tasks and heights from a devnet's chain until ctx ends.
type taskWatch struct {
	ctx context.Context
	t   *testing.T
	nw  *devnet.Network
}

// view returns the task's current view.
func (w taskWatch) view(id ledger.TaskID) chain.TaskView {
	var tv chain.TaskView
	if err := w.nw.Chain.QueryJSON(w.ctx, chain.QueryTask, id[:], &tv); err != nil {
		w.t.Fatal(err)
	}
	return tv
}

// wait polls the task until ok holds and returns that view; the test fails, saying the task
// was never what, when ctx ends first.
func (w taskWatch) wait(id ledger.TaskID, what string, ok func(chain.TaskView) bool) chain.TaskView {
	for {
		if tv := w.view(id); ok(tv) {
			return tv
		}
		select {
		case <-w.ctx.Done():
			w.t.Fatalf("task %.12s never %s", id.String(), what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// blocks waits until the chain is n blocks past its height now.
func (w taskWatch) blocks(n int64) {
	from, err := w.nw.Chain.Height(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for h := from; h < from+n; {
		select {
		case <-w.ctx.Done():
			w.t.Fatal(w.ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if h, err = w.nw.Chain.Height(w.ctx); err != nil {
			w.t.Fatal(err)
		}
	}
}
