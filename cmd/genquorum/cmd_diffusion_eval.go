package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
)

type diffusionClassifierOptions struct {
	out   string
	data  string
	steps int
	batch int
	lr    float32
	seed  uint64
}

func newDiffusionClassifierCommand(g *globalOptions) *cobra.Command {
	var o diffusionClassifierOptions
	cmd := &cobra.Command{
		Use:   "classifier --out classifier.gguf [flags]",
		Short: "Train the Fashion-MNIST classifier that judges generated images, and report its test accuracy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiffusionClassifier(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "classifier.gguf", "where to write the classifier")
	f.StringVar(&o.data, "data", diffusion.DefaultDataDir, "directory of the Fashion-MNIST .gz files")
	f.IntVar(&o.steps, "steps", 3000, "training steps")
	f.IntVar(&o.batch, "batch", 64, "images per step")
	f.Float32Var(&o.lr, "lr", 2e-3, "learning rate (AdamW)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the initial weights and the data order")
	return cmd
}

func runDiffusionClassifier(ctx context.Context, g *globalOptions, o diffusionClassifierOptions) error {
	if o.steps <= 0 || o.batch <= 0 || o.batch > 4096 || !(o.lr > 0) {
		return usagef("--steps %d, --batch %d and --lr %g must be positive (batch at most 4096)", o.steps, o.batch, o.lr)
	}
	train, err := diffusion.LoadFashionMNIST(o.data, "train")
	if err != nil {
		return err
	}
	test, err := diffusion.LoadFashionMNIST(o.data, "t10k")
	if err != nil {
		return err
	}
	c := diffusion.NewClassifier(o.seed)
	bar := progressbar.NewOptions(o.steps, progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("training classifier"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(g.stderr) }))
	start := time.Now()
	if err := c.Train(ctx, train, o.steps, o.batch, o.lr, o.seed, func(step int, _ float32) { _ = bar.Set(step) }); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	acc, err := c.Accuracy(ctx, test)
	if err != nil {
		return err
	}
	if err := c.Save(o.out); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: test accuracy %.4f (%d test images), %d steps of %d in %.0f s\n", o.out, acc, test.Len(), o.steps, o.batch, secs)
	return nil
}

type diffusionEvalOptions struct {
	model      string
	dirs       string
	classifier string
	seeds      int
	steps      int
	sampler    string
	cfg        float32
	profile    string
}

func newDiffusionEvalCommand(g *globalOptions) *cobra.Command {
	var o diffusionEvalOptions
	cmd := &cobra.Command{
		Use:   "eval --model FILE --classifier classifier.gguf [flags]",
		Short: "Generate images for each class prompt and report how often the classifier agrees",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiffusionEval(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model file, or NAME for NAME.gguf in --models-dir (required)")
	f.StringVar(&o.dirs, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories searched for model names (default $GENQUORUM_MODELS)")
	f.StringVar(&o.classifier, "classifier", "classifier.gguf", "classifier written by genquorum diffusion classifier")
	f.IntVar(&o.seeds, "seeds", 10, "images per class (seeds 1..N)")
	f.IntVar(&o.steps, "steps", 20, "sampling steps")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "sampler")
	f.Float32Var(&o.cfg, "cfg-scale", diffusion.DefaultCFGScale, "classifier-free guidance scale")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile")
	return cmd
}

func runDiffusionEval(ctx context.Context, g *globalOptions, o diffusionEvalOptions) error {
	if o.seeds <= 0 || o.seeds > 10000 {
		return usagef("--seeds %d, want 1 to 10000", o.seeds)
	}
	prof, err := tensor.ProfileByName(o.profile)
	if err != nil {
		return usageError{err}
	}
	path, err := resolveModelPath(o.model, o.dirs)
	if err != nil {
		return err
	}
	m, err := diffusion.Load(path)
	if err != nil {
		return err
	}
	c, err := diffusion.LoadClassifier(o.classifier)
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions(diffusion.NumClasses*o.seeds, progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("sampling"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(g.stderr) }))
	total := 0
	fmt.Fprintf(g.stdout, "%-26s %s\n", "prompt", "classified as the prompt's class")
	for class, prompt := range diffusion.ClassPrompts {
		var imgs []diffusion.Image
		for s := 1; s <= o.seeds; s++ {
			img, err := m.Sample(ctx, diffusion.SampleParams{Prompt: prompt, Steps: o.steps, Sampler: o.sampler,
				CFGScale: o.cfg, Seed: uint64(s)}, prof)
			if err != nil {
				return err
			}
			imgs = append(imgs, img)
			_ = bar.Add(1)
		}
		labels, err := c.Classify(imgs)
		if err != nil {
			return err
		}
		right := 0
		for _, l := range labels {
			if l == class {
				right++
			}
		}
		total += right
		fmt.Fprintf(g.stdout, "%-26s %d/%d\n", prompt, right, o.seeds)
	}
	fmt.Fprintf(g.stdout, "%-26s %d/%d = %.3f (chance 0.100)\n", "all", total, diffusion.NumClasses*o.seeds,
		float64(total)/float64(diffusion.NumClasses*o.seeds))
	return nil
}
