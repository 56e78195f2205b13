package main

import (
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/study"
	"github.com/genquorum/genquorum/train"
)

func newStudyTrainingCommand(g *globalOptions) *cobra.Command {
	var o studyFlags
	cfg := study.DefaultTrainingConfig()
	var data, split string
	var class, images int
	var switched []string
	var lr float64
	var costOnly bool
	cmd := &cobra.Command{
		Use:   "training --out DIR [flags]",
		Short: "Figures 5 and 6: textual-inversion trajectories (PCA) and gossip-synchronised verifiers",
		Long: `training reproduces the paper's training figures on the built-in base model with a textual
inversion of --images Fashion-MNIST images of --class (default: 8 bags of t10k):

  figure5  six runs: deterministic on each --det-profile, and on the first of them with one
           source switched on each (--switch); checkpoints every --every steps on their first
           two principal components
  figure6  the first deterministic run as trainer; full replays on each --verifier profile with
           gossip every --gossip checkpoints and without: distance per checkpoint

plus training-segments (segment re-execution distances, which calibrate the tolerance) and
training-cost (one segment's re-execution against the whole run, measured one after the
other on the trainer's profile; --cost-only re-measures just that).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.LR = float32(lr)
			cfg.Switched = nil
			for _, s := range switched {
				src, err := train.ParseSource(s)
				if err != nil {
					return usageError{err}
				}
				cfg.Switched = append(cfg.Switched, src)
			}
			base, err := models.Diffusion("base")
			if err != nil {
				return err
			}
			cfg.Base = base
			if cfg.Data, err = train.FashionMNISTClass(data, split, class, images); err != nil {
				return err
			}
			if costOnly {
				o.resume = true
			}
			r, err := o.open(g, "training")
			if err != nil {
				return err
			}
			if costOnly {
				return finish(g, r, study.RunTrainingCost(cmd.Context(), r, cfg))
			}
			return finish(g, r, study.RunTraining(cmd.Context(), r, cfg))
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.StringVar(&data, "data", diffusion.DefaultDataDir, "directory of the Fashion-MNIST .gz files")
	f.StringVar(&split, "split", "t10k", "Fashion-MNIST split")
	f.IntVar(&class, "class", 8, "class of the concept's images (8 = bag)")
	f.IntVar(&images, "images", 8, "number of the concept's images")
	f.IntVar(&cfg.Steps, "steps", cfg.Steps, "steps of each run")
	f.IntVar(&cfg.Every, "every", cfg.Every, "K: steps between checkpoints")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "images per step")
	f.Float64Var(&lr, "lr", float64(cfg.LR), "learning rate")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "task seed")
	f.StringSliceVar(&cfg.DetProfiles, "det-profile", cfg.DetProfiles, "profiles of the deterministic runs (the first is the trainer's)")
	f.StringSliceVar(&switched, "switch", []string{"flip", "shuffle", "sched-noise"}, "sources switched on, one per run: flip, template, shuffle, sample-noise, timestep, sched-noise, prompt-drop")
	f.StringSliceVar(&cfg.Verifiers, "verifier", cfg.Verifiers, "verifier profiles of figure 6")
	f.BoolVar(&costOnly, "cost-only", false, "only (re)measure the training-cost table, in an existing --out directory")
	f.IntVar(&cfg.Gossip, "gossip", cfg.Gossip, "M: checkpoints between gossip syncs")
	return cmd
}
