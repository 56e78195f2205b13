package remote

import (
	"context"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// TestVerifierVotesOnDevnet: nodes whose engine for the task's model is a remote Verifier (the
// openai adapter on a vLLM-shaped server that runs the tiny model) vote in a score-verified
// check round by scoring through prompt_logprobs: three honest executors agree and are paid,
// a wrong-model cheater (tiny-llama-b) is judged invalid by their remote checks and slashed as
// an outlier, and every executor commits and reveals its vote.
func TestVerifierVotesOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator and 4 nodes")
	}
	eng := must(t, loadText)
	ref := eng.Models()[0]
	srv := modelServer(t, eng, serverVLLM)
	e := openSpec(t, ref.Name+"=openai:"+srv.URL+"?server=vllm&batch_invariant=1&ids=response&vocab="+textModelPath+"&digest="+ref.Digest.String())
	v, ok := e.Verifier()
	if !ok {
		t.Fatal("no Verifier")
	}
	other, err := llm.Open("../../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf", llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reg engine.Registry
	for _, x := range []engine.Engine{v, other} {
		if err := reg.Register(x); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	specs := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}, {Profile: "exact", Behaviour: node.WrongModel}}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	req := node.Request{Task: engine.Task{Kind: engine.KindText, Model: ref, Prompt: "Once upon a time",
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}},
		Scheme: fingerprint.TokenScheme, Replicas: 4, Rule: quorum.Majority, Fee: 300, ScoreCheck: true}
	c := nw.Clients[0]
	id, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	behaviour := map[string]string{}
	for _, n := range nw.Nodes {
		behaviour[n.Key().String()] = string(n.Behaviour())
	}
	for _, x := range tv.Executors {
		t.Logf("%s: %s, fingerprint %.16s, vote committed %v revealed %v", behaviour[x.Node], x.Outcome, x.Fingerprint, x.VoteCommitted, x.Voted)
		want := "agreed"
		if behaviour[x.Node] == string(node.WrongModel) {
			want = "outlier"
		}
		if x.Outcome != want || !x.VoteCommitted || !x.Voted {
			t.Errorf("%s node: outcome %s (vote committed %v, revealed %v), want %s with its vote revealed", behaviour[x.Node], x.Outcome, x.VoteCommitted, x.Voted, want)
		}
	}
	if tv.Status != "accepted" {
		t.Errorf("status %s (%s), want accepted", tv.Status, tv.Reason)
	}
	srv.mu.Lock()
	scored := 0
	for _, b := range srv.bodies["POST /v1/completions"] {
		if b["prompt_logprobs"] != nil {
			scored++
		}
	}
	srv.mu.Unlock()
	if scored < 3 {
		t.Errorf("%d scoring requests reached the server, want one per honest voter at least", scored)
	}
	t.Logf("%d scoring requests (prompt_logprobs) reached the vLLM-shaped server", scored)
}
