package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/train"
)

// TaskSpec is a task as a client describes it in words (genquorum submit's flags, whose names
// its errors use): Request checks it and builds the Request, all but the model's digest, which
// is looked up on the ledger (LookupModel).
type TaskSpec struct {
	Kind   string // text, image or train
	Prompt string
	Seed   uint64
	// text
	MaxTokens   int
	Decode      string // greedy, beam:N or sample
	Temperature float32
	TopK        int
	TopP        float32
	Verify      string // equal or score
	// image
	Steps          int
	Sampler        string
	CFGScale       float32
	Width, Height  int
	NegativePrompt string
	// train
	Method          string
	TrainSteps      int
	CheckpointEvery int
	Dataset         string // as train.ParseDataset reads it
	// Verify segments: one trainer, Replicas-1 verifiers each re-executing Checks segments
	// (0: all), fingerprints of SegmentDim numbers (0: train.ProjDim for lora and full).
	Checks     int
	SegmentDim int
	// Verify trajectory (image): one generator, Replicas-1 verifiers each re-running Checks
	// (0: 1) of its Segments (0: 4) sampling segments.
	Segments int
	// settlement
	Scheme    string // "" for the kind's default
	Replicas  uint32
	Tolerance uint32
	Rule      string
	Fee       uint64
	Adaptive  bool
	// SpotPPM > 0: one executor, verified with this probability in parts per million.
	SpotPPM uint32
}

// DefaultScheme is the fingerprint scheme of a kind's tasks when none is named.
func DefaultScheme(kind engine.Kind) string {
	switch kind {
	case engine.KindImage:
		return "image:average_hash/8"
	case engine.KindTrain:
		return "vector:simhash/256"
	default:
		return "text:tokens"
	}
}

// SpecError is an error in a TaskSpec (a usage error of the command that filled it).
type SpecError struct{ Msg string }

func (e SpecError) Error() string { return e.Msg }

func specErrorf(format string, a ...any) error { return SpecError{fmt.Sprintf(format, a...)} }

// Request checks s and returns its request. Task.Model is left for the caller to fill. Every
// error is a SpecError.
func (s TaskSpec) Request() (Request, error) {
	rule, err := quorum.ParseRule(s.Rule)
	if err != nil {
		return Request{}, specErrorf("--rule: %v", err)
	}
	if s.Verify != "equal" && s.Verify != "score" && !(s.Verify == "segments" && s.Kind == string(engine.KindTrain)) &&
		!(s.Verify == "trajectory" && s.Kind == string(engine.KindImage)) {
		return Request{}, specErrorf("--verify %q: want equal or score (or segments for --kind train, trajectory for --kind image)", s.Verify)
	}
	task := engine.Task{Kind: engine.Kind(s.Kind), Prompt: s.Prompt, Seed: s.Seed}
	switch task.Kind {
	case engine.KindText:
		task.Text = &engine.TextParams{Decode: s.Decode, MaxTokens: s.MaxTokens}
		if s.Decode == "sample" {
			if !(s.Temperature > 0) || s.TopK < 0 || !(s.TopP > 0 && s.TopP <= 1) {
				return Request{}, specErrorf("submit: --decode sample wants --temperature > 0, --top-k >= 0 and 0 < --top-p <= 1")
			}
			task.Text.Temperature, task.Text.TopK, task.Text.TopP = s.Temperature, s.TopK, s.TopP
		}
	case engine.KindImage:
		if !slices.Contains(diffusion.Samplers, s.Sampler) {
			return Request{}, specErrorf("--sampler %q: want one of %s", s.Sampler, strings.Join(diffusion.Samplers, ", "))
		}
		task.Image = &engine.ImageParams{NegativePrompt: s.NegativePrompt, Sampler: s.Sampler, Steps: s.Steps,
			CFGScale: s.CFGScale, Width: s.Width, Height: s.Height}
	case engine.KindTrain:
		data, err := train.ParseDataset(s.Dataset)
		if err != nil {
			return Request{}, specErrorf("--dataset: %v", err)
		}
		task.Train = &engine.TrainParams{Method: s.Method, Steps: s.TrainSteps, Checkpoint: s.CheckpointEvery, Dataset: data.Digest()}
	default:
		return Request{}, specErrorf("--kind %q: want text, image or train", s.Kind)
	}
	scheme := s.Scheme
	if scheme == "" {
		scheme = DefaultScheme(task.Kind)
	}
	sch, err := fingerprint.ParseScheme(scheme)
	if err != nil {
		return Request{}, specErrorf("--scheme: %v", err)
	}
	req := Request{Task: task, Scheme: sch, Replicas: s.Replicas, MaxRounds: s.Adaptive,
		Tolerance: s.Tolerance, Rule: rule, Fee: s.Fee, ScoreCheck: s.Verify == "score", SpotPPM: s.SpotPPM}
	if s.SpotPPM > 0 && (s.Replicas != 1 || s.Verify != "equal" || s.SpotPPM > ledger.PPM) {
		return Request{}, specErrorf("--spot-ppm %d: a spot-checked task has --replicas 1 and --verify equal, and at most %d ppm",
			s.SpotPPM, ledger.PPM)
	}
	if s.Verify == "trajectory" {
		req.TrajectorySegments, req.TrajectoryChecks, req.Tolerance = s.Segments, max(1, s.Checks), 0
		if req.TrajectorySegments == 0 {
			req.TrajectorySegments = 4
		}
		if req.TrajectoryChecks > req.TrajectorySegments || req.TrajectorySegments > s.Steps || s.Adaptive {
			return Request{}, specErrorf("--verify trajectory: --checks %d of --segments %d of --steps %d (and no --adaptive)",
				req.TrajectoryChecks, req.TrajectorySegments, s.Steps)
		}
	}
	if s.Verify == "segments" {
		if s.CheckpointEvery <= 0 || s.TrainSteps%s.CheckpointEvery != 0 {
			return Request{}, specErrorf("--verify segments: --checkpoint-every must divide --train-steps")
		}
		req.SegmentChecks, req.SegmentDim, req.Tolerance = s.Checks, s.SegmentDim, 0
		if req.SegmentChecks == 0 {
			req.SegmentChecks = s.TrainSteps / s.CheckpointEvery
		}
		if req.SegmentDim == 0 {
			if s.Method == train.MethodTI {
				return Request{}, specErrorf("--verify segments with --method ti: give --segment-dim (the base's TI embedding width)")
			}
			req.SegmentDim = train.ProjDim
		}
	}
	return req, nil
}

