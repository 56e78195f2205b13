package node_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// TestTrajectoryOnDevnet runs trajectory-verified image tasks on a network (one CometBFT
// validator, four nodes on exact, cpu-avx512, ampere-tf32 and ampere-fp16, each with its own
// store and libp2p host): the generator drawn by the ledger commits its pHash/16 fingerprint and
// the digests of its 20-step DDIM sampling states at 5 steps (4 segments), the two verifiers
// fetch the drawn segment's states over p2p, re-run it on their own profile and vote. An honest
// task is accepted, the generator's fingerprint is the value and everyone is paid; with every
// node substituting a cheaper or other run whenever it generates (10 steps, half the guidance,
// the fine-tuned model), the task is rejected by the segment check (the reason names the
// segment) and the generator slashed; Euler instead of DDIM is caught by the ends check (its
// first state is not the seed's noise).
func TestTrajectoryOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator and 4 nodes, generates 5 images")
	}
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	ft, err := models.Diffusion("finetuned")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := diffusion.New(base, ft)
	if err != nil {
		t.Fatal(err)
	}
	var reg engine.Registry
	if err := reg.Register(eng); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = 600, 300 // windows close early when all answered
	specs := []devnet.NodeSpec{{Profile: "exact"}, {Profile: "cpu-avx512"}, {Profile: "ampere-tf32"}, {Profile: "ampere-fp16"}}
	logs := &costLog{}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: specs, Engines: &reg, Params: params,
		EmptyBlockInterval: 50 * time.Millisecond, Logger: slog.New(logs)})
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
	scheme, err := fingerprint.ParseScheme("image:phash/16")
	if err != nil {
		t.Fatal(err)
	}
	task := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "base", Digest: base.Digest}, Prompt: "A photo of a coat",
		Seed: 5, Image: &engine.ImageParams{Sampler: "ddim", Steps: 20, CFGScale: 3}}
	for _, c := range []struct {
		cheat  string
		reason string // "" accepted
	}{
		{"", ""},
		{diffusion.CheatFewerSteps, ledger.ReasonTrajectorySegment},
		{diffusion.CheatGuidance, ledger.ReasonTrajectorySegment},
		{diffusion.CheatOtherModel, ledger.ReasonTrajectorySegment},
		{diffusion.CheatSampler, ledger.ReasonTrajectoryEnds},
	} {
		for _, n := range nw.Nodes {
			n.SetTrainCheat(c.cheat)
		}
		id, err := nw.Clients[0].Submit(ctx, node.Request{Task: task, Scheme: scheme, Replicas: 3, Rule: quorum.Majority, Fee: 300,
			TrajectorySegments: 4, TrajectoryChecks: 1})
		if err != nil {
			t.Fatal(err)
		}
		tv, err := nw.Clients[0].Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		gen := tv.Executors[0]
		t.Logf("%q: generator on %s, verifiers on %s and %s: %s %q", c.cheat, profile[gen.Node], profile[tv.Executors[1].Node],
			profile[tv.Executors[2].Node], tv.Status, tv.Reason)
		if tv.Verify != ledger.VerifyTrajectory {
			t.Fatalf("task verify mode %d", tv.Verify)
		}
		// The verifiers re-ran the drawn segment (one check each; a verifier whose vote failed
		// to send checks again) and judged it as the ledger says: passed for the honest task, failed for the segment-caught cheats (the
		// Euler run's segment is logged too, whatever it gives: its ends fail first).
		checks := logs.segments(tv.ID[:12])
		wantOK := c.reason == ""
		if len(checks) < 2 || c.reason != ledger.ReasonTrajectoryEnds && slices.ContainsFunc(checks, func(ok bool) bool { return ok != wantOK }) {
			t.Errorf("%q: verifiers' segment checks %v, want at least two, all ok %t", c.cheat, checks, wantOK)
		}
		if c.reason == "" {
			if tv.Status != "accepted" {
				t.Errorf("honest task: %s %q", tv.Status, tv.Reason)
			}
			for j, x := range tv.Executors {
				if x.Outcome != "agreed" {
					t.Errorf("honest task: executor %d %s", j, x.Outcome)
				}
			}
			f, err := node.Fetch(ctx, nw.Chain, nw.ClientHost, id, node.FetchOptions{})
			if err != nil || f.From != gen.Node || f.Distance != 0 {
				t.Errorf("fetch of the accepted image: %+v %v", f, err)
			}
			continue
		}
		if tv.Status != "no-verdict" || !strings.HasPrefix(tv.Reason, c.reason) || gen.Outcome != "outlier" {
			t.Errorf("%s: %s %q, generator %s; want rejected for %q", c.cheat, tv.Status, tv.Reason, gen.Outcome, c.reason)
		}
	}
	gen, fetch, run := logs.costs()
	t.Logf("cost (wall ms on this machine, nodes sharing its cores): generation %v; per verifier and segment: fetch of two states %v, re-run %v",
		gen, fetch, run)
}

