package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/train"
)

// segmentTolerance is the TI segment tolerance the train package calibrates for the tiny
// model (2 x the largest honest drift of 4-step segments across profiles, 1.3e-3:
// TestSegmentVerification); the cheats' distances are 0.0057 and up.
const segmentTolerance = 0.003

// TestTrainingSegmentsOnDevnet runs textual-inversion training tasks with segment
// verification on a network (one CometBFT validator, four nodes on exact, exact, cpu-avx512
// and ampere-fp16, each with its own store and libp2p host): the trainer drawn by the ledger
// trains and commits its series, the verifier fetches checkpoint states over p2p and
// re-executes its segments on its own profile, disputes are bisected by transactions and a
// drawn referee re-executes one step. The dataset reaches the engine over p2p, by digest. An honest task is accepted and the trainer paid; with
// every node cheating whenever it trains (each cheat in turn), the task is rejected, the
// trainer is the outlier, and the bisection ends at the step where that cheat diverges from an
// honest run inside the disputed segment (computed here step by step).
func TestTrainingSegmentsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 4 nodes, trains 7 tiny runs")
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
	eng, err := train.NewEngine([]diffusion.Named{base}) // the dataset comes over p2p, below
	if err != nil {
		t.Fatal(err)
	}
	eng.Tolerance = segmentTolerance
	var reg engine.Registry
	if err := reg.Register(eng); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = 600, 300 // windows close early when all answered
	specs := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "cpu-avx512"}, {Profile: "ampere-fp16"}}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, Params: params,
		EmptyBlockInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	profile := map[string]string{}
	for i, n := range nw.Nodes {
		profile[n.Key().String()] = specs[i].Profile
	}
	task := engine.Task{Kind: engine.KindTrain, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "<concept>", Seed: 3,
		Train: &engine.TrainParams{Method: "ti", Steps: 12, Checkpoint: 4, Dataset: data.Digest()}}
	// Dataset exchange: node 0 serves the dataset; node 2, whose engine and store lack it,
	// fetches it by digest over p2p. (The engine is shared by the devnet's nodes.)
	if _, err := nw.Nodes[0].ServeDataset(ctx, data.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := nw.Nodes[2].EnsureDataset(ctx, task); err != nil || !eng.HasDataset(data.Digest()) {
		t.Fatalf("dataset not fetched: %v", err)
	}
	dim, err := train.FingerprintDimOf(base, "ti")
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := fingerprint.ParseScheme("vector:simhash/256")
	if err != nil {
		t.Fatal(err)
	}
	for i, cheat := range []string{"honest", "skip-steps", "fewer-steps", "other-lr", "other-seed", "noise-weights", "copy"} {
		for _, n := range nw.Nodes {
			n.SetTrainCheat(cheat)
		}
		tk := task
		tk.Seed = uint64(3 + i) // a new task each time
		id, err := nw.Clients[0].Submit(ctx, node.Request{Task: tk, Scheme: scheme, Replicas: 2, Rule: quorum.Majority, Fee: 300,
			SegmentChecks: 3, SegmentDim: dim})
		if err != nil {
			t.Fatal(err)
		}
		tv, err := nw.Clients[0].Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		trainer := tv.Executors[0].Node
		t.Logf("%s: trainer on %s, verifier on %s: %s %q", cheat, profile[trainer], profile[tv.Executors[1].Node], tv.Status, tv.Reason)
		if d := tv.Dispute; d != nil {
			t.Logf("  dispute: segment %d, step %d, %d rounds, trainer lied %t, challenger lied %t", d.Segment, d.Step, d.Rounds, d.TrainerLied, d.ChallengerLied)
		}
		if cheat == "honest" {
			if tv.Status != "accepted" || tv.Dispute != nil || tv.Executors[0].Outcome != "agreed" || tv.Executors[1].Outcome != "agreed" {
				t.Errorf("honest task: %s %q, outcomes %s/%s", tv.Status, tv.Reason, tv.Executors[0].Outcome, tv.Executors[1].Outcome)
			}
			continue
		}
		d := tv.Dispute
		if tv.Status != "no-verdict" || d == nil || !d.TrainerLied || d.ChallengerLied || tv.Executors[0].Outcome != "outlier" {
			t.Errorf("%s: %s %q, trainer %s", cheat, tv.Status, tv.Reason, tv.Executors[0].Outcome)
			continue
		}
		want := divergence(t, eng, tk, base, data, cheat, profile[trainer], int(d.Segment))
		if int(d.Step) != want || !strings.Contains(tv.Reason, "after step ") {
			t.Errorf("%s: bisection ended at step %d (%q), the cheat diverges at step %d", cheat, d.Step, tv.Reason, want)
		}
		if tv.Executors[d.Challenger].Outcome != "agreed" {
			t.Errorf("%s: challenger %s", cheat, tv.Executors[d.Challenger].Outcome)
		}
	}
}

// divergence returns the step at which a trainer on profile with cheat parts from an honest
// one inside the disputed segment, both replaying from the cheater's checkpoint at its start
// (the ledger takes it as agreed): the first step whose state differs, or for a copier the
// segment's end (it replays honestly from a copied checkpoint that the next one does not
// follow from).
func divergence(t *testing.T, eng *train.Engine, task engine.Task, base diffusion.Named, data *train.Dataset, cheat, profile string, segment int) int {
	t.Helper()
	task.Profile = profile
	spec, err := eng.SpecOf(task)
	if err != nil {
		t.Fatal(err)
	}
	spec.Base = base.Digest
	if cheat == "copy" {
		return (segment + 1) * spec.Every
	}
	c, err := train.ParseCheat(cheat, &spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	series, err := train.Train(ctx, spec, base, data, train.Options{Cheat: c})
	if err != nil {
		t.Fatal(err)
	}
	start := series.Checkpoints[segment].State
	honest := train.NewReplayer(spec, data, start, train.Options{})
	cheater := train.NewReplayer(spec, data, start, train.Options{Cheat: c})
	end := (segment + 1) * spec.Every
	for _, p := range []*train.Replayer{honest, cheater} { // one pass each; every step's digest is kept
		if _, err := p.StateDigest(ctx, end); err != nil {
			t.Fatal(err)
		}
	}
	for s := segment*spec.Every + 1; s <= end; s++ {
		a, _ := honest.StateDigest(ctx, s)
		b, _ := cheater.StateDigest(ctx, s)
		if a != b {
			return s
		}
	}
	t.Fatalf("%s never diverges in segment %d", cheat, segment)
	return 0
}
