package demo

import (
	"encoding/json"
	"testing"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
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

// TestRunCatchesCheaters runs a small demo on the deterministic fake engine with every node
// assigned to every task (replicas = nodes), so each cheater always meets the honest majority:
// every task is settled with a verdict and every cheater is caught. (With fewer replicas a
// cheater drawn only into tasks without a verdict is, correctly, not slashed.)
func TestRunCatchesCheaters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 7 nodes")
	}
	m := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{1}}
	var reg engine.Registry
	reg.Register(enginetest.NewFake(m))
	nodes := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"}, {Profile: "exact"},
		{Behaviour: node.Guesser}, {Behaviour: node.Lazy}, {Behaviour: node.Copier}}
	s, err := Run(t.Context(), Options{
		Dir: t.TempDir(), Engines: &reg, Nodes: nodes, Tasks: 6, Replicas: uint32(len(nodes)),
		Workloads: []Workload{{Kind: engine.KindText, Model: m, Scheme: fingerprint.TokenScheme,
			Prompts: []string{"a", "b", "c"}, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 4}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.TasksSettled != 6 || s.Accepted != 6 {
		t.Errorf("settled %d (accepted %d, no verdict %d), want 6 accepted", s.TasksSettled, s.Accepted, s.NoVerdict)
	}
	if len(s.Cheaters) != 3 {
		t.Fatalf("%d cheaters reported, want 3", len(s.Cheaters))
	}
	for _, c := range s.Cheaters {
		if c.Assigned != 6 || !c.Caught {
			t.Errorf("%s: assigned %d tasks, caught %v; want 6 and caught", c.Behaviour, c.Assigned, c.Caught)
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
	for _, k := range []string{"tasks_submitted", "tasks_settled", "no_verdict", "cheaters", "honest_penalised",
		"tasks_per_s", "latency_ms_p50", "latency_ms_p95"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary JSON lacks %q", k)
		}
	}
	c := m["cheaters"].([]any)[0].(map[string]any)
	for _, k := range []string{"node", "behaviour", "caught"} {
		if _, ok := c[k]; !ok {
			t.Errorf("cheater JSON lacks %q", k)
		}
	}
}
