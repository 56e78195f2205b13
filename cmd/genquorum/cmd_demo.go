package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/demo"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/tensor"
	"github.com/genquorum/genquorum/userfile"
)

type demoOptions struct {
	tasks                      int
	replicas                   uint32
	rule                       string
	modelsDir                  string
	maxTokens                  int
	decode                     string
	temp                       float32
	topK                       int
	topP                       float32
	profiles                   []string
	cheaters                   []string
	inFlight                   int
	capacity                   uint32
	jsonOut                    string
	dir                        string
	adaptive                   bool
	scoreCheck                 bool
	window                     uint64
	reveal                     uint64
	minCommitSec, minRevealSec float64
	imageModel                 string
	imageAlt                   string
	images                     int
	policy                     bool
	logFile                    string
	fixedCapacity              bool
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole verification network in this process and report what it caught",
		Long: `demo starts, inside this process, a CometBFT validator running the genquorum ledger and a set
of nodes: honest ones imitating different GPU classes (--profiles) and misbehaving ones
(--cheaters: guesser, copier, lazy, wrong-model, crashed, tamperer). It submits --tasks text-generation
tasks through the built-in GGUF engine (the models in --models-dir), each redone by
--replicas randomly chosen nodes that commit, then reveal, the fingerprint of their output;
the ledger settles each task by --rule and rewards or slashes the executors.

At the end it prints a summary: tasks settled, verdicts, each cheater caught or not, honest
nodes penalised (profile drift can flip a greedy token where the top two are nearly tied:
rare, and what the odds account for), throughput and latency. --json FILE writes it as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.tasks, "tasks", 30, "tasks to submit")
	f.Uint32Var(&o.replicas, "replicas", 3, "executors per task")
	f.StringVar(&o.rule, "rule", "majority", "majority or supermajority")
	f.StringVar(&o.modelsDir, "models-dir", "", "directory of GGUF models served by every node (default $"+models.LLMDirEnv+
		", else the clone's testdata/llamacpp/models, found from any directory by a binary built from the clone)")
	f.IntVar(&o.maxTokens, "max-tokens", 30, "tokens per text task")
	f.StringVar(&o.decode, "decode", "greedy", "decoding of the text tasks: greedy, beam:N or sample")
	f.Float32Var(&o.temp, "temperature", 0.8, "sample: temperature")
	f.IntVar(&o.topK, "top-k", 40, "sample: keep the K most likely tokens (0 = all)")
	f.Float32Var(&o.topP, "top-p", 0.95, "sample: nucleus mass (1 = all)")
	f.StringSliceVar(&o.profiles, "profiles", []string{"exact", "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16"}, "one honest node per profile")
	f.StringSliceVar(&o.cheaters, "cheaters", []string{"guesser", "copier", "lazy", "wrong-model", "crashed", "tamperer"}, "one misbehaving node per behaviour")
	f.IntVar(&o.inFlight, "in-flight", 16, "tasks submitted and not yet settled at once")
	f.Uint32Var(&o.capacity, "capacity", 0, "most open assignments each node declares (0: the node's default, 32 per worker; a node declares fewer while its runs are too slow to commit that many within the commit window's time floor, unless --fixed-capacity); a submission beyond the network's capacity waits")
	f.BoolVar(&o.fixedCapacity, "fixed-capacity", false, "nodes keep declaring --capacity instead of lowering it when their runs are too slow to commit that many within the commit window's time floor")
	f.StringVar(&o.jsonOut, "json", "", "also write the summary as JSON to this file")
	f.StringVar(&o.imageModel, "image-model", "base",
		"diffusion model for the image tasks: built-in base, finetuned, lora, ti, or a file (\"\" for text tasks only)")
	f.StringVar(&o.imageAlt, "image-alt", "finetuned",
		"a second diffusion model every node serves, which the wrong-model cheater substitutes on image tasks (\"\" for none)")
	f.BoolVar(&o.policy, "image-policy", true, "register the built-in image model's measured verification policy (pHash/16 at tolerance 10 for base) and settle image tasks under it; false, or a model without one: aHash/8 at tolerance 2")
	f.IntVar(&o.images, "image-share", 3, "one task in N is an image task (when an image model is given)")
	f.BoolVar(&o.scoreCheck, "score-check", true, "text tasks: when executors' tokens differ, they check each other's with the model (score-based verdicts) instead of settling on equality")
	f.BoolVar(&o.adaptive, "adaptive", true, "give a task without a verdict a second round with max(2n-1, n+1) executors (if enough nodes)")
	f.Uint64Var(&o.window, "window", 300, "commit window in blocks (executors run the task within it)")
	f.Uint64Var(&o.reveal, "reveal-window", 50, "reveal window in blocks (a task whose executors all reveal settles at once)")
	f.Float64Var(&o.minCommitSec, "min-commit-seconds", 30, "least block time a commit window stays open, however fast blocks come (an idle machine makes about 20 blocks a second)")
	f.Float64Var(&o.minRevealSec, "min-reveal-seconds", 10, "least block time a reveal window stays open")
	f.StringVar(&o.dir, "dir", "", "keep the network's files here (default: a temporary directory, removed)")
	f.StringVar(&o.logFile, "log-file", "", "write the network's log (validator and nodes, info and above, JSON lines) to this file: each node logs, per assignment, where the time to its commitment went (\"commitment included\", \"assignment ended without this node's commitment\")")
	return cmd
}

func runDemo(ctx context.Context, g *globalOptions, o demoOptions) error {
	rule, err := quorum.ParseRule(o.rule)
	if err != nil {
		return usagef("--rule: %v", err)
	}
	if o.tasks < 1 || o.replicas < 1 || o.maxTokens < 1 {
		return usagef("demo: --tasks, --replicas and --max-tokens must be positive")
	}
	if o.inFlight < 1 {
		return usagef("--in-flight %d: want at least 1", o.inFlight)
	}
	if o.minCommitSec < 0 || o.minRevealSec < 0 {
		return usagef("--min-commit-seconds %g, --min-reveal-seconds %g: want 0 or more", o.minCommitSec, o.minRevealSec)
	}
	if len(o.profiles) == 0 {
		return usagef("--profiles: at least one honest node's profile is needed")
	}
	for _, p := range o.profiles {
		if err := checkProfile("--profiles", p); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		if err := userfile.CheckWritable(o.jsonOut); err != nil {
			return usagef("--json: %v", err)
		}
	}
	if o.logFile != "" {
		if err := userfile.CheckWritable(o.logFile); err != nil {
			return usagef("--log-file: %v", err)
		}
	}
	if int(o.replicas) > len(o.profiles)+len(o.cheaters) {
		return usagef("demo: %d replicas but only %d nodes", o.replicas, len(o.profiles)+len(o.cheaters))
	}
	var nodes []devnet.NodeSpec
	for _, p := range o.profiles {
		nodes = append(nodes, devnet.NodeSpec{Profile: p, Class: "gpu-like", Behaviour: node.Honest})
	}
	for i, c := range o.cheaters {
		b, err := node.ParseBehaviour(c)
		if err != nil {
			return usagef("--cheaters: %v", err)
		}
		nodes = append(nodes, devnet.NodeSpec{Profile: o.profiles[i%len(o.profiles)], Class: "cheater", Behaviour: b})
	}
	reg, llms, err := demo.OpenTextModels(o.modelsDir)
	if err != nil {
		return err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "genquorum-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	tp := &engine.TextParams{Decode: o.decode, MaxTokens: o.maxTokens}
	if o.decode == "sample" {
		tp.Temperature, tp.TopK, tp.TopP = o.temp, o.topK, o.topP
	}
	textWork := demo.TextWorkloads(llms, tp, o.scoreCheck)
	workloads := textWork
	var policies []ledger.Policy
	if o.imageModel != "" {
		if o.images < 1 {
			return usagef("--image-share %d: want at least 1", o.images)
		}
		nm, err := loadImageModel("", o.imageModel, "", "")
		if err != nil {
			return fmt.Errorf("demo: image model: %w", err)
		}
		served := []diffusion.Named{nm}
		if o.imageAlt != "" {
			alt, err := loadImageModel("", o.imageAlt, "", "")
			if err != nil {
				return fmt.Errorf("demo: --image-alt: %w", err)
			}
			served = append(served, alt)
		}
		img, err := diffusion.New(served...)
		if err != nil {
			return fmt.Errorf("demo: image model: %w", err)
		}
		if err := reg.Register(img); err != nil {
			return err
		}
		if o.policy {
			if policies, err = builtinPolicies(); err != nil {
				return err
			}
		}
		imageWork, found, err := demo.ImageWorkload(img.Models()[0], policies)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if o.policy && !found {
			fmt.Fprintf(g.stderr, "genquorum demo: image model %s has no measured policy: image tasks use %s at tolerance %d\n",
				imageWork.Model.Name, imageWork.Scheme, imageWork.Tolerance)
		}
		workloads = demo.Mix(imageWork, textWork, o.images)
	}
	params := ledger.DefaultParams()
	params.CommitWindow, params.RevealWindow = o.window, o.reveal
	params.MinCommitMillis, params.MinRevealMillis = uint64(o.minCommitSec*1000), uint64(o.minRevealSec*1000)
	if err := params.Validate(); err != nil {
		return usagef("--window, --reveal-window: %v", err)
	}
	// The network's own logs are noise next to the summary unless asked for.
	netLogger := g.logger
	if g.logLevel == "info" {
		netLogger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelError + 4}))
	}
	if o.logFile != "" {
		lf, err := os.Create(o.logFile)
		if err != nil {
			return fmt.Errorf("demo: --log-file: %w", err)
		}
		defer lf.Close()
		netLogger = slog.New(slog.NewJSONHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	fmt.Fprintf(g.stderr, "genquorum demo: 1 validator, %d nodes (%d honest, %d misbehaving), %d tasks on %d models, %d replicas, %s\n",
		len(nodes), len(o.profiles), len(o.cheaters), o.tasks, len(reg.Models()), o.replicas, rule)
	bar := progress.New(g.stderr, o.tasks, "settling")
	s, err := demo.Run(ctx, demo.Options{
		Dir: dir, Engines: reg, Nodes: nodes, Workloads: workloads, Tasks: o.tasks, Replicas: o.replicas,
		Rule: rule, InFlight: o.inFlight, Capacity: o.capacity, FixedCapacity: o.fixedCapacity, Params: params, Logger: netLogger, Adaptive: o.adaptive, Policies: policies,
		Progress: func(done, _ int) { _ = bar.Set(done) },
	})
	if err != nil {
		return err
	}
	demo.WriteSummary(g.stdout, s)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// checkProfile returns a usage error naming the known profiles unless name is one.
func checkProfile(flag, name string) error {
	if _, err := tensor.ProfileByName(name); err != nil {
		var names []string
		for _, p := range tensor.Profiles() {
			names = append(names, p.Name)
		}
		return usagef("%s %q: unknown profile (known: %s)", flag, name, strings.Join(names, ", "))
	}
	return nil
}
