package study

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/tensor"
)

// SampleConfig sets up Samples: each of Prompts with seeds 1..Seeds, sampled with Steps,
// Sampler and CFGScale under Profile.
type SampleConfig struct {
	Prompts  []string
	Seeds    int
	Steps    int
	Sampler  string
	CFGScale float32
	Profile  tensor.Profile
	// Progress, if set, is called after each image (from several goroutines).
	Progress func()
}

// Samples returns rows[p][s], the image of cfg.Prompts[p] with seed s+1, sampling GOMAXPROCS
// images at once (each image's bits do not depend on that). It stops at the first error or
// when ctx ends.
func Samples(ctx context.Context, m *diffusion.Model, cfg SampleConfig) ([][]diffusion.Image, error) {
	imgs := make([]diffusion.Image, len(cfg.Prompts)*cfg.Seeds)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i := range imgs {
		eg.Go(func() error {
			img, err := m.Sample(ectx, diffusion.SampleParams{Prompt: cfg.Prompts[i/cfg.Seeds], Steps: cfg.Steps,
				Sampler: cfg.Sampler, CFGScale: cfg.CFGScale, Seed: uint64(i%cfg.Seeds + 1)}, cfg.Profile)
			imgs[i] = img
			if cfg.Progress != nil {
				cfg.Progress()
			}
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	rows := make([][]diffusion.Image, len(cfg.Prompts))
	for p := range rows {
		rows[p] = imgs[p*cfg.Seeds : (p+1)*cfg.Seeds]
	}
	return rows, nil
}

// Agreement is what ClassifierAgreement measured: per prompt p, Right[p] of Seeds images the
// classifier labelled Classes[p].
type Agreement struct {
	Prompts []string
	Classes []int
	Right   []int
	Seeds   int
}

// ClassifierAgreement samples each of cfg.Prompts with seeds 1..cfg.Seeds (as Samples does)
// and counts the images c labels classes[p], the class prompt p asks for. It panics unless
// classes has one entry per prompt.
func ClassifierAgreement(ctx context.Context, m *diffusion.Model, c *diffusion.Classifier, cfg SampleConfig, classes []int) (*Agreement, error) {
	if len(classes) != len(cfg.Prompts) {
		panic(fmt.Sprintf("study: %d classes for %d prompts", len(classes), len(cfg.Prompts)))
	}
	rows, err := Samples(ctx, m, cfg)
	if err != nil {
		return nil, err
	}
	a := &Agreement{Prompts: cfg.Prompts, Classes: classes, Right: make([]int, len(rows)), Seeds: cfg.Seeds}
	for p, imgs := range rows {
		labels, err := c.Classify(imgs)
		if err != nil {
			return nil, err
		}
		for _, l := range labels {
			if l == classes[p] {
				a.Right[p]++
			}
		}
	}
	return a, nil
}

// WriteText writes a for people: per prompt, the images labelled its class, then the total
// and its share (chance is one in diffusion.NumClasses).
func (a *Agreement) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%-26s %s\n", "prompt", "classified as the prompt's class")
	total := 0
	for p, prompt := range a.Prompts {
		total += a.Right[p]
		fmt.Fprintf(w, "%-26s %d/%d (as class %d)\n", prompt, a.Right[p], a.Seeds, a.Classes[p])
	}
	n := len(a.Prompts) * a.Seeds
	_, err := fmt.Fprintf(w, "%-26s %d/%d = %.3f (chance 0.100)\n", "all", total, n, float64(total)/float64(n))
	return err
}
