package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/train"
)

// rpcOptions choose the validators a client talks to.
type rpcOptions struct {
	rpc []string
}

func (o *rpcOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.rpc, "rpc", []string{"tcp://127.0.0.1:26657"},
		"validator RPC addresses, tried in order (fail-over)")
}

func (o *rpcOptions) client(ctx context.Context, g *globalOptions) (*chain.Client, string, error) {
	eps, err := chain.DialHTTP(o.rpc...)
	if err != nil {
		return nil, "", err
	}
	c, err := chain.NewClient(g.logger, eps...)
	if err != nil {
		return nil, "", err
	}
	for _, ep := range eps {
		st, err := ep.Status(ctx)
		if err == nil {
			return c, st.NodeInfo.Network, nil
		}
	}
	return nil, "", fmt.Errorf("no validator answers at %s", strings.Join(o.rpc, ", "))
}

type submitOptions struct {
	rpcOptions
	key       string
	kind      string
	model     string
	prompt    string
	seed      uint64
	maxTokens int
	decode    string
	temp      float32
	topK      int
	topP      float32
	verify    string
	steps     int
	sampler   string
	cfgScale  float32
	width     int
	height    int
	negative  string
	scheme    string
	replicas  uint32
	tolerance uint32
	rule      string
	fee       uint64
	adaptive  bool
	wait      bool
	waitCap   bool
	timeout   time.Duration
	format    string
	method    string // train
	trainStep int
	every     int
	dataset   string
}

