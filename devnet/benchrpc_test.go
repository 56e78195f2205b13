package devnet

import (
	"context"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// TestVaryPromptKeepsPayloadInStep: the varied spec's engine task carries the varied prompt,
// so executors do not refuse bench tasks as disagreeing with the ledger (which once made every
// bench --rpc task an agreed "unrunnable" verdict).
func TestVaryPromptKeepsPayloadInStep(t *testing.T) {
	sch, err := fingerprint.ParseScheme("text:tokens")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := node.Request{Task: engine.Task{Kind: engine.KindText, Model: engine.ModelRef{Name: "m"}, Prompt: "bench", Seed: 1,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}, Scheme: sch, Replicas: 3, Rule: quorum.Majority, Fee: 30}.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 7, 199} {
		sp, err := VaryPrompt(spec, i)
		if err != nil {
			t.Fatal(err)
		}
		var p node.Payload
		if err := p.UnmarshalBinary(sp.Params); err != nil {
			t.Fatal(err)
		}
		if p.Task.Prompt != string(sp.Prompt) || string(sp.Prompt) == string(spec.Prompt) {
			t.Errorf("task %d: payload prompt %q, ledger prompt %q (base %q)", i, p.Task.Prompt, sp.Prompt, spec.Prompt)
		}
	}
	if string(spec.Prompt) != "bench" {
		t.Errorf("VaryPrompt changed its input: %q", spec.Prompt)
	}
}

// TestBenchRPCBatch: bench --rpc against a devnet whose nodes run a fake engine, with
// submissions one per transaction and 4 to a SubmitBatch: every task is accepted and settles
// with a verdict that is not "unrunnable" (the executors really ran them).
func TestBenchRPCBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and nodes")
	}
	model := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{0xa}}
	var reg engine.Registry
	if err := reg.Register(enginetest.NewFake(model)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	nw, err := Start(ctx, Options{Dir: t.TempDir(), Nodes: []NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}},
		Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	spec, err := node.Request{Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: "bench", Seed: 1,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}, Scheme: fingerprint.TokenScheme, Replicas: 3, Rule: quorum.Majority, Fee: 30}.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 4} {
		r, err := BenchRPC(ctx, []rpcclient.Client{nw.Validator.Local()}, Key("client", 0), nw.ChainID, spec, 10, batch)
		if err != nil {
			t.Fatal(err)
		}
		if r.Accepted != 10 || r.Refused != 0 || r.Settled != 10 || r.Verdicts != 10 || r.Unrunnable != 0 {
			t.Errorf("batch %d: %+v; want 10 accepted, settled with verdicts, none unrunnable", batch, *r)
		}
	}
}
