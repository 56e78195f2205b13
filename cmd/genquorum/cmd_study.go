package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/progress"
	"github.com/genquorum/genquorum/study"
)

// studyFlags are the flags every study subcommand shares.
type studyFlags struct {
	out     string
	workers int
	resume  bool
}

func (sf *studyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&sf.out, "out", "", "study directory: dataset, tables, plots, report.html (required)")
	f.IntVar(&sf.workers, "workers", 0, "work items at once (0: GOMAXPROCS)")
	f.BoolVar(&sf.resume, "resume", false, "add to an existing --out directory, skipping what it already holds")
}

// open starts a run of name with a progress bar on stderr when stderr is a terminal.
func (sf *studyFlags) open(g *globalOptions, name string) (*study.Run, error) {
	if sf.out == "" {
		return nil, usagef("--out DIR is required")
	}
	return study.Open(name, study.Options{Dir: sf.out, Resume: sf.resume, Workers: sf.workers, Command: os.Args,
		Progress: progress.Factory(g.stderr)})
}

// finish prints the named tables of r's directory as Markdown when the run succeeded (err is
// nil), closes r (writing report.html) and prints where the results are.
func finish(g *globalOptions, r *study.Run, err error, tables ...string) error {
	if err == nil {
		for _, name := range tables {
			if t, terr := study.ReadTable(r.Dir, name); terr == nil {
				fmt.Fprint(g.stdout, string(t.Markdown()))
			}
		}
	}
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintf(g.stdout, "wrote %s/{tables,plots,report.html}\n", r.Dir)
	}
	return err
}

// imageStudyFlags are the grid flags of the image studies.
type imageStudyFlags struct {
	studyFlags
	hashSpecOptions
	models, profiles []string
	prompts          []string
	seeds            string
	sampler          string
	steps            int
	cfg              float32
	reuse            []string
	engines          []string
}

func (o *imageStudyFlags) register(cmd *cobra.Command, defaultSeeds string, defaultProfiles []string) {
	f := cmd.Flags()
	o.studyFlags.register(f)
	o.hashSpecOptions.addFlags(cmd)
	f.StringSliceVar(&o.models, "model", []string{"base", "finetuned", "lora", "ti"}, "built-in diffusion models")
	f.StringSliceVar(&o.profiles, "profile", defaultProfiles, "numeric profiles (simulated hardware; see genquorum profiles)")
	f.StringArrayVar(&o.prompts, "prompt", diffusion.ClassPrompts[:], "prompts (repeat)")
	f.StringVar(&o.seeds, "seed", defaultSeeds, "seeds: 1-10, 1,5,9")
	f.StringVar(&o.sampler, "sampler", diffusion.SamplerDDIM, "sampler")
	f.IntVar(&o.steps, "steps", 20, "sampling steps")
	f.Float32Var(&o.cfg, "cfg-scale", diffusion.DefaultCFGScale, "classifier-free guidance scale")
	f.StringArrayVar(&o.reuse, "reuse", nil, "study directory whose images of the same task digest (and engine version) are taken instead of generated (repeat)")
	addStudyEngineFlag(f, &o.engines)
}

// openImage is open with the --reuse index.
func (o *imageStudyFlags) openImage(g *globalOptions, name string) (*study.Run, error) {
	var ix *study.ReuseIndex
	if len(o.reuse) > 0 {
		var err error
		if ix, err = study.OpenReuse(o.reuse, diffusion.Version); err != nil {
			return nil, err
		}
	}
	r, err := o.open(g, name)
	if err != nil {
		return nil, err
	}
	r.Reuse = ix
	return r, nil
}

// addStudyEngineFlag registers --engine, the remote engines a study runs besides its models.
func addStudyEngineFlag(f *pflag.FlagSet, engines *[]string) {
	f.StringArrayVar(engines, "engine", nil, "remote engine NAME=KIND:URL[?options] as node takes it (README, Engines), run as one more "+
		"column labelled remote@HOST:PORT; digest= makes its outputs join the built-in model's groups (repeatable)")
}

// config builds the grid: the --model built-in models under --profile, and the --engine
// remote engines each under its own label.
func (o *imageStudyFlags) config(ctx context.Context) (study.ImageConfig, error) {
	specs, err := o.specs()
	if err != nil {
		return study.ImageConfig{}, err
	}
	seeds, err := study.ParseSeeds(o.seeds)
	if err != nil {
		return study.ImageConfig{}, usagef("--seed: %v", err)
	}
	models, err := study.BuiltinImageModels(o.models...)
	if err != nil {
		return study.ImageConfig{}, usageError{err}
	}
	rs, err := study.OpenRemote(ctx, engine.KindImage, o.engines...)
	if err != nil {
		return study.ImageConfig{}, err
	}
	models = append(models, study.RemoteImageModels(rs)...)
	return study.ImageConfig{Models: models, Profiles: o.profiles, Prompts: o.prompts, Seeds: seeds, Specs: specs,
		Params: engine.ImageParams{Sampler: o.sampler, Steps: o.steps, CFGScale: o.cfg}}, nil
}

func newStudyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "study",
		Short: "The paper's experiments, one command each, into one directory (dataset, tables, plots, report.html)",
		Long: `study runs the paper's experiments and writes everything into one --out directory:
artifacts/ (every PNG and text record under its SHA-256), manifest.jsonl (one line per
artifact: task, engine settings, fingerprints of every kind, timings), tables/ (TSV, JSON,
Markdown), plots/ (SVG, PNG) and report.html (one self-contained file). The dataset's digest
is the SHA-256 of manifest.jsonl. Runs are Ctrl-C safe: files are written atomically and the
manifest line by line (fsynced); --resume continues where a run stopped.`,
	}
	cmd.AddCommand(newStudyTable1Command(g), newStudyTable2Command(g), newStudyType2Command(g), newStudyOddsCommand(g),
		newStudyCheckCommand(g), newStudyReproduceCommand(g), newStudyReportCommand(g), newStudySubstitutionCommand(g), newStudyPolicyCommand(g))
	cmd.AddCommand(newStudyTrainingCommand(g))
	return cmd
}

func newStudyTable1Command(g *globalOptions) *cobra.Command {
	var o imageStudyFlags
	cmd := &cobra.Command{
		Use:   "table1 --out DIR [flags]",
		Short: "Table 1: consensus of one task's images across profiles, per model and hash kind",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			r, err := o.openImage(g, "table1")
			if err != nil {
				return err
			}
			return finish(g, r, study.RunTable1(cmd.Context(), r, cfg))
		},
	}
	o.register(cmd, "1-10", study.ProfileNames())
	return cmd
}

func newStudyType2Command(g *globalOptions) *cobra.Command {
	var o imageStudyFlags
	var maxTol int
	cmd := &cobra.Command{
		Use:   "type2 --out DIR [flags]",
		Short: "Type II: how often images of one prompt with different seeds hash within tolerance",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			r, err := o.openImage(g, "type2")
			if err != nil {
				return err
			}
			return finish(g, r, study.RunType2(cmd.Context(), r, cfg, maxTol))
		},
	}
	o.register(cmd, "1-50", []string{"exact"})
	cmd.Flags().IntVar(&maxTol, "max-tolerance", study.DefaultType2Tolerance, "largest tolerance counted")
	return cmd
}

func newStudyOddsCommand(g *globalOptions) *cobra.Command {
	var o studyFlags
	var cfg study.OddsConfig
	cmd := &cobra.Command{
		Use:   "odds --out DIR",
		Short: "Figure 3: P(correct verdict) with p measured by a table1 run in DIR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.resume = true // adds tables to an existing directory
			r, err := o.open(g, "odds")
			if err != nil {
				return err
			}
			return finish(g, r, study.RunOdds(r, cfg))
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().IntSliceVar(&cfg.Verifiers, "verifiers", []int{1, 3, 5, 7, 9}, "numbers of verifiers n")
	cmd.Flags().StringVar(&cfg.Hash, "hash", "image:average_hash/8", "fingerprint scheme of the Figure 3 plots")
	return cmd
}

func newStudyTable2Command(g *globalOptions) *cobra.Command {
	var o studyFlags
	var paths, profiles, prompts, decodings, engines []string
	cmd := &cobra.Command{
		Use:   "table2 --out DIR [flags]",
		Short: "Table 2: do text outputs agree across profiles, per model and decoding",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			decs, err := study.DecodingsByName(decodings...)
			if err != nil {
				return usageError{err}
			}
			models, err := study.LoadTextModels(paths...)
			if err != nil {
				return err
			}
			rs, err := study.OpenRemote(cmd.Context(), engine.KindText, engines...)
			if err != nil {
				return err
			}
			r, err := o.open(g, "table2")
			if err != nil {
				return err
			}
			cfg := study.TextConfig{Models: models, Profiles: profiles, Prompts: prompts, Decodings: decs, Remote: rs}
			return finish(g, r, study.RunTable2(cmd.Context(), r, cfg))
		},
	}
	f := cmd.Flags()
	o.register(f)
	f.StringSliceVar(&paths, "model", []string{"testdata/llamacpp/models/tiny-llama-a-f32.gguf",
		"testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf", "testdata/llamacpp/models/tiny-llama-a-q8_0.gguf"}, "GGUF model files")
	f.StringSliceVar(&profiles, "profile", study.ProfileNames(), "numeric profiles (simulated hardware)")
	f.StringArrayVar(&prompts, "prompt", study.DefaultTextPrompts, "prompts (repeat)")
	f.StringSliceVar(&decodings, "decoding", study.DecodingNames(), "decodings")
	addStudyEngineFlag(f, &engines)
	return cmd
}