func newSubmitCommand(g *globalOptions) *cobra.Command {
	var o submitOptions
	cmd := &cobra.Command{
		Use:   "submit --key FILE --model NAME --prompt TEXT",
		Short: "Submit a task to the network and wait for its verdict",
		Long: `submit signs a task with --key (e.g. the client.key that genquorum testnet writes), sends it
to the first validator of --rpc that answers (resubmitting if it is not included, failing over
to the next validator), and with --wait (default) polls until the task is settled, then prints
the verdict: accepted fingerprint, agreeing executors and outliers. The task ID is printed on
stderr as soon as a mempool admits the submission. The signed submission is kept in
KEY.pending until it is in a block, so running the same submit again after a timeout resends
the same transaction and never pays twice. A network at capacity refuses with code 21; by
default submit retries until --timeout (--wait-capacity=false fails at once).

The model is named as the nodes registered it; its content digest is looked up on the ledger.
Image tasks take genquorum generate image's flags and defaults (--steps, --sampler,
--cfg-scale, --width/--height, --negative-prompt), so that the accepted PNG is the one
generate image writes with the same values and the executors' --profile.
Training tasks (--kind train, model train-NAME as node --train-model registers it) run the
whole fine-tune on every executor, all randomness switches off (package train); the artifact is
the learned change of the fingerprint, compared as a vector:simhash/256 sketch.
The fingerprint scheme defaults to text:tokens for text, image:average_hash/8 for images and
vector:simhash/256 for training.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSubmit(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.rpcOptions.addFlags(cmd)
	f.StringVar(&o.key, "key", "", "client key file (required)")
	f.StringVar(&o.kind, "kind", "text", "task kind: text, image or train")
	f.StringVar(&o.method, "method", "ti", "train: ti, lora or full")
	f.IntVar(&o.trainStep, "train-steps", 20, "train: training steps")
	f.IntVar(&o.every, "checkpoint-every", 10, "train: steps between checkpoints (divides --train-steps)")
	f.StringVar(&o.dataset, "dataset", "", "train: the dataset, as node --train-data names it (its digest goes in the task; executors must hold it)")
	f.StringVar(&o.model, "model", "", "model name (required)")
	f.StringVar(&o.prompt, "prompt", "", "prompt (required)")
	f.Uint64Var(&o.seed, "seed", 42, "seed")
	f.IntVar(&o.maxTokens, "max-tokens", 30, "text: tokens to generate")
	f.StringVar(&o.decode, "decode", "greedy", "text: greedy, beam:N or sample (the seeded sampler of engine/llm/SAMPLING.md)")
	f.Float32Var(&o.temp, "temperature", 1, "text, sample: temperature (> 0)")
	f.IntVar(&o.topK, "top-k", 0, "text, sample: keep the K most likely tokens (0 = all)")
	f.Float32Var(&o.topP, "top-p", 1, "text, sample: keep the smallest set of tokens with mass >= P (1 = all)")
	f.StringVar(&o.verify, "verify", "equal", "text: equal (settle on identical tokens) or score (when executors' tokens differ, they check each other's with the model)")
	f.IntVar(&o.steps, "steps", 20, "image: sampling steps")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "image: sampler: "+strings.Join(diffusion.Samplers, ", "))
	f.Float32Var(&o.cfgScale, "cfg-scale", diffusion.DefaultCFGScale, "image: classifier-free guidance scale (1 = none)")
	f.IntVar(&o.width, "width", 0, "image: width in pixels (0: the model's training size)")
	f.IntVar(&o.height, "height", 0, "image: height in pixels (0: the model's training size)")
	f.StringVar(&o.negative, "negative-prompt", "", "image: negative prompt (the unconditional context of guidance)")
	f.StringVar(&o.scheme, "scheme", "", "fingerprint scheme (default by kind)")
	f.Uint32Var(&o.replicas, "replicas", 3, "executors")
	f.Uint32Var(&o.tolerance, "tolerance", 0, "Hamming tolerance in bits")
	f.StringVar(&o.rule, "rule", "majority", "majority or supermajority")
	f.Uint64Var(&o.fee, "fee", 300, "fee paid to the agreeing executors")
	f.BoolVar(&o.adaptive, "adaptive", false, "allow a second round with more executors when there is no verdict")
	f.BoolVar(&o.wait, "wait", true, "wait for the verdict")
	f.BoolVar(&o.waitCap, "wait-capacity", true, "when the network is at capacity (mempool code 21), retry until --timeout instead of failing")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up waiting after this long")
	f.StringVar(&o.format, "format", "text", "output: text or json")
	return cmd
}

func runSubmit(ctx context.Context, g *globalOptions, o submitOptions) error {
	if o.key == "" || o.model == "" || o.prompt == "" {
		return usagef("submit: --key, --model and --prompt are required")
	}
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	rule, err := quorum.ParseRule(o.rule)
	if err != nil {
		return usagef("--rule: %v", err)
	}
	if o.verify != "equal" && o.verify != "score" {
		return usagef("--verify %q: want equal or score", o.verify)
	}
	task := engine.Task{Kind: engine.Kind(o.kind), Prompt: o.prompt, Seed: o.seed}
	scheme := o.scheme
	switch task.Kind {
	case engine.KindText:
		task.Text = &engine.TextParams{Decode: o.decode, MaxTokens: o.maxTokens}
		if o.decode == "sample" {
			if !(o.temp > 0) || o.topK < 0 || !(o.topP > 0 && o.topP <= 1) {
				return usagef("submit: --decode sample wants --temperature > 0, --top-k >= 0 and 0 < --top-p <= 1")
			}
			task.Text.Temperature, task.Text.TopK, task.Text.TopP = o.temp, o.topK, o.topP
		}
		if scheme == "" {
			scheme = "text:tokens"
		}
	case engine.KindImage:
		if !slices.Contains(diffusion.Samplers, o.sampler) {
			return usagef("--sampler %q: want one of %s", o.sampler, strings.Join(diffusion.Samplers, ", "))
		}
		task.Image = &engine.ImageParams{NegativePrompt: o.negative, Sampler: o.sampler, Steps: o.steps,
			CFGScale: o.cfgScale, Width: o.width, Height: o.height}
		if scheme == "" {
			scheme = "image:average_hash/8"
		}
	case engine.KindTrain:
		data, err := train.ParseDataset(o.dataset)
		if err != nil {
			return usagef("--dataset: %v", err)
		}
		task.Train = &engine.TrainParams{Method: o.method, Steps: o.trainStep, Checkpoint: o.every, Dataset: data.Digest()}
		if scheme == "" {
			scheme = "vector:simhash/256"
		}
	default:
		return usagef("--kind %q: want text, image or train", o.kind)
	}
	sch, err := fingerprint.ParseScheme(scheme)
	if err != nil {
		return usagef("--scheme: %v", err)
	}
	key, err := readKeyFile(o.key)
	if err != nil {
		return err
	}
	cc, chainID, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	if task.Model, err = ledgerModel(ctx, cc, o.model); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c := node.NewClient(key, chainID, cc)
	c.WaitBusy = o.waitCap
	// A retry of the same submission after a timeout resends the same signed bytes.
	c.Journal = o.key + ".pending"
	c.Accepted = func(id ledger.TaskID) {
		fmt.Fprintf(g.stderr, "task %s accepted into the mempool\n", id)
	}
	id, err := c.Submit(ctx, node.Request{Task: task, Scheme: sch, Replicas: o.replicas, MaxRounds: o.adaptive,
		Tolerance: o.tolerance, Rule: rule, Fee: o.fee, ScoreCheck: o.verify == "score"})
	if err != nil {
		return err
	}
	g.logger.Info("task submitted", "task", id.String())
	if !o.wait {
		fmt.Fprintln(g.stdout, id)
		return nil
	}
	tv, err := c.Wait(ctx, id)
	if err != nil {
		return fmt.Errorf("waiting for task %s: %w", id, err)
	}
	if err := writeTask(g.stdout, o.format, tv); err != nil {
		return err
	}
	return noVerdict(tv)
}

// noVerdict is the error (exit 1) of a task that settled without a verdict, nil otherwise.
func noVerdict(tv chain.TaskView) error {
	if tv.Value != "" {
		return nil
	}
	reason := tv.Reason
	if reason == "" {
		reason = "status " + tv.Status
	}
	return fmt.Errorf("task %s: no verdict: %s", tv.ID, reason)
}

// ledgerModel finds the digest of a model name among the models registered nodes serve.
func ledgerModel(ctx context.Context, cc *chain.Client, name string) (engine.ModelRef, error) {
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

func writeTask(w io.Writer, format string, tv chain.TaskView) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(tv)
	}
	fmt.Fprintf(w, "task      %s\nstatus    %s (round %d)\nkind      %s, model %s, seed %d\nrule      %s, tolerance %d, %d replicas\n",
		tv.ID, tv.Status, tv.Round, tv.Kind, tv.Model, tv.Seed, tv.Rule, tv.Tolerance, tv.Replicas)
	if tv.Value != "" {
		fmt.Fprintf(w, "verdict   %s (support %d, need %d)\n", tv.Value, tv.Support, tv.Need)
	} else if tv.Reason != "" {
		fmt.Fprintf(w, "verdict   none: %s (support %d, need %d)\n", tv.Reason, tv.Support, tv.Need)
	}
	for _, e := range tv.Executors {
		fmt.Fprintf(w, "executor  %s  %-10s %s\n", e.Node[:16], e.Outcome, e.Fingerprint)
	}
	return nil
}

type taskOptions struct {
	rpcOptions
	format string
}

func newTaskCommand(g *globalOptions) *cobra.Command {
	var o taskOptions
	cmd := &cobra.Command{
		Use:   "task ID",
		Short: "Show a task's status and verdict",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTask(cmd.Context(), g, o, args[0])
		},
	}
	o.rpcOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.format, "format", "text", "output: text or json")
	return cmd
}

func parseTaskID(s string) (ledger.TaskID, error) {
	var id ledger.TaskID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, usagef("task ID %q: want %d hex digits", s, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

func runTask(ctx context.Context, g *globalOptions, o taskOptions, arg string) error {
	id, err := parseTaskID(arg)
	if err != nil {
		return err
	}
	cc, _, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	var tv chain.TaskView
	if err := cc.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil {
		return err
	}
	return writeTask(g.stdout, o.format, tv)
}
