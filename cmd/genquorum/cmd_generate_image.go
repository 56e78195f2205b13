package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/study"
)

type generateImageOptions struct {
	imageModelFlags
	prompts  []string
	negative string
	seeds    string
	sampler  string
	steps    int
	cfg      float32
	width    int
	height   int
	profile  string
	out      string
	outDir   string
}

func newGenerateImageCommand(g *globalOptions) *cobra.Command {
	var o generateImageOptions
	cmd := &cobra.Command{
		Use:   "image --model base --prompt TEXT --seed N --out img.png [flags]",
		Short: "Generate images with a built-in diffusion model (DDIM, Euler, Euler ancestral)",
		Long: `image runs a genquorum diffusion model (a GGUF file written by genquorum diffusion train)
and writes PNG files. --model is a file, or a name NAME for NAME.gguf in --models-dir
(base, finetuned, lora, ti). An adapter file (lora, ti) is applied to --base (default
base.gguf next to it), which must be the base it was trained on.

One prompt and one seed write --out (default img.png). Several --prompt flags and/or a
seed list (--seed 1-100 or --seed 1,5,9) write one PNG per prompt and seed into --out-dir,
named p<prompt index>-s<seed>.png, with a progress bar; each line of output is
"<sha256 of the PNG>  <path>". The same command with the same --profile writes
byte-identical PNGs on any machine and any GOMAXPROCS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenerateImage(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.StringArrayVar(&o.prompts, "prompt", nil, "prompt, e.g. \"A photo of a bag\" (repeat for a batch)")
	f.StringVar(&o.negative, "negative-prompt", "", "negative prompt (the unconditional context of guidance)")
	f.StringVar(&o.seeds, "seed", "0", "seed, or a list: 1-100, 1,5,9")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "sampler: "+strings.Join(diffusion.Samplers, ", "))
	f.IntVar(&o.steps, "steps", 20, "sampling steps")
	f.Float32Var(&o.cfg, "cfg-scale", diffusion.DefaultCFGScale, "classifier-free guidance scale (1 = none)")
	f.IntVar(&o.width, "width", 0, "width in pixels (0: the model's training size)")
	f.IntVar(&o.height, "height", 0, "height in pixels (0: the model's training size)")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile (see genquorum profiles)")
	f.StringVar(&o.out, "out", "img.png", "output PNG for one prompt and one seed")
	f.StringVar(&o.outDir, "out-dir", "", "output directory for a batch (several prompts or seeds)")
	return cmd
}

func runGenerateImage(ctx context.Context, g *globalOptions, o generateImageOptions) error {
	if len(o.prompts) == 0 {
		return usagef("--prompt is required")
	}
	seeds, err := study.ParseSeeds(o.seeds)
	if err != nil {
		return usagef("--seed: %v", err)
	}
	batch := len(o.prompts) > 1 || len(seeds) > 1
	if batch && o.outDir == "" {
		return usagef("several prompts or seeds need --out-dir")
	}
	nm, err := o.load()
	if err != nil {
		return err
	}
	eng, err := diffusion.New(nm)
	if err != nil {
		return err
	}
	ref := eng.Models()[0]
	task := func(prompt string, seed uint64) engine.Task {
		return engine.Task{Kind: engine.KindImage, Model: ref, Prompt: prompt, Seed: seed, Profile: o.profile,
			Image: &engine.ImageParams{NegativePrompt: o.negative, Sampler: o.sampler, Steps: o.steps,
				CFGScale: o.cfg, Width: o.width, Height: o.height}}
	}
	// Check every task before the first image, so that bad input fails at once.
	for _, p := range o.prompts {
		t := task(p, seeds[0])
		if err := t.Validate(); err != nil {
			return usageError{err}
		}
	}
	if !batch {
		a, err := eng.Run(ctx, task(o.prompts[0], seeds[0]))
		if err != nil {
			return imageError(err)
		}
		return writePNG(g, o.out, a.Data)
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	bar := progress.New(g.stderr, len(o.prompts)*len(seeds), "generating")
	// Images are independent, so a batch runs GOMAXPROCS of them at once (each one's bits do
	// not depend on that); lines are printed in prompt-then-seed order as they complete.
	type job struct {
		prompt, path string
		seed         uint64
		data         []byte
		done         bool
	}
	var jobs []*job
	for pi, p := range o.prompts {
		for _, s := range seeds {
			jobs = append(jobs, &job{prompt: p, seed: s, path: filepath.Join(o.outDir, fmt.Sprintf("p%d-s%d.png", pi, s))})
		}
	}
	var (
		mu   sync.Mutex
		next int
	)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for _, j := range jobs {
		eg.Go(func() error {
			a, err := eng.Run(ctx, task(j.prompt, j.seed))
			if err != nil {
				return imageError(err)
			}
			mu.Lock()
			defer mu.Unlock()
			j.data, j.done = a.Data, true
			for ; next < len(jobs) && jobs[next].done; next++ {
				if err := writePNG(g, jobs[next].path, jobs[next].data); err != nil {
					return err
				}
				jobs[next].data = nil
				_ = bar.Add(1)
			}
			return nil
		})
	}
	return eg.Wait()
}

// imageError marks errors caused by the command's parameters as usage errors.
func imageError(err error) error {
	if errorsIsAny(err, engine.ErrInvalidTask, engine.ErrUnsupported, diffusion.ErrParams) {
		return usageError{err}
	}
	return err
}

func writePNG(g *globalOptions, path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	_, err := fmt.Fprintf(g.stdout, "%x  %s\n", sha256.Sum256(data), path)
	return err
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
