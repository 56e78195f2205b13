package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/study"
	"github.com/genquorum/genquorum/tensor"
)

// newDiffusionCommand is the parent of the commands that make the built-in diffusion models.
func newDiffusionCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diffusion",
		Short: "Train and inspect the built-in Fashion-MNIST diffusion models",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newDiffusionTrainCommand(g), newDiffusionGridCommand(g), newDiffusionClassifierCommand(g),
		newDiffusionEvalCommand(g), newDiffusionVariantCommand(g), newDiffusionDriftCommand(g))
	return cmd
}

type diffusionTrainOptions struct {
	out       string
	ckpt      string
	resume    string
	data      string
	lossLog   string
	steps     int
	every     int
	tiny      bool
	modelSeed uint64
	tc        diffusion.TrainConfig
	profile   string
}

func newDiffusionTrainCommand(g *globalOptions) *cobra.Command {
	o := diffusionTrainOptions{tc: diffusion.DefaultTrainConfig()}
	cmd := &cobra.Command{
		Use:   "train --out base.gguf [flags]",
		Short: "Train the base diffusion model on Fashion-MNIST, deterministically and resumably",
		Long: `train trains the base text-conditioned U-Net on the Fashion-MNIST training set (Debian
package dataset-fashion-mnist) with the ten class prompts, and writes the EMA weights to --out.

The run is deterministic: the same flags give the same bits on any machine and any number of
cores. Every --checkpoint-every steps the full training state (weights, AdamW moments, EMA,
step, configuration) is written to --checkpoint; --resume CKPT continues an interrupted run
from there, with the configuration stored in the checkpoint, and ends with exactly the bits
of an uninterrupted run. --loss-log appends "step,loss,seconds" lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.resume != "" {
				for _, f := range []string{"batch", "micro-batch", "lr", "seed", "profile", "tiny", "model-seed"} {
					if cmd.Flags().Changed(f) {
						return usagef("--%s cannot be changed on --resume (the checkpoint holds the configuration)", f)
					}
				}
			}
			return runDiffusionTrain(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "base.gguf", "where to write the trained (EMA) weights")
	f.StringVar(&o.ckpt, "checkpoint", "", "checkpoint file (default OUT.ckpt)")
	f.StringVar(&o.resume, "resume", "", "resume from this checkpoint")
	f.StringVar(&o.data, "data", diffusion.DefaultDataDir, "directory of the Fashion-MNIST .gz files")
	f.StringVar(&o.lossLog, "loss-log", "", "append step,loss,seconds lines to this file")
	f.IntVar(&o.steps, "steps", 3000, "total training steps (on --resume, the run's new total)")
	f.IntVar(&o.every, "checkpoint-every", 100, "steps between checkpoints (0: only at the end)")
	f.BoolVar(&o.tiny, "tiny", false, "train the tiny test architecture instead of the default one")
	f.Uint64Var(&o.modelSeed, "model-seed", 1, "seed of the initial weights")
	f.IntVar(&o.tc.Batch, "batch", o.tc.Batch, "images per step")
	f.IntVar(&o.tc.Micro, "micro-batch", o.tc.Micro, "images per micro-batch (divides --batch; micro-batches run in parallel)")
	f.Float32Var(&o.tc.LR, "lr", o.tc.LR, "peak learning rate (AdamW)")
	f.Uint64Var(&o.tc.Seed, "seed", o.tc.Seed, "seed of the data order, timesteps and noise")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile (see genquorum profiles)")
	return cmd
}

func runDiffusionTrain(ctx context.Context, g *globalOptions, o diffusionTrainOptions) error {
	if o.steps <= 0 || o.every < 0 {
		return usagef("--steps %d must be positive and --checkpoint-every %d not negative", o.steps, o.every)
	}
	if o.ckpt == "" {
		o.ckpt = o.out + ".ckpt"
	}
	data, err := diffusion.LoadFashionMNIST(o.data, "train")
	if err != nil {
		return err
	}
	var tr *diffusion.Trainer
	if o.resume != "" {
		if tr, err = diffusion.ResumeTrainer(o.resume, data); err != nil {
			return err
		}
		g.logger.Info("resumed", "checkpoint", o.resume, "step", tr.Steps())
	} else {
		prof, err := tensor.ProfileByName(o.profile)
		if err != nil {
			return usageError{err}
		}
		o.tc.Profile = prof
		if err := o.tc.Validate(); err != nil {
			return usageError{err}
		}
		cfg := diffusion.DefaultConfig()
		if o.tiny {
			cfg = diffusion.TinyConfig()
		}
		m, err := diffusion.NewModel(cfg, diffusion.BaseVocab, o.modelSeed)
		if err != nil {
			return err
		}
		if tr, err = diffusion.NewTrainer(m, data, o.tc); err != nil {
			return err
		}
	}
	g.logger.Info("training", "params", tr.Model.NumParams(), "images", data.Len(), "batch", tr.Config.Batch,
		"micro_batch", tr.Config.Micro, "lr", tr.Config.LR, "seed", tr.Config.Seed, "profile", tr.Config.Profile.Name,
		"from_step", tr.Steps(), "to_step", o.steps)
	var logf *os.File
	if o.lossLog != "" {
		if logf, err = os.OpenFile(o.lossLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return err
		}
		defer logf.Close()
	}
	bar := progress.NewSteps(g.stderr, tr.Steps(), o.steps)
	start := time.Now()
	var avg float32
	progress := func(step int, loss float32) {
		if avg == 0 {
			avg = loss
		}
		avg = 0.98*avg + 0.02*loss
		bar.Describe(fmt.Sprintf("loss %.4f", avg))
		bar.Set(step)
		if logf != nil {
			fmt.Fprintf(logf, "%d,%.6f,%.1f\n", step, loss, time.Since(start).Seconds())
		}
	}
	checkpoint := func() error {
		if err := tr.SaveCheckpoint(o.ckpt); err != nil {
			return err
		}
		g.logger.Debug("checkpoint", "path", o.ckpt, "step", tr.Steps())
		return nil
	}
	err = tr.Run(ctx, o.steps, o.every, progress, checkpoint)
	if errors.Is(err, context.Canceled) {
		if cerr := checkpoint(); cerr != nil {
			return errors.Join(err, cerr)
		}
		g.logger.Info("interrupted; resume with --resume", "checkpoint", o.ckpt, "step", tr.Steps())
	}
	if err != nil {
		return err
	}
	if err := tr.Weights().Save(o.out); err != nil {
		return err
	}
	g.logger.Info("trained", "out", o.out, "steps", tr.Steps(), "seconds", time.Since(start).Seconds())
	fmt.Fprintf(g.stdout, "%s\n", o.out)
	return nil
}

type diffusionGridOptions struct {
	imageModelFlags
	prompts []string
	seeds   int
	steps   int
	sampler string
	cfg     float32
	profile string
	scale   int
	out     string
}

func newDiffusionGridCommand(g *globalOptions) *cobra.Command {
	var o diffusionGridOptions
	cmd := &cobra.Command{
		Use:   "grid --model FILE --out grid.png [flags]",
		Short: "Draw a grid of samples: one row per class prompt, one column per seed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiffusionGrid(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.StringArrayVar(&o.prompts, "prompt", nil, "rows: these prompts instead of the ten class prompts (repeatable)")
	f.IntVar(&o.seeds, "seeds", 8, "columns: seeds 1..N")
	f.IntVar(&o.steps, "steps", 20, "sampling steps")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "sampler: ddim, euler or euler_a")
	f.Float32Var(&o.cfg, "cfg-scale", diffusion.DefaultCFGScale, "classifier-free guidance scale")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile")
	f.IntVar(&o.scale, "scale", 2, "pixel magnification of the grid")
	f.StringVar(&o.out, "out", "grid.png", "output PNG")
	return cmd
}

func runDiffusionGrid(ctx context.Context, g *globalOptions, o diffusionGridOptions) error {
	if o.seeds <= 0 || o.seeds > 100 || o.scale <= 0 || o.scale > 16 {
		return usagef("--seeds %d (1 to 100) or --scale %d (1 to 16) out of range", o.seeds, o.scale)
	}
	prof, err := tensor.ProfileByName(o.profile)
	if err != nil {
		return usageError{err}
	}
	nm, err := o.load()
	if err != nil {
		return err
	}
	prompts := diffusion.ClassPrompts[:]
	if len(o.prompts) > 0 {
		prompts = o.prompts
	}
	bar := progress.New(g.stderr, len(prompts)*o.seeds, "sampling")
	rows, err := study.Samples(ctx, nm.Model, study.SampleConfig{Prompts: prompts, Seeds: o.seeds, Steps: o.steps,
		Sampler: o.sampler, CFGScale: o.cfg, Profile: prof, Progress: func() { _ = bar.Add(1) }})
	if err != nil {
		return err
	}
	f, err := os.Create(o.out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, diffusion.Grid(rows, o.scale)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