// costLog is a slog handler that keeps what the nodes log of trajectory tasks: the
// generator's generate_ms, and each verifier's segment check (ok, fetch_ms, verify_ms) by task.
type costLog struct {
	mu     sync.Mutex
	attrs  []slog.Attr
	parent *costLog
	gen    []float64
	checks map[string][]costCheck
}

type costCheck struct {
	ok             bool
	fetchMS, runMS float64
}

func (h *costLog) root() *costLog {
	for h.parent != nil {
		h = h.parent
	}
	return h
}

func (h *costLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *costLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &costLog{parent: h.root(), attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *costLog) WithGroup(string) slog.Handler { return h }

func (h *costLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "generated with trajectory" && r.Message != "trajectory segment checked" {
		return nil
	}
	var task string
	var c costCheck
	var gen float64
	each := func(a slog.Attr) bool {
		switch a.Key {
		case "task":
			task = a.Value.String()
		case "ok":
			c.ok = a.Value.Bool()
		case "fetch_ms":
			c.fetchMS = a.Value.Float64()
		case "verify_ms":
			c.runMS = a.Value.Float64()
		case "generate_ms":
			gen = a.Value.Float64()
		}
		return true
	}
	for _, a := range h.attrs {
		each(a)
	}
	r.Attrs(each)
	root := h.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	if r.Message == "generated with trajectory" {
		root.gen = append(root.gen, gen)
		return nil
	}
	if root.checks == nil {
		root.checks = map[string][]costCheck{}
	}
	root.checks[task] = append(root.checks[task], c)
	return nil
}

// segments returns the outcomes of the segment checks logged for a task (id prefix).
func (h *costLog) segments(task string) []bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []bool
	for _, c := range h.checks[task] {
		out = append(out, c.ok)
	}
	return out
}

// costs returns the logged generation times, and the verifiers' fetch and re-run times, in ms.
func (h *costLog) costs() (gen, fetch, run []float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, cs := range h.checks {
		for _, c := range cs {
			fetch = append(fetch, c.fetchMS)
			run = append(run, c.runMS)
		}
	}
	slices.Sort(fetch)
	slices.Sort(run)
	return slices.Sorted(slices.Values(h.gen)), fetch, run
}

// TestTaskSpecTrajectory: genquorum submit's --verify trajectory builds a trajectory-verified
// image request (defaults: 4 segments, 1 check; no tolerance), whose ledger submission carries
// the digests' room after the image fingerprint; impossible layouts are refused.
func TestTaskSpecTrajectory(t *testing.T) {
	image := node.TaskSpec{Kind: "image", Prompt: "p", Seed: 3, Steps: 20, Sampler: "ddim", CFGScale: 3, Verify: "trajectory",
		Replicas: 3, Rule: "majority", Scheme: "image:phash/16", Tolerance: 10}
	for _, c := range []struct {
		name             string
		mod              func(*node.TaskSpec)
		segments, checks int // 0: refused
	}{
		{"defaults", func(*node.TaskSpec) {}, 4, 1},
		{"5 segments, 2 checks", func(s *node.TaskSpec) { s.Segments, s.Checks = 5, 2 }, 5, 2},
		{"more checks than segments", func(s *node.TaskSpec) { s.Segments, s.Checks = 2, 3 }, 0, 0},
		{"more segments than steps", func(s *node.TaskSpec) { s.Segments = 21 }, 0, 0},
		{"adaptive", func(s *node.TaskSpec) { s.Adaptive = true }, 0, 0},
		{"text kind", func(s *node.TaskSpec) { s.Kind = "text" }, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := image
			c.mod(&s)
			r, err := s.Request()
			if c.segments == 0 {
				if err == nil {
					t.Errorf("accepted: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.TrajectorySegments != c.segments || r.TrajectoryChecks != c.checks || r.Tolerance != 0 {
				t.Fatalf("request: %d segments, %d checks, tolerance %d", r.TrajectorySegments, r.TrajectoryChecks, r.Tolerance)
			}
			r.Task.Model = engine.ModelRef{Name: "base", Digest: engine.Digest{1}}
			spec, err := r.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if spec.Verify != ledger.VerifyTrajectory || spec.Segment.Segments != uint32(c.segments) || spec.Segment.Checks != uint32(c.checks) ||
				spec.FingerprintLen != 32+ledger.TrajectoryDigestsLen(uint32(c.segments)) {
				t.Errorf("spec: verify %d, %+v, fingerprint %d bytes", spec.Verify, spec.Segment, spec.FingerprintLen)
			}
		})
	}
}
