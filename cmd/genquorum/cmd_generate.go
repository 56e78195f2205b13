package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
	"github.com/genquorum/genquorum/userfile"
)

// newGenerateCommand is the parent of the generate subcommands (text; image later).
func newGenerateCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Run a generative model locally",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newGenerateTextCommand(g))
	cmd.AddCommand(newGenerateImageCommand(g))
	return cmd
}

// modelFlags are the flags that select a GGUF model and a prompt, shared by generate text and
// score.
type modelFlags struct {
	model     string
	modelsDir string
	prompt    string
	promptIDs string
	profile   string
	format    string
}

func (mf *modelFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&mf.model, "model", "", "GGUF file, or the name of a model NAME.gguf in --models-dir (required)")
	f.StringVar(&mf.modelsDir, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories (separated by "+string(os.PathListSeparator)+") searched for registered model names (default $GENQUORUM_MODELS)")
	f.StringVar(&mf.prompt, "prompt", "", "prompt text, tokenized as llama-server does (BOS added, special tokens parsed)")
	f.StringVar(&mf.promptIDs, "prompt-ids", "", "prompt as space-separated token ids (instead of --prompt)")
	f.StringVar(&mf.profile, "profile", "exact", "numeric profile (see genquorum profiles)")
	f.StringVar(&mf.format, "format", "text", "output format: text or json")
}

// resolveModelPath returns the GGUF file a --model value names: the path itself when it is a
// file, otherwise NAME.gguf in the first of dirs that has it.
func resolveModelPath(model, dirs string) (string, error) {
	if model == "" {
		return "", usagef("--model is required")
	}
	if st, err := os.Stat(model); err == nil && !st.IsDir() {
		return model, userfile.Check(model, 0)
	}
	if !strings.ContainsRune(model, filepath.Separator) {
		for _, d := range filepath.SplitList(dirs) {
			if d == "" {
				continue
			}
			p := filepath.Join(d, model+".gguf")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, userfile.Check(p, 0)
			}
		}
	}
	return "", fmt.Errorf("model %q: %w (not a file, nor NAME.gguf in the models directories %q of --models-dir or $GENQUORUM_MODELS)", model, fs.ErrNotExist, dirs)
}

// load opens the model and works out the prompt ids and the profile.
func (mf *modelFlags) load() (*llm.Model, []int32, tensor.Profile, error) {
	if (mf.prompt == "") == (mf.promptIDs == "") {
		return nil, nil, tensor.Profile{}, usagef("give exactly one of --prompt and --prompt-ids")
	}
	if mf.format != "text" && mf.format != "json" {
		return nil, nil, tensor.Profile{}, usagef("--format %q: want text or json", mf.format)
	}
	prof, err := tensor.ProfileByName(mf.profile)
	if err != nil {
		return nil, nil, tensor.Profile{}, usageError{err}
	}
	var ids []int32
	if mf.promptIDs != "" {
		if ids, err = parseIDs(mf.promptIDs); err != nil {
			return nil, nil, prof, usagef("--prompt-ids: %v", err)
		}
	}
	path, err := resolveModelPath(mf.model, mf.modelsDir)
	if err != nil {
		return nil, nil, prof, err
	}
	m, err := llm.Load(path, "")
	if err != nil {
		return nil, nil, prof, err
	}
	if ids == nil {
		ids = m.Tok.Encode(mf.prompt, true, true)
	}
	return m, ids, prof, nil
}

// parseIDs parses space-separated token ids, at least one.
func parseIDs(s string) ([]int32, error) {
	ids, err := parseIDList(s)
	if err == nil && len(ids) == 0 {
		err = errors.New("no token ids")
	}
	return ids, err
}

// parseIDList parses space-separated token ids (none for a blank s), as detokenize reads
// them and formatIDs writes them.
func parseIDList(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad token id %q", f)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

type generateTextOptions struct {
	modelFlags
	decode      string
	maxTokens   int
	temperature float32
	topK        int
	topP        float32
	seed        uint64
	topN        int
}

func newGenerateTextCommand(g *globalOptions) *cobra.Command {
	var opts generateTextOptions
	cmd := &cobra.Command{
		Use:   "text --model FILE (--prompt TEXT | --prompt-ids \"1 2 3\") [flags]",
		Short: "Generate text with a GGUF llama model (greedy, beam search or seeded sampling)",
		Long: `text runs a llama-architecture GGUF model with genquorum's deterministic engine and prints the
continuation. The prompt is tokenized as llama-server does (BOS added, special tokens parsed).

--decode greedy picks the largest logit (ties: lower id); beam:N keeps N hypotheses scored by
their summed log-probs; sample draws from softmax(logits / temperature) after top-k and
top-p, with a SplitMix64 generator seeded by --seed (the same seed reproduces the same
sample on any machine with the same profile). The same command with the same --profile gives
identical tokens and log-prob bits on any machine and any GOMAXPROCS.

--format json prints one object with the keys of llama.cpp's reference data (prompt_ids,
generated_ids, generated_text, top5 per position as [[id, logprob], ...], margin) plus
model, model_digest, profile, decode and seed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenerateText(cmd.Context(), g, opts)
		},
	}
	opts.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.decode, "decode", "greedy", "decoding: greedy, beam:N or sample")
	f.IntVar(&opts.maxTokens, "max-tokens", 30, "tokens to generate")
	f.Float32Var(&opts.temperature, "temperature", 1, "sample: temperature (<= 0 means greedy)")
	f.IntVar(&opts.topK, "top-k", 0, "sample: keep the K most likely tokens (0 = all)")
	f.Float32Var(&opts.topP, "top-p", 1, "sample: keep the smallest set of tokens with mass >= P (1 = all)")
	f.Uint64Var(&opts.seed, "seed", 0, "sample: random seed")
	f.IntVar(&opts.topN, "top-n", 5, "alternatives reported per position in json output")
	return cmd
}

// checkTopP rejects a --top-p outside [0, 1] (the servers reject it too).
func checkTopP(p float32) error {
	if !(p >= 0 && p <= 1) {
		return usagef("--top-p %v: want a probability in [0, 1]", p)
	}
	return nil
}

func runGenerateText(ctx context.Context, g *globalOptions, opts generateTextOptions) error {
	if err := checkTopP(opts.topP); err != nil {
		return err
	}
	m, ids, prof, err := opts.load()
	if err != nil {
		return err
	}
	p := llm.Params{Decode: opts.decode, MaxTokens: opts.maxTokens, Temperature: opts.temperature,
		TopK: opts.topK, TopP: opts.topP, Seed: opts.seed, TopN: opts.topN}
	if err := p.Validate(); err != nil {
		return usageError{err}
	}
	if opts.format == "text" {
		p.TopN = 0
	}
	res, err := m.Generate(ctx, ids, p, prof)
	if err != nil {
		return err
	}
	if opts.format == "text" {
		_, err = fmt.Fprintln(g.stdout, res.Text)
		return err
	}
	out := llm.NewGenerateReport(m, prof, p, res)
	enc := json.NewEncoder(g.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
