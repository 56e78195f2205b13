// Package demo runs genquorum's main job on one machine: it starts a devnet (one validator,
// honest nodes with different hardware profiles and a few misbehaving ones), submits a
// workload of generation tasks through the engines it is given, waits for every verdict, and
// summarises what happened: tasks settled, verdicts, which cheaters were caught, which honest
// nodes were penalised, throughput and latency.
//
// The caller builds the workloads (TextWorkloads, ImageWorkload, interleaved by Mix), the
// engines serving their models (OpenTextModels for the GGUF text models) and the nodes, then
// calls Run and prints the Summary (WriteSummary). Run stops the devnet it starts before it
// returns.
package demo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// Workload is one kind of task the demo submits, round-robin over prompts and seeds.
type Workload struct {
	Kind    engine.Kind
	Model   engine.ModelRef
	Scheme  fingerprint.Scheme
	Prompts []string
	// Text parameters (Kind text) or image parameters (Kind image).
	Text  *engine.TextParams
	Image *engine.ImageParams
	// Tolerance in bits for this kind's fingerprints.
	Tolerance uint32
	// ScoreCheck asks for score-based verdicts (text): differing token sequences are checked
	// by the executors with the task's model instead of settling on equality.
	ScoreCheck bool
}

// Options configure a demo run.
type Options struct {
	Dir       string
	Engines   *engine.Registry
	Nodes     []devnet.NodeSpec
	Workloads []Workload
	Tasks     int    // total tasks, spread over the workloads
	Replicas  uint32 // executors per task
	Rule      quorum.Rule
	// InFlight bounds the tasks submitted and not yet settled.
	InFlight int
	// Capacity, when not 0, is the most open assignments each node without its own
	// NodeSpec.Capacity declares: on one machine every node shares its cores, so a node's
	// queue must stay short enough to be run within the commit window. A submission that
	// finds the network at capacity waits (node.Client.WaitBusy) instead of failing.
	Capacity uint32
	// FixedCapacity keeps every node's declared capacity fixed instead of following its run
	// time against the commit window's time floor (node.Config.FixedCapacity).
	FixedCapacity bool
	// Adaptive lets a task without a verdict get a second round with more executors.
	Adaptive bool
	Params   ledger.Params
	// Policies are the verification policies registered at genesis (devnet.Options.Policies);
	// a workload on a model with a policy for its kind must use the policy's scheme and
	// tolerance (Workload.UsePolicy).
	Policies []ledger.Policy
	// Progress, if set, is called after each settled task (serialised).
	Progress func(settled, total int)
	Logger   *slog.Logger
}

// Cheater is one misbehaving node, whether it was caught and by which check.
type Cheater struct {
	Node      string `json:"node"`
	Behaviour string `json:"behaviour"`
	// Caught is true when a check named in CaughtBy flagged the node at least once.
	Caught bool `json:"caught"`
	// CaughtBy names the checks that flagged the node, most frequent first: "outlier" (its
	// revealed fingerprint lay outside the accepted group), "no-commit", "no-reveal",
	// "copied-commitment" (it committed another executor's bytes), "artifact-mismatch" (the
	// artifact it served did not match the fingerprint it revealed; found by fetching it).
	CaughtBy []string `json:"caught_by"`
	// Expected is the check that must catch this behaviour; Right reports whether it did.
	Expected string `json:"expected"`
	Right    bool   `json:"right_reason"`
	Assigned uint64 `json:"assigned"`
	Slashed  uint64 `json:"slashed"`
	// Outcomes of its executor slots (ledger record), and fetch rejections of its artifacts.
	Agreed           uint64 `json:"agreed"`
	Outliers         uint64 `json:"outliers"`
	Undecided        uint64 `json:"undecided"`
	NoCommit         uint64 `json:"no_commit"`
	NoReveal         uint64 `json:"no_reveal"`
	Copied           uint64 `json:"copied"`
	ArtifactMismatch uint64 `json:"artifact_mismatch"`
	// OutliersByKind counts its outliers in the last round of each settled task, by task kind.
	OutliersByKind map[string]int `json:"outliers_by_kind,omitempty"`
	Note           string         `json:"note,omitempty"`
}

// expectedCheck is the check that must catch each behaviour.
var expectedCheck = map[node.Behaviour]string{
	node.Guesser:    "outlier",
	node.WrongModel: "outlier",
	node.Lazy:       "no-reveal",
	node.Crashed:    "no-commit",
	node.Copier:     "copied-commitment",
	node.Tamperer:   "artifact-mismatch",
}

