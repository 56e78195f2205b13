package node_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/engine/remote"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

var (
	modelA = engine.ModelRef{Name: "fake-a", Digest: engine.Digest{0xa}}
	modelB = engine.ModelRef{Name: "fake-b", Digest: engine.Digest{0xb}}
)

func registry(t *testing.T) *engine.Registry {
	t.Helper()
	var r engine.Registry
	if err := r.Register(enginetest.NewFake(modelA, modelB)); err != nil {
		t.Fatal(err)
	}
	return &r
}

func textRequest(prompt string, seed uint64, replicas uint32) node.Request {
	return node.Request{
		Task: engine.Task{Kind: engine.KindText, Model: modelA, Prompt: prompt, Seed: seed,
			Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}},
		Scheme: fingerprint.TokenScheme, Replicas: replicas, Rule: quorum.Majority, Fee: 300,
	}
}

func startNet(t *testing.T, specs []devnet.NodeSpec) (*devnet.Network, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a CometBFT validator and a network of nodes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: registry(t), EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return nw, ctx
}

func TestHonestNetworkSettles(t *testing.T) {
	nw, ctx := startNet(t, []devnet.NodeSpec{{Profile: "exact"}, {Profile: "ampere-tf32"}, {Profile: "hopper-bf16"}, {Profile: "cpu-avx512"}})
	c := nw.Clients[0]
	var ids []ledger.TaskID
	for i := range 3 {
		id, err := c.Submit(ctx, textRequest("Once upon a time", uint64(i), 3))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		tv, err := c.Wait(ctx, id)
		if err != nil {
			t.Fatalf("task %s: %v", id, err)
		}
		if tv.Status != "accepted" || tv.Support != 3 || len(tv.Executors) != 3 {
			t.Errorf("task %s: status %s support %d executors %d; want accepted by 3 of 3", id.String()[:8], tv.Status, tv.Support, len(tv.Executors))
		}
		f, err := node.Fetch(ctx, nw.Chain, nw.ClientHost, id, node.FetchOptions{})
		if err != nil {
			t.Fatalf("fetch task %s: %v", id.String()[:8], err)
		}
		if got := hex.EncodeToString(fingerprint.OfTokens(f.Tokens)); len(f.Tokens) != 8 || got != tv.Value || len(f.Rejected) != 0 {
			t.Errorf("fetched %d ids with fingerprint %s (%d rejected), want 8 with the accepted %s", len(f.Tokens), got, len(f.Rejected), tv.Value)
		}
		var from *node.Node
		for _, n := range nw.Nodes {
			if n.Key().String() == f.From {
				from = n
			}
		}
		if from == nil {
			t.Fatalf("fetched from %s, not a node of the network", f.From[:8])
		}
		d, err := from.ArtifactFor(id)
		if err != nil || d != f.Digest {
			t.Errorf("fetched digest %s, the executor stored %s (%v)", f.Digest.Short(), d.Short(), err)
		}
	}
}

// TestCheatersCaught assigns every node (replicas = nodes), so each misbehaviour meets the
// honest majority: 6 honest, need 6 of 11.
func TestCheatersCaught(t *testing.T) {
	specs := []devnet.NodeSpec{{}, {}, {}, {}, {}, {},
		{Behaviour: node.Guesser}, {Behaviour: node.Copier}, {Behaviour: node.Lazy},
		{Behaviour: node.WrongModel}, {Behaviour: node.Crashed}}
	want := map[node.Behaviour]string{
		node.Honest: "agreed", node.Guesser: "outlier", node.WrongModel: "outlier",
		node.Lazy: "no-reveal", node.Copier: "copied", node.Crashed: "no-commit",
	}
	nw, ctx := startNet(t, specs)
	c := nw.Clients[0]
	id, err := c.Submit(ctx, textRequest("A photo of a bag", 42, uint32(len(specs))))
	if err != nil {
		t.Fatal(err)
	}
	tv, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tv.Status != "accepted" || tv.Support != 6 {
		t.Fatalf("status %s support %d need %d reason %q; want accepted with support 6", tv.Status, tv.Support, tv.Need, tv.Reason)
	}
	outcome := map[string]string{}
	for _, e := range tv.Executors {
		outcome[e.Node] = e.Outcome
	}
	for _, n := range nw.Nodes {
		got := outcome[n.Key().String()]
		// When the copier happens to copy the lazy node's commitment, neither opens it and the
		// ledger cannot tell the author from the copier: both are slashed as copiers.
		if n.Behaviour() == node.Lazy && got == "copied" {
			continue
		}
		if got != want[n.Behaviour()] {
			t.Errorf("%s node: outcome %q, want %q", n.Behaviour(), got, want[n.Behaviour()])
		}
	}
}

