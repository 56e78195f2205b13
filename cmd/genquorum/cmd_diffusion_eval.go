package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/imghash"
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
	bar := progressbar.NewOptions(o.steps, progressbar.OptionSetWriter(barWriter(g.stderr)),
		progressbar.OptionSetDescription("training classifier"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(barWriter(g.stderr)) }))
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
	m := nm.Model
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
	bar := samplingBar(g.stderr, len(prompts)*o.seeds)
	total := 0
	fmt.Fprintf(g.stdout, "%-26s %s\n", "prompt", "classified as the prompt's class")
	for pi, prompt := range prompts {
		class := targets[pi]
		imgs, err := parallelMap(ctx, o.seeds, func(ctx context.Context, i int) (diffusion.Image, error) {
			defer bar.Add(1)
			return m.Sample(ctx, diffusion.SampleParams{Prompt: prompt, Steps: o.steps, Sampler: o.sampler,
				CFGScale: o.cfg, Seed: uint64(i + 1)}, prof)
		})
		if err != nil {
			return err
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
		fmt.Fprintf(g.stdout, "%-26s %d/%d (as class %d)\n", prompt, right, o.seeds, class)
	}
	fmt.Fprintf(g.stdout, "%-26s %d/%d = %.3f (chance 0.100)\n", "all", total, len(prompts)*o.seeds,
		float64(total)/float64(len(prompts)*o.seeds))
	return nil
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
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 8},
		{Kind: imghash.PHash, Size: 8}, {Kind: imghash.WHash, Size: 8}}
	type result struct {
		png    []byte
		hashes []imghash.Hash
	}
	gen := func(prompt string, seed uint64, prof tensor.Profile) (result, error) {
		img, err := nm.Model.Sample(ctx, diffusion.SampleParams{Prompt: prompt, Steps: o.steps, Sampler: o.sampler,
			CFGScale: o.cfg, Seed: seed}, prof)
		if err != nil {
			return result{}, err
		}
		data, err := diffusion.EncodePNG(img)
		if err != nil {
			return result{}, err
		}
		hs, err := imghash.Compute(imghash.Image{Width: img.Rect.Dx(), Height: img.Rect.Dy(), Gray: img.Pix}, specs...)
		return result{data, hs}, err
	}
	n := diffusion.NumClasses * o.seeds
	bar := samplingBar(g.stderr, n*(1+len(profs)))
	// same[p] counts identical PNGs; dist[p][k][d] counts distance d of hash kind k.
	same := make([]int, len(profs))
	dist := make([][][]int, len(profs))
	for p := range profs {
		dist[p] = make([][]int, len(specs))
		for k := range specs {
			dist[p][k] = make([]int, 65)
		}
	}
	// One job per prompt and seed: exact's image, then each profile's; jobs run in parallel.
	rows, err := parallelMap(ctx, n, func(ctx context.Context, i int) ([]result, error) {
		prompt, seed := diffusion.ClassPrompts[i/o.seeds], uint64(i%o.seeds+1)
		rs := make([]result, 1+len(profs))
		for p, prof := range append([]tensor.Profile{tensor.Exact}, profs...) {
			r, err := gen(prompt, seed, prof)
			if err != nil {
				return nil, err
			}
			rs[p] = r
			_ = bar.Add(1)
		}
		return rs, nil
	})
	if err != nil {
		return err
	}
	for _, rs := range rows {
		ref := rs[0]
		for p, r := range rs[1:] {
			if bytes.Equal(r.png, ref.png) {
				same[p]++
			}
			for k := range specs {
				d, err := r.hashes[k].Distance(ref.hashes[k])
				if err != nil {
					return err
				}
				dist[p][k][d]++
			}
		}
	}
	fmt.Fprintf(g.stdout, "%d images per profile (%s, %d steps), compared with exact\n", n, o.sampler, o.steps)
	fmt.Fprintf(g.stdout, "%-16s %-10s %-12s %s\n", "profile", "same PNG", "hash", "Hamming distance to exact: count (d=0 / 1 / 2 / 3 / >3)")
	for p, prof := range profs {
		for k, sp := range specs {
			h := dist[p][k]
			more := 0
			for _, c := range h[4:] {
				more += c
			}
			col := ""
			if k == 0 {
				col = fmt.Sprintf("%d/%d", same[p], n)
			}
			name := prof.Name
			if k > 0 {
				name = ""
			}
			fmt.Fprintf(g.stdout, "%-16s %-10s %-12s %d / %d / %d / %d / %d\n", name, col, sp.Kind, h[0], h[1], h[2], h[3], more)
		}
	}
	return nil
}
