package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/study"
)

func newStudySubstitutionCommand(g *globalOptions) *cobra.Command {
	var o studyFlags
	cfg := study.DefaultSubstitutionConfig("testdata/llamacpp/models")
	var seeds []uint
	var image bool
	icfg := study.DefaultImageSubstitutionConfig()
	var imageSeeds []uint
	cmd := &cobra.Command{
		Use:   "substitution --out DIR [flags]",
		Short: "Are cheap substitutes of a text model (q8_0, q4_0, another model, truncation, pre-fill) caught by the teacher-forced check?",
		Long: `substitution makes claims for greedy and seeded-sampling text tasks with the task's model on
each honest profile and with cheap substitutes (the model quantized to q8_0 and q4_0 by
genquorum's quantizer, a different model with the same vocabulary, the model truncated to
its first layer, and the pre-fill attack: a cheap model's greedy tokens claimed as the
sample), checks every claim with VerifyGreedy / VerifySample on the task's model, and writes
tables: acceptance at the default tolerances (Type I for honest claims, catch rate for
substitutes), ROC AUC of the verifier's score, acceptance against tokens checked, and
verification time over generation time. The substitute models are written to DIR/models.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if image {
				icfg.Seeds = icfg.Seeds[:0]
				for _, s := range imageSeeds {
					icfg.Seeds = append(icfg.Seeds, uint64(s))
				}
				r, err := o.open(g, "substitution-image")
				if err != nil {
					return err
				}
				return finish(g, r, study.RunImageSubstitution(cmd.Context(), r, icfg), "imgsub", "imgsub-hash")
			}
			cfg.Seeds = cfg.Seeds[:0]
			for _, s := range seeds {
				cfg.Seeds = append(cfg.Seeds, uint64(s))
			}
			if _, err := os.Stat(cfg.Reference); err != nil {
				return usagef("--reference: %v", err)
			}
			r, err := o.open(g, "substitution")
			if err != nil {
				return err
			}
			return finish(g, r, study.RunSubstitution(cmd.Context(), r, cfg), "substitution")
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.StringVar(&cfg.Reference, "reference", cfg.Reference, "the task's model (GGUF; an f16 model makes the q8_0/q4_0 substitutes meaningful)")
	f.StringVar(&cfg.Other, "other", cfg.Other, "a different model with the same vocabulary")
	f.StringSliceVar(&cfg.Profiles, "profile", cfg.Profiles, "honest executors' numeric profiles")
	f.StringVar(&cfg.Verifier, "verifier", cfg.Verifier, "the verifier's numeric profile")
	f.StringArrayVar(&cfg.Prompts, "prompt", cfg.Prompts, "prompts (repeat)")
	f.UintSliceVar(&seeds, "seed", []uint{1, 2, 3}, "seeds of the sampled tasks")
	f.IntVar(&cfg.Tokens, "tokens", cfg.Tokens, "tokens per claim")
	f.IntSliceVar(&cfg.Checked, "checked", cfg.Checked, "numbers of leading tokens checked (acceptance vs tokens checked)")
	f.BoolVar(&image, "image", false, "run the image half instead: fewer steps, another sampler, other guidance, base instead of finetuned/lora/ti, judged by the image policy and by trajectory segments")
	f.UintSliceVar(&imageSeeds, "image-seed", []uint{1, 2}, "--image: seeds of the class-prompt tasks (ti tasks: as many seeds of its <concept> prompt)")
	f.IntVar(&icfg.Segments, "segments", icfg.Segments, "--image: trajectory segments")
	return cmd
}