// TestTamperedTextRejected settles text tasks whose executors include tamperers: they reveal
// the honest fingerprint, so the ledger counts them as agreeing, but serve text records with
// a changed token id. Fetch must recompute the token fingerprint, reject their records naming
// the fingerprints that differ, and fail over to the honest executor.
func TestTamperedTextRejected(t *testing.T) {
	nw, ctx := startNet(t, []devnet.NodeSpec{{}, {Behaviour: node.Tamperer}, {Behaviour: node.Tamperer}})
	behaviour := map[string]node.Behaviour{}
	for _, n := range nw.Nodes {
		behaviour[n.Key().String()] = n.Behaviour()
	}
	c := nw.Clients[0]
	var ids []ledger.TaskID
	for i := range 3 {
		id, err := c.Submit(ctx, textRequest("Tell me a story", uint64(i), 3))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	failedOver := 0
	for _, id := range ids {
		tv, err := c.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tv.Status != "accepted" || tv.Support != 3 {
			t.Fatalf("task %s: %s with support %d, want accepted by all 3 (tamperers reveal the honest fingerprint)", id.String()[:8], tv.Status, tv.Support)
		}
		// Every tamperer's record is rejected on its own, naming the two fingerprints.
		wantRejected := 0
		for i, e := range tv.Executors {
			if behaviour[e.Node] != node.Tamperer {
				if wantRejected == 0 {
					wantRejected = i
				}
				continue
			}
			_, err := node.FetchFromExecutor(ctx, nw.Chain, nw.ClientHost, id, e.Node, node.FetchOptions{})
			if !errors.Is(err, node.ErrTokenMismatch) || !strings.Contains(err.Error(), "the quorum accepted "+tv.Value) {
				t.Errorf("fetch from tamperer %s: %v, want ErrTokenMismatch naming the accepted fingerprint %s", e.Node[:8], err, tv.Value)
			}
		}
		// Fetch passes over the tamperers listed before the honest node and gets its record.
		f, err := node.Fetch(ctx, nw.Chain, nw.ClientHost, id, node.FetchOptions{})
		if err != nil {
			t.Fatalf("fetch task %s: %v", id.String()[:8], err)
		}
		if behaviour[f.From] != node.Honest || hex.EncodeToString(fingerprint.OfTokens(f.Tokens)) != tv.Value {
			t.Errorf("fetched from a %s node ids hashing to %x, want the honest node's, hashing to %s", behaviour[f.From], fingerprint.OfTokens(f.Tokens), tv.Value)
		}
		if len(f.Rejected) != wantRejected {
			t.Errorf("fetch rejected %d executors (%v), want the %d tamperers listed before the honest node", len(f.Rejected), f.Rejected, wantRejected)
		}
		for _, err := range f.Rejected {
			if !errors.Is(err, node.ErrTokenMismatch) {
				t.Errorf("rejected for %v, want ErrTokenMismatch", err)
			}
		}
		failedOver += len(f.Rejected)
	}
	t.Logf("fetch failed over past %d tamperers in %d tasks", failedOver, len(ids))
}

// TestOnlyTamperersFetchFails: when every agreeing executor serves a doctored record, Fetch
// fails and says why for each.
func TestOnlyTamperersFetchFails(t *testing.T) {
	nw, ctx := startNet(t, []devnet.NodeSpec{{Behaviour: node.Tamperer}, {Behaviour: node.Tamperer}})
	c := nw.Clients[0]
	id, err := c.Submit(ctx, textRequest("Tell me a story", 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if tv, err := c.Wait(ctx, id); err != nil || tv.Status != "accepted" {
		t.Fatalf("task: %s, %v; want accepted", tv.Status, err)
	}
	_, err = node.Fetch(ctx, nw.Chain, nw.ClientHost, id, node.FetchOptions{})
	if !errors.Is(err, node.ErrTokenMismatch) || strings.Count(err.Error(), "token ids hash to") != 2 {
		t.Errorf("fetch = %v, want ErrTokenMismatch for both executors", err)
	}
}

// textOnly is the fake engine declaring that it runs text tasks only.
type textOnly struct{ *enginetest.Fake }

func (textOnly) Kinds() []engine.Kind { return []engine.Kind{engine.KindText} }

// refusingLlama is a llama-server double that answers every completion with HTTP 400 (a task
// the server refuses, as a real one does for a prompt over its context).
func refusingLlama(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /props", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"total_slots":1,"model_path":"m.gguf","build_info":"fake"}`))
	})
	mux.HandleFunc("POST /tokenize", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"tokens":[1,2,3]}`)) })
	mux.HandleFunc("POST /completion", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"code":400,"message":"the request exceeds the available context size"}}`, 400)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestNoFreeGriefing: nodes declare the kinds their engines run on each model, so a task of a
// kind no node runs on its model is refused at submission (code 25) and costs nobody
// anything; a task that every node's remote engine refuses (HTTP 400) is committed to as
// unrunnable by every executor and settles "unrunnable" with nobody slashed, the submitter's
// fee paying the executors.
func TestNoFreeGriefing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator and a network of nodes")
	}
	sp, err := remote.ParseSpec("m=llamacpp:" + refusingLlama(t) + "?retries=0&digest=" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	rem, err := remote.Open(t.Context(), sp)
	if err != nil {
		t.Fatal(err)
	}
	var r engine.Registry
	if err := r.Register(textOnly{enginetest.NewFake(modelA)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(rem); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}},
		Engines: &r, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	c := nw.Clients[0]

	img := node.Request{Task: engine.Task{Kind: engine.KindImage, Model: modelA, Prompt: "a cat", Seed: 1,
		Image: &engine.ImageParams{Sampler: "ddim", Steps: 2, CFGScale: 7, Width: 64, Height: 64}},
		Scheme: fingerprint.ImageScheme(imghash.AverageHash, 8), Replicas: 3, Rule: quorum.Majority, Fee: 300}
	var rej *chain.TxRejectedError
	if _, err := c.Submit(ctx, img); !errors.As(err, &rej) || rej.Code != ledger.Code(ledger.ErrKindNotServed) {
		t.Fatalf("image task on a text-only model: %v, want refused with code %d", err, ledger.Code(ledger.ErrKindNotServed))
	}

	req := textRequest("Once upon a time", 1, 3)
	req.Task.Model = rem.Models()[0]
	id, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tv.Status != "accepted" || tv.Reason != ledger.ReasonUnrunnable || tv.Support != 3 {
		t.Errorf("refused task: status %s reason %q support %d, want accepted as %q by 3", tv.Status, tv.Reason, tv.Support, ledger.ReasonUnrunnable)
	}
	var nodes []chain.NodeView
	if err := nw.Chain.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Record.Slashed != 0 || n.Record.Earned == 0 {
			t.Errorf("node %s: slashed %d, earned %d; want 0 slashed and paid", n.Key[:8], n.Record.Slashed, n.Record.Earned)
		}
		if !slices.Equal(n.Kinds, []string{"text", "text"}) {
			t.Errorf("node %s declares kinds %q for %q, want text for both models", n.Key[:8], n.Kinds, n.Models)
		}
	}
}

// TestSpecRefusesUnrunnable: a client refuses, before signing, what executors would find
// unrunnable: a scheme that does not read the kind's artifacts, invalid engine parameters.
func TestSpecRefusesUnrunnable(t *testing.T) {
	for name, mod := range map[string]func(*node.Request){
		"image scheme on text": func(r *node.Request) { r.Scheme = fingerprint.ImageScheme(imghash.AverageHash, 8) },
		"no tokens":            func(r *node.Request) { r.Task.Text.MaxTokens = 0 },
		"text params on image": func(r *node.Request) { r.Task.Kind = engine.KindImage },
	} {
		r := textRequest("x", 1, 3)
		mod(&r)
		if _, err := r.Spec(); err == nil {
			t.Errorf("%s: Spec accepted it", name)
		}
	}
	if _, err := textRequest("x", 1, 3).Spec(); err != nil {
		t.Errorf("a runnable request: %v", err)
	}
}
