package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/tensor"
)

type diffusionVariantOptions struct {
	method        string
	base          string
	out           string
	ckpt          string
	resume        string
	data          string
	split         string
	steps         int
	every         int
	rank          int
	alpha         float32
	conceptClass  int
	conceptImages int
	conceptInit   string
	profile       string
	tc            diffusion.TrainConfig
}

// tiLR is the default learning rate of a textual inversion: the embedding rows have unit
// scale (base's 2e-4 moved the new row too little in 500 steps to change the images).
const tiLR = 0.01

func newDiffusionVariantCommand(g *globalOptions) *cobra.Command {
	o := diffusionVariantOptions{tc: diffusion.DefaultTrainConfig()}
	o.tc.LR, o.tc.Seed, o.tc.Warmup = 2e-4, 2, 20
	cmd := &cobra.Command{
		Use:   "variant --method full|lora|ti --base base|FILE --out FILE [flags]",
		Short: "Train a variant of the base model: full fine-tune, LoRA, or textual inversion",
		Long: `variant trains one of the paper's variants of a base model, deterministically:

  full  every weight, on --split of Fashion-MNIST (default t10k: images the base never saw);
        writes a complete model file
  lora  rank --lora-rank adapters on the cross-attention projections (q, k, v, o), the base
        frozen, on the same data; writes a small adapter file pinned to the base's digest
  ti    textual inversion: one new token <concept>, initialised from --concept-init, learned
        from the first --concept-images images of class --concept-class of --split with the
        prompt "A photo of a <concept>", every other weight frozen; writes an adapter file

Checkpoints and --resume work as for train (give the same data flags on --resume).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.method == "ti" && !cmd.Flags().Changed("lr") {
				// A token embedding starts at unit scale and must travel far in few steps.
				o.tc.LR = tiLR
			}
			return runDiffusionVariant(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.method, "method", "", "full, lora or ti (required)")
	f.StringVar(&o.base, "base", "", "base model: a file, NAME for NAME.gguf in $GENQUORUM_MODELS, or built-in base or finetuned (required)")
	f.StringVar(&o.out, "out", "", "output file (required)")
	f.StringVar(&o.ckpt, "checkpoint", "", "checkpoint file (default OUT.ckpt)")
	f.StringVar(&o.resume, "resume", "", "resume from this checkpoint")
	f.StringVar(&o.data, "data", diffusion.DefaultDataDir, "directory of the Fashion-MNIST .gz files")
	f.StringVar(&o.split, "split", "t10k", "Fashion-MNIST split to train on: train or t10k")
	f.IntVar(&o.steps, "steps", 500, "total training steps")
	f.IntVar(&o.every, "checkpoint-every", 100, "steps between checkpoints (0: only at the end)")
	f.IntVar(&o.rank, "lora-rank", 4, "lora: adapter rank")
	f.Float32Var(&o.alpha, "lora-alpha", 4, "lora: adapter scale numerator (scale = alpha/rank)")
	f.IntVar(&o.conceptClass, "concept-class", 8, "ti: class of the example images (8 = bag)")
	f.IntVar(&o.conceptImages, "concept-images", 8, "ti: number of example images")
	f.StringVar(&o.conceptInit, "concept-init", "photo", "ti: vocabulary word the new token starts from")
	f.IntVar(&o.tc.Batch, "batch", o.tc.Batch, "images per step")
	f.IntVar(&o.tc.Micro, "micro-batch", o.tc.Micro, "images per micro-batch")
	f.Float32Var(&o.tc.LR, "lr", o.tc.LR, "peak learning rate (AdamW; default 0.01 for ti)")
	f.Uint64Var(&o.tc.Seed, "seed", o.tc.Seed, "seed of the data order, timesteps and noise")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile")
	return cmd
}

func runDiffusionVariant(ctx context.Context, g *globalOptions, o diffusionVariantOptions) error {
	switch {
	case o.method != "full" && o.method != "lora" && o.method != "ti":
		return usagef("--method %q: want full, lora or ti", o.method)
	case o.base == "" || o.out == "":
		return usagef("--base and --out are required")
	case o.steps <= 0 || o.every < 0:
		return usagef("--steps must be positive and --checkpoint-every not negative")
	case o.method == "ti" && (o.conceptClass < 0 || o.conceptClass >= diffusion.NumClasses || o.conceptImages <= 0 || o.conceptImages > 1000):
		return usagef("--concept-class %d (0 to 9) or --concept-images %d (1 to 1000) out of range", o.conceptClass, o.conceptImages)
	}
	if o.ckpt == "" {
		o.ckpt = o.out + ".ckpt"
	}
	if o.base == "lora" || o.base == "ti" {
		return usagef("--base %s: an adapter; give a full model (base, finetuned or a file)", o.base)
	}
	// The same names as --model elsewhere: a file, NAME.gguf in $GENQUORUM_MODELS, or built in.
	base, err := loadImageModel("base", o.base, os.Getenv("GENQUORUM_MODELS"), "")
	if err != nil {
		return err
	}
	data, err := diffusion.LoadFashionMNIST(o.data, o.split)
	if err != nil {
		return err
	}
	if o.method == "ti" {
		var idx []int
		for i, l := range data.Labels {
			if int(l) == o.conceptClass && len(idx) < o.conceptImages {
				idx = append(idx, i)
			}
		}
		data = data.Subset(idx)
		data.Prompts = &[diffusion.NumClasses]string{}
		for c := range data.Prompts {
			data.Prompts[c] = "A photo of a " + diffusion.ConceptToken
		}
	}
	var tr *diffusion.Trainer
	if o.resume != "" {
		if tr, err = diffusion.ResumeTrainer(o.resume, data); err != nil {
			return err
		}
	} else {
		if o.tc.Profile, err = tensor.ProfileByName(o.profile); err != nil {
			return usageError{err}
		}
		m := base.Model
		switch o.method {
		case "lora":
			err = m.AddLoRA(o.rank, o.alpha, m.AttentionLayers(), o.tc.Seed)
		case "ti":
			err = m.AddConcept(diffusion.ConceptToken, o.conceptInit)
		}
		if err != nil {
			return usageError{err}
		}
		if tr, err = diffusion.NewTrainer(m, data, o.tc); err != nil {
			return usageError{err}
		}
	}
	g.logger.Info("training variant", "method", o.method, "base", base.Digest.String()[:12], "images", data.Len(),
		"from_step", tr.Steps(), "to_step", o.steps)
	bar := progress.NewSteps(g.stderr, tr.Steps(), o.steps)
	bar.Describe(o.method)
	checkpoint := func() error { return tr.SaveCheckpoint(o.ckpt) }
	err = tr.Run(ctx, o.steps, o.every, func(step int, _ float32) { bar.Set(step) }, checkpoint)
	if errors.Is(err, context.Canceled) {
		err = errors.Join(err, checkpoint())
	}
	if err != nil {
		return err
	}
	w := tr.Weights()
	if o.method == "full" {
		err = w.Save(o.out)
	} else {
		err = w.SaveAdapter(o.out, base.Digest)
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s (%d bytes)\n", o.out, st.Size())
	return nil
}
