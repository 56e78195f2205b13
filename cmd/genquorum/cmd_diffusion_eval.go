package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/study"
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
	bar := progress.New(g.stderr, o.steps, "training classifier")
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
	imageModelFlags
	concept    int
	conceptSet bool // --concept-class given
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
		Long: `eval generates --seeds images for each of the ten class prompts and reports how many the
classifier labels as the prompt's class (chance: 1 in 10).

With --concept-class C it measures a textual inversion instead: it generates --seeds images
for "A photo of a <concept>" and reports how many the classifier labels C, the class of the
example images (run it on the base model too, where <concept> is an unknown word, for the
rate without the learned token).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.conceptSet = cmd.Flags().Changed("concept-class")
			return runDiffusionEval(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.IntVar(&o.concept, "concept-class", 0, "measure a textual inversion: the class of its example images (0 to 9)")
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
	nm, err := o.load()
	if err != nil {
		return err
	}
	c, err := diffusion.LoadClassifier(o.classifier)
	if err != nil {
		return err
	}
	prompts, targets := diffusion.ClassPrompts[:], []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if o.conceptSet {
		if o.concept < 0 || o.concept >= diffusion.NumClasses {
			return usagef("--concept-class %d, want 0 to 9", o.concept)
		}
		prompts, targets = []string{"A photo of a " + diffusion.ConceptToken}, []int{o.concept}
	}
	bar := progress.New(g.stderr, len(prompts)*o.seeds, "sampling")
	a, err := study.ClassifierAgreement(ctx, nm.Model, c, study.SampleConfig{Prompts: prompts, Seeds: o.seeds, Steps: o.steps,
		Sampler: o.sampler, CFGScale: o.cfg, Profile: prof, Progress: func() { _ = bar.Add(1) }}, targets)
	if err != nil {
		return err
	}
	return a.WriteText(g.stdout)
}

type diffusionDriftOptions struct {
	imageModelFlags
	seeds    int
	steps    int
	sampler  string
	cfg      float32
	profiles []string
}

func newDiffusionDriftCommand(g *globalOptions) *cobra.Command {
	var o diffusionDriftOptions
	cmd := &cobra.Command{
		Use:   "drift --model FILE [flags]",
		Short: "Measure how images drift across numeric profiles: identical PNGs and perceptual-hash distances to exact",
		Long: `drift generates the ten class prompts x --seeds seeds under the exact profile and under each
of --profiles, and reports per profile how many PNGs are byte-identical to exact's and the
distribution of Hamming distances to exact's hashes (aHash, dHash, pHash, wHash, 8x8).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiffusionDrift(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.IntVar(&o.seeds, "seeds", 10, "seeds 1..N per class prompt")
	f.IntVar(&o.steps, "steps", 20, "sampling steps")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "sampler")
	f.Float32Var(&o.cfg, "cfg-scale", diffusion.DefaultCFGScale, "classifier-free guidance scale")
	f.StringSliceVar(&o.profiles, "profiles", nil, "profiles to compare with exact (default: every other preset)")
	return cmd
}

func runDiffusionDrift(ctx context.Context, g *globalOptions, o diffusionDriftOptions) error {
	if o.seeds <= 0 || o.seeds > 10000 {
		return usagef("--seeds %d, want 1 to 10000", o.seeds)
	}
	var profs []tensor.Profile
	if len(o.profiles) == 0 {
		profs = tensor.Profiles()[1:]
	}
	for _, n := range o.profiles {
		p, err := tensor.ProfileByName(n)
		if err != nil {
			return usageError{err}
		}
		profs = append(profs, p)
	}
	nm, err := o.load()
	if err != nil {
		return err
	}
	bar := progress.New(g.stderr, diffusion.NumClasses*o.seeds*(1+len(profs)), "sampling")
	r, err := study.ProfileDrift(ctx, nm.Model, study.DriftConfig{Seeds: o.seeds, Steps: o.steps, Sampler: o.sampler,
		CFGScale: o.cfg, Profiles: profs, Progress: func() { _ = bar.Add(1) }})
	if err != nil {
		return err
	}
	return r.WriteText(g.stdout)
}