// Dial connects to the first of the validator RPC addresses (tcp://HOST:PORT, tried in order,
// with fail-over) that answers, and returns a client and the chain's ID.
func Dial(ctx context.Context, logger *slog.Logger, rpc ...string) (*chain.Client, string, error) {
	eps, err := chain.DialHTTP(rpc...)
	if err != nil {
		return nil, "", err
	}
	c, err := chain.NewClient(logger, eps...)
	if err != nil {
		return nil, "", err
	}
	for _, ep := range eps {
		st, err := ep.Status(ctx)
		if err == nil {
			return c, st.NodeInfo.Network, nil
		}
	}
	return nil, "", fmt.Errorf("no validator answers at %s", strings.Join(rpc, ", "))
}

// LookupModel finds the digest of a model name among the models registered nodes serve.
func LookupModel(ctx context.Context, cc *chain.Client, name string) (engine.ModelRef, error) {
	var nodes []chain.NodeView
	if err := cc.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err != nil {
		return engine.ModelRef{}, err
	}
	for _, n := range nodes {
		for _, m := range n.Models {
			mname, digest, _ := strings.Cut(m, "@")
			if mname == name {
				d, err := engine.ParseDigest(digest)
				return engine.ModelRef{Name: name, Digest: d}, err
			}
		}
	}
	return engine.ModelRef{}, fmt.Errorf("no registered node serves a model called %q", name)
}

// ParseTaskID reads a task ID written as hex.
func ParseTaskID(s string) (ledger.TaskID, error) {
	var id ledger.TaskID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, specErrorf("task ID %q: want %d hex digits", s, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// NoVerdict is the error of a task that settled without a verdict, nil otherwise.
func NoVerdict(tv chain.TaskView) error {
	if tv.Value != "" {
		return nil
	}
	reason := tv.Reason
	if reason == "" {
		reason = "status " + tv.Status
	}
	return fmt.Errorf("task %s: no verdict: %s", tv.ID, reason)
}

// TaskFormats are the formats WriteTask writes.
var TaskFormats = []string{"text", "json"}

// WriteTask writes a task's view as text (one field a line, one line per executor) or as
// one JSON object.
func WriteTask(w io.Writer, format string, tv chain.TaskView) error {
	switch format {
	case "json":
		return json.NewEncoder(w).Encode(tv)
	case "text":
	default:
		return specErrorf("--format %q: want text or json", format)
	}
	if tv.Pruned {
		fmt.Fprintf(w, "task      %s\nstatus    %s (round %d), settled at height %d; pruned from the ledger state, read from the event index\n",
			tv.ID, tv.Status, tv.Round, tv.SettledAt)
	} else {
		fmt.Fprintf(w, "task      %s\nstatus    %s (round %d)\nkind      %s, model %s, seed %d\nrule      %s, tolerance %d, %d replicas\n",
			tv.ID, tv.Status, tv.Round, tv.Kind, tv.Model, tv.Seed, tv.Rule, tv.Tolerance, tv.Replicas)
	}
	if p := tv.Policy; p != nil {
		fmt.Fprint(w, "policy    ")
		for i, x := range p.Parts {
			if i > 0 {
				fmt.Fprint(w, " + ")
			}
			fmt.Fprintf(w, "%s (tolerance %d)", x.Scheme, x.Tolerance)
		}
		fmt.Fprintf(w, "; Type I %d ppm of %d honest pairs, Type II %d ppm of %d pairs (95%% upper %d ppm), dataset %.16s\n",
			p.TypeIPPM, p.TypeIPairs, p.TypeIIPPM, p.TypeIIPairs, p.TypeIIUpper, p.Dataset)
		n := len(tv.Executors)
		if n == 0 {
			n = int(tv.Replicas)
		}
		if o, err := VerdictOdds(p, n, tv.Rule); err == nil {
			fmt.Fprintf(w, "odds      correct verdict %.6g (%.6g at Type I's 95%% lower bound %.4f), a guess passing <= %.3g (n %d, need %d)\n",
				o.Correct, o.CorrectLow, o.TypeILow, o.Guess, o.N, o.Need)
		}
	}
	if tv.Value != "" {
		fmt.Fprintf(w, "verdict   %s (support %d, need %d)\n", tv.Value, tv.Support, tv.Need)
		if tv.Reason != "" {
			fmt.Fprintf(w, "note      %s\n", tv.Reason)
		}
	} else if tv.Reason != "" {
		fmt.Fprintf(w, "verdict   none: %s (support %d, need %d)\n", tv.Reason, tv.Support, tv.Need)
	}
	for _, e := range tv.Executors {
		fmt.Fprintf(w, "executor  %s  %-10s %s\n", e.Node[:min(16, len(e.Node))], e.Outcome, e.Fingerprint)
	}
	return nil
}
