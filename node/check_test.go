package node_test

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

// TestScoreCheckPaysDriftSlashesSubstitute runs a score-verified greedy text task on the real
// GGUF engine with five executors: two on the exact profile, one on hopper-bf16 (whose bf16
// rounding flips a near-tied token of this prompt: its 16 tokens differ from exact's), a
// wrong-model cheater (runs tiny-llama-b for a tiny-llama-a task) and a lazy voter (runs the
// task honestly on exact, votes without checking). Exact equality gives 3 equal sequences of 5,
// a majority, but a score-verified task checks whenever sequences differ; in the check round
// every executor commits, then reveals, its vote after scoring the other sequences with
// tiny-llama-a on its own profile: the drifting sequence passes, the substitute does not. So the three honest executors are paid,
// the cheater is slashed as an outlier, and the lazy voter, whose vote rejects the honest flip
// that the others determined valid, is slashed for a contrary vote and not paid.
func TestScoreCheckPaysDriftSlashesSubstitute(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 4 nodes running a GGUF model")
	}
	var reg engine.Registry
	for _, p := range []string{"../testdata/llamacpp/models/tiny-llama-a-f32.gguf", "../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf"} {
		e, err := llm.Open(p, llm.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(e); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	specs := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "hopper-bf16"},
		{Profile: "exact", Behaviour: node.WrongModel}, {Profile: "exact", Behaviour: node.LazyVoter}}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	model := reg.Models()[0]
	if model.Name != "tiny-llama-a-f32" {
		t.Fatalf("first model %s", model.Name)
	}
	req := node.Request{Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: "Once upon a time",
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 16}},
		Scheme: fingerprint.TokenScheme, Replicas: 5, Rule: quorum.Majority, Fee: 300, ScoreCheck: true}
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
	profile := map[string]string{}
	for i, n := range nw.Nodes {
		behaviour[n.Key().String()] = string(n.Behaviour())
		profile[n.Key().String()] = specs[i].Profile
	}
	distinct := map[string]bool{}
	for _, e := range tv.Executors {
		distinct[e.Fingerprint] = true
		t.Logf("%s %s: %s, fingerprint %.16s", behaviour[e.Node], profile[e.Node], e.Outcome, e.Fingerprint)
		want := "agreed"
		switch behaviour[e.Node] {
		case string(node.WrongModel):
			want = "outlier"
		case string(node.LazyVoter): // voted the honest flip invalid without checking it
			want = "contrary"
		}
		if !e.VoteCommitted || !e.Voted {
			t.Errorf("%s node: vote committed %v, revealed %v", behaviour[e.Node], e.VoteCommitted, e.Voted)
		}
		if e.Outcome != want {
			t.Errorf("%s node on %s: outcome %s, want %s", behaviour[e.Node], profile[e.Node], e.Outcome, want)
		}
	}
	if len(distinct) != 3 {
		t.Errorf("%d distinct sequences, want 3 (exact, the hopper-bf16 flip, the substitute): the test lost its drift", len(distinct))
	}
	if tv.Status != "accepted" || tv.Support != 4 {
		t.Errorf("status %s support %d need %d (%s), want accepted with support 4 (the lazy voter's output is valid)", tv.Status, tv.Support, tv.Need, tv.Reason)
	}
}