// Penalised is an honest node that lost stake, with the outcomes that cost it.
type Penalised struct {
	Node     string `json:"node"`
	Profile  string `json:"profile"`
	Outliers uint64 `json:"outliers"`
	NoCommit uint64 `json:"no_commit"`
	NoReveal uint64 `json:"no_reveal"`
	Slashed  uint64 `json:"slashed"`
	// Slashes are the node's slash events, read from the blocks of the run (every round,
	// unlike the task view, and with the ledger's reason: outlier, no commit, no reveal,
	// contrary vote, ...).
	Slashes []Slash `json:"slashes"`
}

// Slash is one slash event of an honest node: the task, its kind ("" when the event names no
// task of the run, as a jailing does), the round, the ledger's reason and the amount.
type Slash struct {
	Task   string `json:"task"`
	Kind   string `json:"kind"`
	Round  uint8  `json:"round"`
	Reason string `json:"reason"`
	Amount uint64 `json:"amount"`
}

// Summary is the demo's result; its JSON form is what `genquorum demo --json` writes.
type Summary struct {
	TasksSubmitted  int         `json:"tasks_submitted"`
	TasksSettled    int         `json:"tasks_settled"`
	Accepted        int         `json:"accepted"`
	NoVerdict       int         `json:"no_verdict"`
	SecondRounds    int         `json:"second_rounds"`
	Cheaters        []Cheater   `json:"cheaters"`
	HonestPenalised []Penalised `json:"honest_penalised"`
	TasksPerS       float64     `json:"tasks_per_s"`
	LatencyMsP50    float64     `json:"latency_ms_p50"`
	LatencyMsP95    float64     `json:"latency_ms_p95"`
	ElapsedS        float64     `json:"elapsed_s"`
	Nodes           int         `json:"nodes"`
	Replicas        uint32      `json:"replicas"`
	Rule            string      `json:"rule"`
	Blocks          int64       `json:"blocks"`
	Verdicts        []Verdict   `json:"verdicts"`
	// HonestByKind counts, per task kind, the honest nodes' executor slots in the last round
	// of each settled task (the task view keeps only that round; the nodes' ledger records
	// count every round) and how many of them ended as outliers (image tasks: to compare with
	// the verification policy's measured Type I).
	HonestByKind map[string]HonestSlots `json:"honest_by_kind"`
	// HonestSlashesByKind counts the honest nodes' slash events (HonestPenalised's Slashes) by
	// task kind, then by reason.
	HonestSlashesByKind map[string]map[string]int `json:"honest_slashes_by_kind"`
}

// HonestSlots are honest executor slots of one kind of task and the outliers among them.
type HonestSlots struct {
	Slots    int `json:"slots"`
	Outliers int `json:"outliers"`
}

// UsePolicy sets w's fingerprint scheme and tolerance to those of p, its model's verification
// policy (one part: the node computes one scheme).
func (w *Workload) UsePolicy(p ledger.Policy) error {
	pv := chain.ViewPolicy(p)
	var r node.Request
	if err := r.UsePolicy(&pv); err != nil {
		return err
	}
	w.Scheme, w.Tolerance = r.Scheme, r.Tolerance
	return nil
}

// Verdict is one settled task.
type Verdict struct {
	Task      string   `json:"task"`
	Kind      string   `json:"kind"`
	Prompt    string   `json:"prompt"`
	Seed      uint64   `json:"seed"`
	Status    string   `json:"status"`
	Support   uint32   `json:"support"`
	Need      uint32   `json:"need"`
	Round     uint8    `json:"round"`
	Outcomes  []string `json:"outcomes"`
	LatencyMs float64  `json:"latency_ms"`
}

