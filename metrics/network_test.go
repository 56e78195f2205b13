package metrics_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/metrics"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// TestMetricsOfALiveNode runs a one-node network with the metrics served on a real port,
// settles a task, and scrapes: the node's counters for the task's life and the engine's run
// time have moved.
func TestMetricsOfALiveNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	model := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{0xa}}
	var reg engine.Registry
	if err := reg.Register(enginetest.NewFake(model)); err != nil {
		t.Fatal(err)
	}
	key := devnet.Key("node", 0)
	m := metrics.New(devnetPub(key), func() float64 { return 1 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { served <- metrics.Serve(sctx, ln, metrics.Handler(m.Registry)) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/metrics"
	before := get(t, url)

	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: []devnet.NodeSpec{{Observer: m}},
		Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Stop()
	c := nw.Clients[0]
	id, err := c.Submit(ctx, node.Request{
		Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: "Once upon a time", Seed: 1,
			Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}},
		Scheme: fingerprint.TokenScheme, Replicas: 1, Rule: quorum.Majority, Fee: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tv, err := c.Wait(ctx, id); err != nil || tv.Status != "accepted" {
		t.Fatalf("task: %+v, %v", tv, err)
	}
	// The node follows one block behind the tip: wait until it has seen the verdict.
	var after string
	for {
		after = get(t, url)
		if strings.Contains(after, `genquorum_node_tasks_total{outcome="agreed"} 1`) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("agreed never counted; last scrape:\n%s", grep(after, "genquorum_node_tasks_total"))
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, want := range []string{
		`genquorum_node_tasks_total{outcome="assigned"} 1`,
		`genquorum_node_tasks_total{outcome="committed"} 1`,
		`genquorum_node_tasks_total{outcome="revealed"} 1`,
		`genquorum_engine_runs_total{model="fake-a",result="ok"} 1`,
		`genquorum_engine_run_seconds_count{model="fake-a"} 1`,
		`genquorum_tx_inclusion_seconds_count{kind="commit"} 1`,
		`genquorum_tx_inclusion_seconds_count{kind="reveal"} 1`,
		`genquorum_tx_in_flight{kind="commit"} 0`,
		`genquorum_ledger_verdicts_total{result="accepted"} 1`,
	} {
		if !strings.Contains(after, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
		if strings.Contains(before, want+"\n") && !strings.HasSuffix(want, " 0") {
			t.Errorf("%q already before the task", want)
		}
	}
	if !strings.Contains(after, "genquorum_node_height ") || strings.Contains(after, "genquorum_node_height 0\n") {
		t.Errorf("height not followed:\n%s", grep(after, "genquorum_node_height"))
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func devnetPub(k ed25519.PrivateKey) ledger.PubKey {
	var p ledger.PubKey
	copy(p[:], k.Public().(ed25519.PublicKey))
	return p
}
