package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// driftVerifier is a fake text engine whose output on profile drift differs from the other
// profiles' (it runs the task with another prompt), and that verifies every claimed sequence
// as valid (a stand-in for honest drift within the model's tolerance).
type driftVerifier struct {
	*enginetest.Fake
	drift string
}

func (e driftVerifier) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if t.Profile == e.drift {
		t.Prompt += " (drifted)"
	}
	return e.Fake.Run(ctx, t)
}

func (e driftVerifier) VerifyTokens(context.Context, engine.Task, []int32) (bool, error) {
	return true, nil
}

// TestCheckRoundTampererFirstRevealer: an honest node on exact, and a tamperer and an honest
// node on a drifting profile, all three executing a score-checked text task: two candidates,
// the drifted one revealed by the tamperer (who serves a doctored artifact) and the honest
// drifting node. When the tamperer comes first among that candidate's revealers, the exact
// node must fetch the sequence from the honest one rather than vote it invalid: the candidate
// is determined valid (the other two reveal it), so an invalid vote was slashed as contrary
// (demo --tasks 300 on an idle machine: 4 honest contrary votes). Tasks are submitted until one
// has the tamperer first; every task must pay both honest nodes.
func TestCheckRoundTampererFirstRevealer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 3 nodes")
	}
	model := engine.ModelRef{Name: "fake-text", Digest: engine.Digest{7}}
	var reg engine.Registry
	if err := reg.Register(driftVerifier{enginetest.NewFake(model), "hopper-bf16"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	specs := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "hopper-bf16", Behaviour: node.Tamperer}, {Profile: "hopper-bf16"}}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	role := map[string]string{}
	for i, n := range nw.Nodes {
		role[n.Key().String()] = []string{"exact", "tamperer", "drifting"}[i]
	}
	c := nw.Clients[0]
	tampererFirst := false
	for i := 0; i < 20 && !tampererFirst; i++ {
		req := node.Request{Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: "p", Seed: uint64(i),
			Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}},
			Scheme: fingerprint.TokenScheme, Replicas: 3, Rule: quorum.Majority, Fee: 300, ScoreCheck: true}
		id, err := c.Submit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		tv, err := c.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		pos := map[string]int{}
		for j, e := range tv.Executors {
			pos[role[e.Node]] = j
		}
		tampererFirst = pos["tamperer"] < pos["drifting"]
		for _, e := range tv.Executors {
			if r := role[e.Node]; r != "tamperer" && e.Outcome != "agreed" {
				t.Errorf("task %d (tamperer first: %v): honest %s node's outcome %s, want agreed", i, tampererFirst, r, e.Outcome)
			}
		}
		if tv.Status != "accepted" {
			t.Errorf("task %d: %s (%s), want accepted", i, tv.Status, tv.Reason)
		}
	}
	if !tampererFirst {
		t.Error("no task had the tamperer before the drifting node: the test lost its case")
	}
}
