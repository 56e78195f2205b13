package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/engine/remote"
	"github.com/genquorum/genquorum/train"
	"github.com/genquorum/genquorum/userfile"
)

// engineOptions are the flags that choose the engines a node serves.
type engineOptions struct {
	fakeModels  []string
	fakeDelay   time.Duration
	llm         []string
	imageModels []string
	imageBase   string
	modelsDir   string
	remote      []string // --engine specs (package engine/remote)
	trainModels []string // --train-model: base models served for training tasks as train-NAME
	trainData   []string // --train-data: datasets held for training tasks
	trainTol    float64  // --train-tolerance: segment verification tolerance
	trainFirst  float64  // --train-first-segment-lrs: segment 0's tolerance in learning rates
}

func (o *engineOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.llm, "llm", nil, "GGUF model files served by the built-in LLM engine (each named by its file name without .gguf)")
	cmd.Flags().StringSliceVar(&o.fakeModels, "fake-models", nil,
		"serve these model names with the deterministic test engine (for tests and benchmarks that exclude engine time)")
	cmd.Flags().DurationVar(&o.fakeDelay, "fake-delay", 0, "--fake-models: time each task takes (imitates engine time, for load tests)")
	cmd.Flags().StringArrayVar(&o.imageModels, "image-model", nil,
		"diffusion model served by the built-in image engine, resolved as generate image --model: a file, NAME.gguf in --models-dir, or built in: base, finetuned, lora, ti (repeatable)")
	cmd.Flags().StringVar(&o.imageBase, "image-base", "", "base model of an adapter (lora, ti) --image-model file (default base.gguf next to it)")
	cmd.Flags().StringArrayVar(&o.remote, "engine", nil,
		"remote engine NAME=KIND:URL[?options] with KIND llamacpp, openai, ollama, a1111, comfyui or exec and digest=HEX the model's declared digest; self-tested at start, refused if not reproducible (repeatable; README, Engines)")
	cmd.Flags().StringArrayVar(&o.trainModels, "train-model", nil,
		"diffusion base model (as --image-model) served for training tasks (kind train) under the name train-NAME (repeatable)")
	cmd.Flags().StringArrayVar(&o.trainData, "train-data", nil,
		"dataset held for training tasks: synthetic:N:SEED, fashion-mnist:CLASS:N[:SPLIT] or a folder of 28x28 PNGs (repeatable)")
	cmd.Flags().Float64Var(&o.trainTol, "train-tolerance", 0.0082,
		"training tasks with segment verification: largest fingerprint distance accepted between a re-executed checkpoint and the committed one (default: the built-in base's TI, 2 x the largest honest segment drift across profiles in study training's Figure 6; segment 0: see --train-first-segment-lrs)")
	cmd.Flags().Float64Var(&o.trainFirst, "train-first-segment-lrs", train.DefaultFirstSegmentLRs,
		"training tasks with segment verification: segment 0's tolerance is at least this many of the task's learning rates (AdamW's first step moves near-zero gradients' numbers by +-lr depending on rounding; default: the built-in base's TI at lr 0.01, 0.06 against a largest honest segment-0 distance of 0.044 across profiles; 0: --train-tolerance throughout)")
	cmd.Flags().StringVar(&o.modelsDir, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories searched for --image-model names (default $GENQUORUM_MODELS)")
}

// fakeModelRef is the model a --fake-models name stands for: its digest is the SHA-256 of
// the name, so every process derives the same one.
func fakeModelRef(name string) engine.ModelRef {
	return engine.ModelRef{Name: name, Digest: sha256.Sum256([]byte("genquorum fake model " + name))}
}

// build returns the registry of the chosen engines; remote engines are checked and
// self-tested first (remote.Start).
func (o *engineOptions) build(ctx context.Context, logger *slog.Logger) (*engine.Registry, error) {
	var r engine.Registry
	if len(o.fakeModels) > 0 {
		var refs []engine.ModelRef
		for _, n := range o.fakeModels {
			n = strings.TrimSpace(n)
			if n == "" {
				return nil, usagef("--fake-models: empty model name")
			}
			refs = append(refs, fakeModelRef(n))
		}
		var fake engine.Engine = enginetest.NewFake(refs...)
		if o.fakeDelay > 0 {
			fake = slowEngine{fake, o.fakeDelay}
		}
		if err := r.Register(fake); err != nil {
			return nil, err
		}
	}
	for _, path := range o.llm {
		if err := userfile.Check(path, 0); err != nil {
			return nil, err
		}
		e, err := llm.Open(path, llm.Options{})
		if err != nil {
			return nil, err
		}
		if err := r.Register(e); err != nil {
			return nil, err
		}
	}
	if len(o.imageModels) > 0 {
		e, err := loadImageEngine(o.imageModels, o.modelsDir, o.imageBase, discardLogger())
		if err != nil {
			return nil, err
		}
		if err := r.Register(e); err != nil {
			return nil, err
		}
	}
	if len(o.trainModels) > 0 {
		e, err := o.trainEngine()
		if err != nil {
			return nil, err
		}
		if err := r.Register(e); err != nil {
			return nil, err
		}
	}
	for _, spec := range o.remote {
		e, err := remote.Start(ctx, spec, logger)
		if err != nil {
			return nil, fmt.Errorf("--engine: %w", err)
		}
		reg := e.NodeEngine()
		if _, ok := reg.(*remote.Verifier); ok { // its server scores claims: the node votes in check rounds with it
			logger.Info("remote engine checks claimed text by teacher-forced scoring", "engine", e.Name())
		}
		if err := r.Register(reg); err != nil {
			return nil, err
		}
	}
	if len(r.Engines()) == 0 {
		return nil, usagef("no engine: give --llm FILE.gguf, --image-model NAME|FILE, --engine NAME=KIND:URL (or --fake-models for tests)")
	}
	return &r, nil
}

// trainEngine loads the --train-model bases and --train-data datasets into a training engine.
func (o *engineOptions) trainEngine() (*train.Engine, error) {
	var bases []diffusion.Named
	for _, name := range o.trainModels {
		nm, err := loadImageModel("", name, o.modelsDir, o.imageBase)
		if err != nil {
			return nil, fmt.Errorf("--train-model: %w", err)
		}
		nm.Name = "train-" + nm.Name
		bases = append(bases, nm)
	}
	var data []*train.Dataset
	for _, spec := range o.trainData {
		d, err := train.ParseDataset(spec)
		if err != nil {
			return nil, fmt.Errorf("--train-data: %w", err)
		}
		data = append(data, d)
	}
	e, err := train.NewEngine(bases, data...)
	if err != nil {
		return nil, err
	}
	if !(o.trainFirst >= 0) {
		return nil, usagef("--train-first-segment-lrs %v: want 0 or more", o.trainFirst)
	}
	e.Tolerance = o.trainTol
	e.FirstSegmentLRs = o.trainFirst
	return e, nil
}

// modelRef resolves a model name against the registry.
func modelRef(r *engine.Registry, name string) (engine.ModelRef, error) {
	for _, m := range r.Models() {
		if m.Name == name {
			return m, nil
		}
	}
	return engine.ModelRef{}, fmt.Errorf("unknown model %q", name)
}

// slowEngine delays every task of an engine (--fake-delay).
type slowEngine struct {
	engine.Engine
	delay time.Duration
}

func (e slowEngine) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(e.delay):
	}
	return e.Engine.Run(ctx, t)
}

// Kinds passes on the wrapped engine's kinds.
func (e slowEngine) Kinds() []engine.Kind { return engine.KindsOf(e.Engine) }
