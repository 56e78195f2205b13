package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 8, 7, 10, 9}
	for _, tt := range []struct{ p, want float64 }{{50, 5}, {95, 10}, {10, 1}, {100, 10}} {
		if got := percentile(xs, tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// kindEngine is one engine of the test registry: a named fake that runs only one kind of task
// (answering engine.ErrUnsupported for the other kinds, as the GGUF and diffusion engines do).
type kindEngine struct {
	*enginetest.Fake
	name string
	kind engine.Kind
}

func (e kindEngine) Name() string { return e.name }

func (e kindEngine) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if t.Kind != e.kind {
		return nil, fmt.Errorf("%w: %s runs %s tasks", engine.ErrUnsupported, e.name, e.kind)
	}
	return e.Fake.Run(ctx, t)
}

// TestRunCatchesCheaters runs a small demo on deterministic fake engines with every node
// assigned to every task (replicas = nodes), so each cheater always meets the honest majority
// (6 honest and the tamperer, who reveals the honest fingerprint: 7 of 12): every task is
// settled with a verdict and every behaviour is caught by the check meant for it. The
// registry is laid out as the demo's was when its wrong-model cheater failed: each text model
// is its own engine, and an image-only engine whose model sorts first is registered between
// them, so a cheater that picked "any other model" ran the image model on a text task, failed,
// and was slashed for not committing rather than as an outlier.
func TestRunCatchesCheaters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 12 nodes")
	}
	a := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{1}}
	b := engine.ModelRef{Name: "fake-b", Digest: engine.Digest{2}}
	img := engine.ModelRef{Name: "aaa-image", Digest: engine.Digest{3}}
	var reg engine.Registry
	for _, e := range []kindEngine{{enginetest.NewFake(a), "text-a", engine.KindText},
		{enginetest.NewFake(img), "image", engine.KindImage}, {enginetest.NewFake(b), "text-b", engine.KindText}} {
		if err := reg.Register(e); err != nil {
			t.Fatal(err)
		}
	}
	nodes := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"},
		{Profile: "exact"}, {Profile: "exact"}}
	for _, b := range node.Behaviours {
		if b != node.Honest {
			nodes = append(nodes, devnet.NodeSpec{Behaviour: b})
		}
	}
	const tasks = 6
	s, err := Run(t.Context(), Options{
		Dir: t.TempDir(), Engines: &reg, Nodes: nodes, Tasks: tasks, Replicas: uint32(len(nodes)),
		Workloads: []Workload{{Kind: engine.KindText, Model: a, Scheme: fingerprint.TokenScheme,
			Prompts: []string{"a", "b", "c"}, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}, ScoreCheck: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.TasksSettled != tasks || s.Accepted != tasks {
		t.Errorf("settled %d (accepted %d, no verdict %d), want %d accepted", s.TasksSettled, s.Accepted, s.NoVerdict, tasks)
	}
	if len(s.Cheaters) != len(node.Behaviours)-1 {
		t.Fatalf("%d cheaters reported, want %d", len(s.Cheaters), len(node.Behaviours)-1)
	}
	// want is the outcome each behaviour must have in every task.
	want := map[string]func(c Cheater) uint64{
		"guesser":     func(c Cheater) uint64 { return c.Outliers },
		"wrong-model": func(c Cheater) uint64 { return c.Outliers },
		"crashed":     func(c Cheater) uint64 { return c.NoCommit },
		"copier":      func(c Cheater) uint64 { return c.Copied },
		// The copier may copy the lazy node's commitment; neither opens it, both count as copiers.
		"lazy":     func(c Cheater) uint64 { return c.NoReveal + c.Copied },
		"tamperer": func(c Cheater) uint64 { return c.ArtifactMismatch },
	}
	for _, c := range s.Cheaters {
		t.Logf("%s: caught %v by %v (expected %s), assigned %d, slashed %d, note %q", c.Behaviour, c.Caught, c.CaughtBy,
			c.Expected, c.Assigned, c.Slashed, c.Note)
		if c.Assigned != tasks || !c.Caught || !c.Right {
			t.Errorf("%s: assigned %d tasks, caught %v by %v; want %d, caught by %s", c.Behaviour, c.Assigned, c.Caught,
				c.CaughtBy, tasks, c.Expected)
		}
		f, ok := want[c.Behaviour]
		if !ok {
			t.Errorf("behaviour %s has no expected outcome in this test", c.Behaviour)
			continue
		}
		if got := f(c); got != tasks {
			t.Errorf("%s: caught by %s in %d of %d tasks, want all", c.Behaviour, c.Expected, got, tasks)
		}
		if c.Behaviour != "lazy" && len(c.CaughtBy) != 1 {
			t.Errorf("%s: caught by %v, want only %s", c.Behaviour, c.CaughtBy, c.Expected)
		}
	}
	if len(s.HonestPenalised) != 0 {
		t.Errorf("honest nodes penalised on a deterministic engine: %+v", s.HonestPenalised)
	}
	if s.LatencyMsP50 <= 0 || s.LatencyMsP95 < s.LatencyMsP50 || s.TasksPerS <= 0 {
		t.Errorf("latency p50 %v p95 %v, throughput %v", s.LatencyMsP50, s.LatencyMsP95, s.TasksPerS)
	}
}

// TestSummaryJSONKeys pins the keys issue 8 requires of `genquorum demo --json`.
func TestSummaryJSONKeys(t *testing.T) {
	b, err := json.Marshal(Summary{Cheaters: []Cheater{{Node: "n", Behaviour: "lazy"}}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tasks_submitted", "tasks_settled", "no_verdict", "cheaters", "honest_penalised", "honest_slashes_by_kind",
		"tasks_per_s", "latency_ms_p50", "latency_ms_p95"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary JSON lacks %q", k)
		}
	}
	c := m["cheaters"].([]any)[0].(map[string]any)
	for _, k := range []string{"node", "behaviour", "caught", "caught_by", "expected", "right_reason"} {
		if _, ok := c[k]; !ok {
			t.Errorf("cheater JSON lacks %q", k)
		}
	}
}

// TestHonestSlashes: only honest nodes' slash events are kept, each with its task's kind and
// the round of the last round-carrying event of its task (a round-0 no-verdict's slashes are
// round 0 even though round 1 follows; a verdict's slashes are its round's).
func TestHonestSlashes(t *testing.T) {
	h, c := ledger.PubKey{1}, ledger.PubKey{2}
	t1, t2 := ledger.TaskID{0xa}, ledger.TaskID{0xb}
	honest := map[string]bool{h.String(): true}
	kinds := map[string]string{t1.String(): "text", t2.String(): "image"}
	evs := []ledger.Event{
		{Type: ledger.EventTaskAssigned, Task: t1, Round: 0},
		{Type: ledger.EventTaskAssigned, Task: t2, Round: 0},
		{Type: ledger.EventNoVerdict, Task: t2, Round: 0},
		{Type: ledger.EventSlash, Task: t2, Node: h, Reason: ledger.ReasonNoCommit, Amount: 3},
		{Type: ledger.EventSlash, Task: t2, Node: c, Reason: ledger.ReasonNoReveal, Amount: 9},
		{Type: ledger.EventTaskAssigned, Task: t2, Round: 1},
		{Type: ledger.EventVerdict, Task: t1, Round: 0},
		{Type: ledger.EventSlash, Task: t1, Node: h, Reason: ledger.ReasonContrary, Amount: 4},
		{Type: ledger.EventVerdict, Task: t2, Round: 1},
		{Type: ledger.EventSlash, Task: t2, Node: h, Reason: ledger.ReasonOutlier, Amount: 5},
		{Type: ledger.EventSlash, Task: ledger.TaskID{0xc}, Node: h, Reason: ledger.ReasonJailed, Amount: 6},
	}
	got := honestSlashes(evs, honest, kinds)
	want := []Slash{
		{Task: t2.String(), Kind: "image", Round: 0, Reason: ledger.ReasonNoCommit, Amount: 3},
		{Task: t1.String(), Kind: "text", Round: 0, Reason: ledger.ReasonContrary, Amount: 4},
		{Task: t2.String(), Kind: "image", Round: 1, Reason: ledger.ReasonOutlier, Amount: 5},
		{Task: ledger.TaskID{0xc}.String(), Kind: "", Round: 0, Reason: ledger.ReasonJailed, Amount: 6},
	}
	if len(got) != 1 || !slices.Equal(got[h.String()], want) {
		t.Errorf("honestSlashes = %+v\nwant %s: %+v", got, h, want)
	}
}

// driftEngine is a fake text engine whose output on profile drift differs from every other
// profile's (it runs the task with another prompt): an honest node on that profile is an
// outlier whenever the others agree.
type driftEngine struct {
	*enginetest.Fake
	drift string
}

func (e driftEngine) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if t.Profile == e.drift {
		t.Prompt += " (drifted)"
	}
	return e.Fake.Run(ctx, t)
}

// TestRunExplainsHonestPenalties runs a small demo where one honest node's profile always
// drifts (equality settling, every node on every task): the summary lists that node as
// penalised with one outlier slash per task, each with its task ID, kind and round as read from
// the blocks, and counts them under text in honest_slashes_by_kind.
func TestRunExplainsHonestPenalties(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 4 nodes")
	}
	a := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{1}}
	var reg engine.Registry
	if err := reg.Register(driftEngine{enginetest.NewFake(a), "hopper-bf16"}); err != nil {
		t.Fatal(err)
	}
	nodes := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}, {Profile: "hopper-bf16"}}
	const tasks = 2
	s, err := Run(t.Context(), Options{
		Dir: t.TempDir(), Engines: &reg, Nodes: nodes, Tasks: tasks, Replicas: uint32(len(nodes)),
		Workloads: []Workload{{Kind: engine.KindText, Model: a, Scheme: fingerprint.TokenScheme,
			Prompts: []string{"a", "b"}, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Accepted != tasks {
		t.Fatalf("accepted %d of %d tasks", s.Accepted, tasks)
	}
	if len(s.HonestPenalised) != 1 || s.HonestPenalised[0].Profile != "hopper-bf16" {
		t.Fatalf("honest penalised %+v, want the hopper-bf16 node", s.HonestPenalised)
	}
	p := s.HonestPenalised[0]
	ids := map[string]bool{}
	for _, v := range s.Verdicts {
		ids[v.Task] = true
	}
	var sum uint64
	for _, x := range p.Slashes {
		if !ids[x.Task] || x.Kind != "text" || x.Round != 0 || x.Reason != ledger.ReasonOutlier {
			t.Errorf("slash %+v: want an outlier slash of a text task of the run, round 0", x)
		}
		ids[x.Task] = false // each task once
		sum += x.Amount
	}
	if len(p.Slashes) != tasks || sum != p.Slashed {
		t.Errorf("slashes %+v (sum %d), want %d summing to the record's %d", p.Slashes, sum, tasks, p.Slashed)
	}
	if got := s.HonestSlashesByKind["text"][ledger.ReasonOutlier]; got != tasks || len(s.HonestSlashesByKind) != 1 {
		t.Errorf("honest slashes by kind %v, want text: outlier %d", s.HonestSlashesByKind, tasks)
	}
}

// TestRunCapacityWaits: nodes that declare a capacity of one open assignment hold one task
// at a time; the demo's other submissions find the network at capacity and wait for it
// (node.Client.WaitBusy) instead of failing, and every task is accepted.
func TestRunCapacityWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 3 nodes")
	}
	a := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{1}}
	var reg engine.Registry
	if err := reg.Register(kindEngine{enginetest.NewFake(a), "text-a", engine.KindText}); err != nil {
		t.Fatal(err)
	}
	nodes := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}}
	const tasks = 4
	s, err := Run(t.Context(), Options{
		Dir: t.TempDir(), Engines: &reg, Nodes: nodes, Tasks: tasks, Replicas: 3, InFlight: tasks, Capacity: 1,
		Workloads: []Workload{{Kind: engine.KindText, Model: a, Scheme: fingerprint.TokenScheme,
			Prompts: []string{"a", "b", "c", "d"}, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.TasksSettled != tasks || s.Accepted != tasks || len(s.HonestPenalised) != 0 {
		t.Errorf("settled %d, accepted %d, honest penalised %v; want %d accepted, none penalised",
			s.TasksSettled, s.Accepted, s.HonestPenalised, tasks)
	}
}