// Run runs the demo and returns its summary.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if o.Tasks <= 0 || len(o.Workloads) == 0 || len(o.Nodes) == 0 {
		return nil, errors.New("demo: need tasks, workloads and nodes")
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.Rule == 0 {
		o.Rule = quorum.Majority
	}
	if o.InFlight <= 0 {
		o.InFlight = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Capacity != 0 || o.FixedCapacity {
		o.Nodes = slices.Clone(o.Nodes)
		for i := range o.Nodes {
			if o.Nodes[i].Capacity == 0 {
				o.Nodes[i].Capacity = o.Capacity
			}
			o.Nodes[i].FixedCapacity = o.Nodes[i].FixedCapacity || o.FixedCapacity
		}
	}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: o.Dir, Nodes: o.Nodes, Engines: o.Engines, Params: o.Params,
		Clients: 1, Logger: o.Logger, Policies: o.Policies})
	if err != nil {
		return nil, err
	}
	defer nw.Stop()
	startHeight, _ := nw.Chain.Height(ctx)
	client := nw.Clients[0]
	client.WaitBusy = true

	start := time.Now()
	verdicts := make([]Verdict, o.Tasks)
	var mu sync.Mutex
	settled := 0
	agreedBy := map[ledger.TaskID][]string{} // accepted task -> agreeing executors (hex keys)
	honest := map[string]bool{}
	for _, n := range nw.Nodes {
		if n.Behaviour() == node.Honest {
			honest[n.Key().String()] = true
		}
	}
	byKind := map[string]HonestSlots{}
	outlierKinds := map[string]map[string]int{}      // node (hex key) -> kind -> outliers
	kindOutcomes := map[string]map[string][]string{} // node (hex key) -> kind -> outcomes (last rounds)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.InFlight)
	for i := range o.Tasks {
		w := o.Workloads[i%len(o.Workloads)]
		task := engine.Task{Kind: w.Kind, Model: w.Model, Prompt: w.Prompts[i%len(w.Prompts)],
			Seed: uint64(1000 + i), Text: w.Text, Image: w.Image}
		g.Go(func() error {
			t0 := time.Now()
			id, err := client.Submit(gctx, node.Request{Task: task, Scheme: w.Scheme, Replicas: o.Replicas,
				Tolerance: w.Tolerance, Rule: o.Rule, Fee: 300, MaxRounds: o.Adaptive, ScoreCheck: w.ScoreCheck})
			if err != nil {
				return fmt.Errorf("demo: task %d: %w", i, err)
			}
			tv, err := client.Wait(gctx, id)
			if err != nil {
				return fmt.Errorf("demo: task %d: %w", i, err)
			}
			v := Verdict{Task: tv.ID, Kind: tv.Kind, Prompt: task.Prompt, Seed: task.Seed, Status: tv.Status,
				Support: tv.Support, Need: tv.Need, Round: tv.Round, LatencyMs: float64(time.Since(t0).Microseconds()) / 1000}
			var agreed []string
			for _, e := range tv.Executors {
				v.Outcomes = append(v.Outcomes, e.Outcome)
				if e.Outcome == ledger.OutcomeAgreed.String() {
					agreed = append(agreed, e.Node)
				}
			}
			mu.Lock()
			for _, e := range tv.Executors {
				if kindOutcomes[e.Node] == nil {
					kindOutcomes[e.Node] = map[string][]string{}
				}
				kindOutcomes[e.Node][tv.Kind] = append(kindOutcomes[e.Node][tv.Kind], e.Outcome)
				if e.Outcome == ledger.OutcomeOutlier.String() {
					if outlierKinds[e.Node] == nil {
						outlierKinds[e.Node] = map[string]int{}
					}
					outlierKinds[e.Node][tv.Kind]++
				}
				if honest[e.Node] {
					h := byKind[tv.Kind]
					h.Slots++
					if e.Outcome == ledger.OutcomeOutlier.String() {
						h.Outliers++
					}
					byKind[tv.Kind] = h
				}
			}
			verdicts[i] = v
			if v.Status == ledger.StatusAccepted.String() {
				agreedBy[id] = agreed
			}
			settled++
			if o.Progress != nil {
				o.Progress(settled, o.Tasks)
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	endHeight, _ := nw.Chain.Height(ctx)

	s := &Summary{TasksSubmitted: o.Tasks, TasksSettled: settled, Nodes: len(o.Nodes), Replicas: o.Replicas,
		Rule: o.Rule.String(), Verdicts: verdicts, ElapsedS: elapsed.Seconds(), Blocks: endHeight - startHeight,
		Cheaters: []Cheater{}, HonestPenalised: []Penalised{}, HonestByKind: byKind,
		HonestSlashesByKind: map[string]map[string]int{}}
	var lat []float64
	for _, v := range verdicts {
		switch v.Status {
		case ledger.StatusAccepted.String():
			s.Accepted++
		case ledger.StatusNoVerdict.String():
			s.NoVerdict++
		}
		if v.Round > 0 {
			s.SecondRounds++
		}
		lat = append(lat, v.LatencyMs)
	}
	s.TasksPerS = float64(settled) / elapsed.Seconds()
	s.LatencyMsP50, s.LatencyMsP95 = percentile(lat, 50), percentile(lat, 95)

	mismatches, err := auditArtifacts(ctx, nw, agreedBy, o.Nodes)
	if err != nil {
		return nil, err
	}
	for i, n := range nw.Nodes {
		key := n.Key()
		var nv chain.NodeView
		if err := nw.Chain.QueryJSON(ctx, chain.QueryNode, key[:], &nv); err != nil {
			return nil, err
		}
		r := nv.Record
		if b := n.Behaviour(); b != node.Honest {
			c := Cheater{Node: nv.Key[:16], Behaviour: string(b), Assigned: r.Assigned, Slashed: r.Slashed,
				Agreed: r.Agreed, Outliers: r.Outliers, Undecided: r.Undecided, NoCommit: r.NoCommit,
				NoReveal: r.NoReveal, Copied: r.Copied, ArtifactMismatch: mismatches[key.String()],
				Expected: expectedCheck[b], OutliersByKind: outlierKinds[key.String()]}
			c.CaughtBy = caughtBy(c)
			c.Caught = len(c.CaughtBy) > 0
			c.Right = slices.Contains(c.CaughtBy, c.Expected)
			switch {
			case r.Assigned == 0:
				c.Note = "never assigned a task"
			case b == node.Guesser && !c.Caught && onlyGreedy(o.Workloads):
				c.Note = "greedy decoding ignores the seed, so a seed guess is the honest output"
			case b == node.Guesser && !c.Caught:
				c.Note = "no outlier in the tasks it drew (" + outcomeCounts(kindOutcomes[key.String()]) +
					"): on greedy text a seed guess is the honest output, and an image task without a verdict slashes nobody"
			case b == node.Lazy && r.Copied > 0:
				c.Note = "the copier copied this node's commitment, which neither opened: both count as copiers"
			case b == node.WrongModel && r.Agreed > 0:
				c.Note = fmt.Sprintf("its substitute model's output agreed with the honest one in %d of %d tasks", r.Agreed, r.Assigned)
			}
			s.Cheaters = append(s.Cheaters, c)
		} else if r.Slashed > 0 {
			s.HonestPenalised = append(s.HonestPenalised, Penalised{Node: nv.Key[:16], Profile: o.Nodes[i].Profile,
				Outliers: r.Outliers, NoCommit: r.NoCommit, NoReveal: r.NoReveal, Slashed: r.Slashed})
		}
	}
	if len(s.HonestPenalised) > 0 {
		if err := s.explainPenalties(ctx, nw.Chain, startHeight, honest); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// explainPenalties reads the slash events of the blocks after startHeight and attaches each
// honest node's to its entry of s.HonestPenalised, with the task's kind, and counts them in
// s.HonestSlashesByKind.
func (s *Summary) explainPenalties(ctx context.Context, c *chain.Client, startHeight int64, honest map[string]bool) error {
	end, err := c.Height(ctx)
	if err != nil {
		return fmt.Errorf("demo: slashes: %w", err)
	}
	var evs []ledger.Event
	for h := startHeight + 1; h <= end; h++ {
		a, err := c.Activity(ctx, h)
		if err != nil {
			return fmt.Errorf("demo: slashes: %w", err)
		}
		evs = append(evs, a.Events...)
	}
	kinds := map[string]string{}
	for _, v := range s.Verdicts {
		kinds[v.Task] = v.Kind
	}
	slashes := honestSlashes(evs, honest, kinds)
	for i := range s.HonestPenalised {
		p := &s.HonestPenalised[i]
		for k, sl := range slashes {
			if k[:len(p.Node)] == p.Node {
				p.Slashes = sl
			}
		}
		for _, x := range p.Slashes {
			if s.HonestSlashesByKind[x.Kind] == nil {
				s.HonestSlashesByKind[x.Kind] = map[string]int{}
			}
			s.HonestSlashesByKind[x.Kind][x.Reason]++
		}
	}
	return nil
}

// roundEvents are the event types that carry their task's round. A slash event does not: its
// round is the last one such an event named for the task before it (a round's slashes follow
// its verdict or no-verdict, and precede the next round's assignment).
var roundEvents = map[ledger.EventType]bool{ledger.EventTaskAssigned: true, ledger.EventCommitted: true,
	ledger.EventRevealed: true, ledger.EventDuplicateCommitment: true, ledger.EventRevealOpen: true,
	ledger.EventVerdict: true, ledger.EventNoVerdict: true, ledger.EventCheckOpen: true,
	ledger.EventVoteCommitted: true, ledger.EventVoteRevealOpen: true, ledger.EventSpotDrawn: true,
	ledger.EventEscalated: true}

// honestSlashes picks from evs (in chain order) the slash events of the honest nodes (hex
// keys) and returns them per node, in event order, with each task's kind from kinds (task ID in
// hex -> kind) and its round.
func honestSlashes(evs []ledger.Event, honest map[string]bool, kinds map[string]string) map[string][]Slash {
	out := map[string][]Slash{}
	round := map[ledger.TaskID]uint8{}
	for _, e := range evs {
		if roundEvents[e.Type] {
			round[e.Task] = e.Round
		}
		if e.Type != ledger.EventSlash || !honest[e.Node.String()] {
			continue
		}
		id := e.Task.String()
		out[e.Node.String()] = append(out[e.Node.String()],
			Slash{Task: id, Kind: kinds[id], Round: round[e.Task], Reason: e.Reason, Amount: e.Amount})
	}
	return out
}

// caughtBy lists the checks that flagged c, most frequent first (ties in a fixed order).
func caughtBy(c Cheater) []string {
	type check struct {
		name string
		n    uint64
	}
	all := []check{{"outlier", c.Outliers}, {"no-commit", c.NoCommit}, {"no-reveal", c.NoReveal},
		{"copied-commitment", c.Copied}, {"artifact-mismatch", c.ArtifactMismatch}}
	slices.SortStableFunc(all, func(a, b check) int { return cmp.Compare(b.n, a.n) })
	out := []string{}
	for _, ch := range all {
		if ch.n > 0 {
			out = append(out, ch.name)
		}
	}
	return out
}

// auditArtifacts fetches, for every accepted task, the artifact of each agreeing tamperer
// executor and checks it against the accepted fingerprint as any client's Fetch would; it
// returns per node (hex key) how many artifacts failed the check. (Honest executors' artifacts
// are checked by Fetch in node's tests; fetching every artifact here would only slow the demo.)
func auditArtifacts(ctx context.Context, nw *devnet.Network, agreedBy map[ledger.TaskID][]string, specs []devnet.NodeSpec) (map[string]uint64, error) {
	tamperers := map[string]bool{}
	for i, n := range nw.Nodes {
		if specs[i].Behaviour == node.Tamperer {
			tamperers[n.Key().String()] = true
		}
	}
	out := map[string]uint64{}
	if len(tamperers) == 0 {
		return out, nil
	}
	ids := slices.SortedFunc(maps.Keys(agreedBy), func(a, b ledger.TaskID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		for _, ex := range agreedBy[id] {
			if !tamperers[ex] {
				continue
			}
			_, err := node.FetchFromExecutor(ctx, nw.Chain, nw.ClientHost, id, ex, node.FetchOptions{})
			switch {
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.Is(err, node.ErrTokenMismatch), errors.Is(err, node.ErrTextMismatch),
				errors.Is(err, node.ErrFingerprintMismatch), errors.Is(err, fingerprint.ErrTextRecord),
				errors.Is(err, imgdecode.ErrFormat), errors.Is(err, imgdecode.ErrTruncated):
				out[ex]++
			case err != nil:
				return nil, fmt.Errorf("demo: audit task %s: %w", id.String()[:12], err)
			}
		}
	}
	return out, nil
}

// onlyGreedy reports whether every workload is deterministic text decoding, whose output does
// not depend on the seed.
// outcomeCounts writes a node's outcomes per task kind, e.g. "image: 2 undecided; text: 7
// agreed", kinds and outcomes in sorted order.
func outcomeCounts(byKind map[string][]string) string {
	var parts []string
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		n := map[string]int{}
		for _, o := range byKind[kind] {
			n[o]++
		}
		var xs []string
		for _, o := range slices.Sorted(maps.Keys(n)) {
			xs = append(xs, fmt.Sprintf("%d %s", n[o], o))
		}
		parts = append(parts, kind+": "+strings.Join(xs, ", "))
	}
	if len(parts) == 0 {
		return "none settled"
	}
	return strings.Join(parts, "; ")
}

func onlyGreedy(ws []Workload) bool {
	for _, w := range ws {
		if w.Kind != engine.KindText || w.Text == nil || w.Text.Decode == "sample" {
			return false
		}
	}
	return true
}

// percentile returns the p-th percentile (nearest rank) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	k := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(k, len(s)-1))]
}
