package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
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
	return node.Dial(ctx, g.logger, o.rpc...)
}

type submitOptions struct {
	rpcOptions
	node.TaskSpec
	key     string
	model   string
	wait    bool
	waitCap bool
	timeout time.Duration
	format  string
	// toleranceSet: --tolerance was given (a model's policy overrides it, with a note).
	toleranceSet bool
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
the learned change of the fingerprint, compared as a vector:simhash/256 sketch. With --verify
segments one executor trains and the others re-execute --checks of its segments from its
checkpoints (fetched over p2p) on their own hardware; a failed segment is bisected to one step
that a referee re-executes, and the side that lied is slashed (ledger doc, "Training tasks").
With --verify trajectory (images) one executor generates and commits, with its fingerprint, the
digests of its sampling states at --segments+1 steps; the others re-run --checks segments drawn
after its reveal from its states (fetched over p2p) on their own hardware, and a majority that
fails one slashes it (ledger/trajectory.go).
The fingerprint scheme defaults to text:tokens for text, image:average_hash/8 for images and
vector:simhash/256 for training. An image model with a verification policy on the ledger (its
measured scheme and tolerance, registered at genesis: genquorum testnet registers the built-in
base model's, pHash/16 at tolerance 10) settles its tasks under the policy: without --scheme
the task takes the policy's scheme and tolerance (a --tolerance that differs is not used, and
submit says so); a task naming another --scheme is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.SpotPPM > 0 && !cmd.Flags().Changed("replicas") {
				o.Replicas = 1
			}
			o.toleranceSet = cmd.Flags().Changed("tolerance")
			return runSubmit(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.rpcOptions.addFlags(cmd)
	f.StringVar(&o.key, "key", "", "client key file (required)")
	f.StringVar(&o.Kind, "kind", "text", "task kind: text, image or train")
	f.StringVar(&o.Method, "method", "ti", "train: ti, lora or full")
	f.IntVar(&o.TrainSteps, "train-steps", 20, "train: training steps")
	f.IntVar(&o.CheckpointEvery, "checkpoint-every", 10, "train: steps between checkpoints (divides --train-steps)")
	f.StringVar(&o.Dataset, "dataset", "", "train: the dataset, as node --train-data names it (its digest goes in the task; executors must hold it)")
	f.StringVar(&o.model, "model", "", "model name (required)")
	f.StringVar(&o.Prompt, "prompt", "", "prompt (required)")
	f.Uint64Var(&o.Seed, "seed", 42, "seed")
	f.IntVar(&o.MaxTokens, "max-tokens", 30, "text: tokens to generate")
	f.StringVar(&o.Decode, "decode", "greedy", "text: greedy, beam:N or sample (the seeded sampler of engine/llm/SAMPLING.md)")
	f.Float32Var(&o.Temperature, "temperature", 1, "text, sample: temperature (> 0)")
	f.IntVar(&o.TopK, "top-k", 0, "text, sample: keep the K most likely tokens (0 = all)")
	f.Float32Var(&o.TopP, "top-p", 1, "text, sample: keep the smallest set of tokens with mass >= P (1 = all)")
	f.StringVar(&o.Verify, "verify", "equal", "text: equal (settle on identical tokens) or score (when executors' tokens differ, they check each other's with the model); train: segments (one trainer, the other replicas verify segments, disputes bisected and refereed); image: trajectory (one generator commits its sampling states' digests, the other replicas re-run drawn segments)")
	f.IntVar(&o.Checks, "checks", 0, "train, verify segments: segments each verifier re-executes (0: all); image, verify trajectory: segments every verifier re-runs (0: 1)")
	f.IntVar(&o.Segments, "segments", 0, "image, verify trajectory: sampling segments whose boundary states the generator commits (0: 4)")
	f.IntVar(&o.SegmentDim, "segment-dim", 0, "train, verify segments: numbers in a checkpoint fingerprint (0: read from the model, loaded here as node --train-model loads it)")
	f.IntVar(&o.Steps, "steps", 20, "image: sampling steps")
	f.StringVar(&o.Sampler, "sampler", diffusion.SamplerDDIM, "image: sampler: "+strings.Join(diffusion.Samplers, ", "))
	f.Float32Var(&o.CFGScale, "cfg-scale", diffusion.DefaultCFGScale, "image: classifier-free guidance scale (1 = none)")
	f.IntVar(&o.Width, "width", 0, "image: width in pixels (0: the model's training size)")
	f.IntVar(&o.Height, "height", 0, "image: height in pixels (0: the model's training size)")
	f.StringVar(&o.NegativePrompt, "negative-prompt", "", "image: negative prompt (the unconditional context of guidance)")
	f.StringVar(&o.Scheme, "scheme", "", "fingerprint scheme (default by kind)")
	f.Uint32Var(&o.Replicas, "replicas", 3, "executors")
	f.Uint32Var(&o.Tolerance, "tolerance", 0, "Hamming tolerance in bits")
	f.StringVar(&o.Rule, "rule", "majority", "majority or supermajority")
	f.Uint64Var(&o.Fee, "fee", 300, "fee paid to the agreeing executors")
	f.BoolVar(&o.Adaptive, "adaptive", false, "allow a second round with more executors when there is no verdict")
	f.Uint32Var(&o.SpotPPM, "spot-ppm", 0, "spot check: one executor (--replicas defaults to 1), verified by the chain's spot verifiers with this probability in parts per million (1..1000000), drawn after its commitment; unverified tasks settle on its reveal, status note \"unverified\"")
	f.BoolVar(&o.wait, "wait", true, "wait for the verdict")
	f.BoolVar(&o.waitCap, "wait-capacity", true, "when the network is at capacity (mempool code 21), retry until --timeout instead of failing")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up waiting after this long")
	f.StringVar(&o.format, "format", "text", "output: text or json")
	return cmd
}

func runSubmit(ctx context.Context, g *globalOptions, o submitOptions) error {
	if o.key == "" || o.model == "" || o.Prompt == "" {
		return usagef("submit: --key, --model and --prompt are required")
	}
	if !slices.Contains(node.TaskFormats, o.format) {
		return usagef("--format %q: want text or json", o.format)
	}
	if o.Verify == "segments" && o.SegmentDim == 0 {
		// The fingerprint's width is the base's: read it from the model as the nodes load it.
		nm, err := loadImageModel("", strings.TrimPrefix(o.model, "train-"), os.Getenv("GENQUORUM_MODELS"), "")
		if err != nil {
			return usagef("--verify segments: give --segment-dim, or a --model this machine can load: %v", err)
		}
		if o.SegmentDim, err = train.FingerprintDimOf(nm, o.Method); err != nil {
			return usageError{err}
		}
	}
	req, err := o.Request()
	if err != nil {
		return usageError{err}
	}
	key, err := readKeyFile(o.key)
	if err != nil {
		return err
	}
	cc, chainID, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	if req.Task.Model, err = ledgerModel(ctx, cc, o.model); err != nil {
		return err
	}
	if req.SegmentChecks == 0 && !req.ScoreCheck {
		pv, err := node.LookupPolicy(ctx, cc, req.Task.Model, req.Task.Kind)
		if err != nil {
			return err
		}
		if pv != nil && o.Scheme == "" {
			asked := req.Tolerance
			if err := req.UsePolicy(pv); err != nil {
				return err
			}
			if req.TrajectorySegments > 0 { // the verifiers check the image fingerprint exactly
				req.Tolerance = 0
			}
			note := ""
			if o.toleranceSet && asked != req.Tolerance {
				note = fmt.Sprintf(" (not --tolerance %d: the chain settles this model's tasks under its policy)", asked)
			}
			fmt.Fprintf(g.stderr, "model %s: verification policy %s at tolerance %d%s\n", o.model, req.Scheme, req.Tolerance, note)
		}
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
	id, err := c.Submit(ctx, req)
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
	if err := node.WriteTask(g.stdout, o.format, tv); err != nil {
		return err
	}
	return node.NoVerdict(tv)
}

// ledgerModel finds the digest of a model name among the models registered nodes serve.
func ledgerModel(ctx context.Context, cc *chain.Client, name string) (engine.ModelRef, error) {
	return node.LookupModel(ctx, cc, name)
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
	id, err := node.ParseTaskID(s)
	if err != nil {
		return id, usageError{err}
	}
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
		if !strings.Contains(err.Error(), "unknown task") {
			return err
		}
		// Pruned from the ledger state (or never submitted): ask the event index.
		s, serr := cc.Settlement(ctx, id)
		if serr != nil {
			return fmt.Errorf("%w (and %v)", err, serr)
		}
		tv = chain.PrunedView(id, s)
	}
	return node.WriteTask(g.stdout, o.format, tv)
}
