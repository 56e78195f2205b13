package study

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/tensor"
)

// DefaultTextPrompts are the prompts of table2 by default: ten short prompts of the llama.cpp
// reference records (testdata/llamacpp/greedy.jsonl): prose, a question, a list, code, JSON
// and three other languages.
var DefaultTextPrompts = []string{
	"Once upon a time",
	"The capital of France is",
	"Hello",
	"1, 2, 3, 4, 5,",
	"Q: What is the boiling point of water at sea level?\nA:",
	"Die Katze sitzt auf der Matte und schaut aus dem Fenster.",
	"Le petit prince demanda au renard : « Qu'est-ce que signifie apprivoiser ? »",
	"def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint(fibonacci(10))\n",
	`{"name": "Ada", "born": 1815, "languages": ["en", "fr"], "active": false}`,
	"# Shopping list\n\n- apples\n- bread\n- 2 litres of milk\n\n**Total:** about 7 EUR",
}

// Decoding is one decoding mode of table2. With SharedSeed false (sampling only), each profile
// samples with its own seed (Params.Seed + the profile's index), as machines without an
// agreed seed would: the paper's "No" row.
type Decoding struct {
	Name       string
	Params     llm.Params
	SharedSeed bool
}

// sampling is llama.cpp's default sampler (temperature 0.8, top-k 40, top-p 0.95).
func sampling(seed uint64, n int) llm.Params {
	return llm.Params{Decode: llm.DecodeSample, MaxTokens: n, Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: seed}
}

// DefaultDecodings are the paper's Table 2 decodings: greedy 30 and 60 tokens, beam search
// with 5 and 10 beams (30 tokens), seeded sampling (30 tokens, one seed shared by all
// profiles) and sampling without a shared seed.
func DefaultDecodings() []Decoding {
	return []Decoding{
		{Name: "greedy-30", Params: llm.Params{Decode: llm.DecodeGreedy, MaxTokens: 30}, SharedSeed: true},
		{Name: "greedy-60", Params: llm.Params{Decode: llm.DecodeGreedy, MaxTokens: 60}, SharedSeed: true},
		{Name: "beam5-30", Params: llm.Params{Decode: "beam:5", MaxTokens: 30}, SharedSeed: true},
		{Name: "beam10-30", Params: llm.Params{Decode: "beam:10", MaxTokens: 30}, SharedSeed: true},
		{Name: "sample-seeded-30", Params: sampling(1, 30), SharedSeed: true},
		{Name: "sample-unseeded-30", Params: sampling(1, 30), SharedSeed: false},
	}
}

// DecodingNames returns the names of DefaultDecodings.
func DecodingNames() []string {
	var out []string
	for _, d := range DefaultDecodings() {
		out = append(out, d.Name)
	}
	return out
}

// DecodingsByName returns the default decodings named, in the order given.
func DecodingsByName(names ...string) ([]Decoding, error) {
	var out []Decoding
	for _, n := range names {
		i := slices.IndexFunc(DefaultDecodings(), func(d Decoding) bool { return d.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("study: decoding %q: want one of %s", n, strings.Join(DecodingNames(), ", "))
		}
		out = append(out, DefaultDecodings()[i])
	}
	return out, nil
}

// TextModel is a text model of table2 and the file it was loaded from (recorded, so that
// reproduce can load it again).
type TextModel struct {
	Path  string
	Model *llm.Model
}

// LoadTextModels loads GGUF files.
func LoadTextModels(paths ...string) ([]TextModel, error) {
	var out []TextModel
	for _, p := range paths {
		m, err := llm.Load(p, "")
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		out = append(out, TextModel{Path: p, Model: m})
	}
	return out, nil
}

// TextConfig is the grid of table2: models x decodings x profiles x prompts.
type TextConfig struct {
	Models    []TextModel
	Profiles  []string
	Prompts   []string
	Decodings []Decoding
	// Remote text engines run every prompt and decoding they support (no beam search; sampling
	// only where the server has genquorum's sampler) as one more column labelled by the
	// engine; a remote engine serving a model under a Models model's name joins its rows.
	Remote []RemoteEngine
}

// textEngineName names the engine in table2 records.
const textEngineName = "builtin-llm"

type textItem struct {
	key    string
	model  TextModel     // a built-in model, or
	remote *RemoteEngine // a remote engine
	dec    Decoding
	prof   tensor.Profile // built-in: the profile
	prompt int
	params llm.Params
}

// ref is the model of the item.
func (it textItem) ref() engine.ModelRef {
	if it.remote != nil {
		return it.remote.Ref()
	}
	return engine.ModelRef{Name: it.model.Model.Name, Digest: it.model.Model.Digest}
}

// profile is the item's profile label.
func (it textItem) profile() string {
	if it.remote != nil {
		return it.remote.Label
	}
	return it.prof.Name
}

// task is the engine task of the item.
func (it textItem) task(prompt string) engine.Task {
	return engine.Task{Kind: engine.KindText, Model: it.ref(),
		Prompt: prompt, Seed: it.params.Seed, Profile: it.profile(),
		Text: &engine.TextParams{Decode: it.params.Decode, MaxTokens: it.params.MaxTokens,
			Temperature: it.params.Temperature, TopK: it.params.TopK, TopP: it.params.TopP}}
}

// RunTable2 runs every model, decoding, profile and prompt of cfg (skipping those already in
// the dataset), stores each output as a text record with its per-position margins, and writes
// Table 2: per model and decoding, the share of profile pairs whose outputs agree token for
// token, where the first disagreements fall and the margin (top-1 minus top-2 logit; for
// sampling, the draw's slack) of the first differing position.
func RunTable2(ctx context.Context, r *Run, cfg TextConfig) error {
	if len(cfg.Models)+len(cfg.Remote) == 0 || len(cfg.Profiles)+len(cfg.Remote) < 2 || len(cfg.Prompts) == 0 || len(cfg.Decodings) == 0 {
		return fmt.Errorf("study: table2 needs models, two profiles or engines or more, prompts and decodings")
	}
	var items []textItem
	for _, m := range cfg.Models {
		for _, d := range cfg.Decodings {
			for pi, name := range cfg.Profiles {
				prof, err := tensor.ProfileByName(name)
				if err != nil {
					return fmt.Errorf("study: %w", err)
				}
				params := d.Params
				params.TopN = 2
				if !d.SharedSeed {
					params.Seed += uint64(pi)
				}
				if err := params.Validate(); err != nil {
					return fmt.Errorf("study: %s: %w", d.Name, err)
				}
				for k := range cfg.Prompts {
					it := textItem{key: fmt.Sprintf("table2/%s/%s/%s/p%d", m.Model.Name, d.Name, name, k),
						model: m, dec: d, prof: prof, prompt: k, params: params}
					done, err := r.Dataset.Done(it.key, it.task(cfg.Prompts[k]))
					if err != nil {
						return err
					}
					if !done {
						items = append(items, it)
					}
				}
			}
		}
	}
	for ri := range cfg.Remote {
		rm := &cfg.Remote[ri]
		for _, d := range cfg.Decodings {
			if strings.HasPrefix(d.Params.Decode, "beam") {
				continue // no remote protocol offers beam search reproducibly (engine/remote)
			}
			params := d.Params
			if !d.SharedSeed {
				params.Seed += uint64(len(cfg.Profiles) + ri)
			}
			for k := range cfg.Prompts {
				it := textItem{key: fmt.Sprintf("table2/%s/%s/%s/p%d", rm.Ref().Name, d.Name, rm.Label, k),
					remote: rm, dec: d, prompt: k, params: params}
				done, err := r.Dataset.Done(it.key, it.task(cfg.Prompts[k]))
				if err != nil {
					return err
				}
				if !done {
					items = append(items, it)
				}
			}
		}
	}
	err := r.Do(ctx, "decoding", len(items), func(ctx context.Context, i int) error {
		it := items[i]
		prompt := cfg.Prompts[it.prompt]
		if it.remote != nil {
			return runRemoteText(ctx, r, it, prompt)
		}
		ids := it.model.Model.Tok.Encode(prompt, true, true)
		start := time.Now()
		res, err := it.model.Model.Generate(ctx, ids, it.params, it.prof)
		if err != nil {
			return fmt.Errorf("study: %s: %w", it.key, err)
		}
		ms := float64(time.Since(start).Nanoseconds()) / 1e6
		rec := fingerprint.TextRecord{Text: []byte(res.Text), Tokens: res.Tokens}
		data, err := rec.MarshalBinary()
		if err != nil {
			return fmt.Errorf("study: %s: %w", it.key, err)
		}
		margins, slack := make([]float64, len(res.Steps)), make([]float64, len(res.Steps))
		for j, s := range res.Steps {
			margins[j], slack[j] = float64(s.Margin), float64(s.Slack)
		}
		task := it.task(prompt)
		abs, _ := filepath.Abs(it.model.Path)
		settings := map[string]string{"engine": textEngineName, "model_path": abs, "top_n": "2",
			"decoding": it.dec.Name, "shared_seed": fmt.Sprint(it.dec.SharedSeed), "profile": it.prof.Name}
		e := Entry{Study: "table2", Key: it.key, MediaType: fingerprint.MediaTypeTextRecord,
			Task:         NewTaskRecord(task, textEngineName, settings),
			Fingerprints: map[string]string{fingerprint.TokenScheme.String(): hex.EncodeToString(rec.Fingerprint())},
			Timings:      map[string]float64{"generate": ms},
			Extra:        map[string]any{"decoding": it.dec.Name, "margins": margins, "slack": slack, "tokens": res.Tokens}}
		_, err = r.Dataset.Put(e, data, ".gqtr")
		return err
	})
	if err != nil {
		return err
	}
	return AnalyzeTable2(r.Dir, r.Dataset.Entries("table2"))
}

// textOutput is one table2 output as the analysis reads it back from the manifest.
type textOutput struct {
	tokens  []int32
	margins []float64
	slack   []float64
}

func floats(v any) []float64 {
	xs, _ := v.([]any)
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i], _ = x.(float64)
	}
	return out
}

func readTextOutput(e Entry) textOutput {
	var o textOutput
	if xs, ok := e.Extra["tokens"].([]any); ok {
		for _, x := range xs {
			f, _ := x.(float64)
			o.tokens = append(o.tokens, int32(f))
		}
	} else if ts, ok := e.Extra["tokens"].([]int32); ok {
		o.tokens = ts
	}
	switch m := e.Extra["margins"].(type) {
	case []float64:
		o.margins = m
	default:
		o.margins = floats(m)
	}
	switch s := e.Extra["slack"].(type) {
	case []float64:
		o.slack = s
	default:
		o.slack = floats(s)
	}
	return o
}

// Table2Columns are the columns of Table 2.
var Table2Columns = []string{"model", "decoding", "shared_seed", "prompts", "profile_pairs", "agree_pct",
	"all_profiles_agree_pct", "divergences", "first_div_min", "first_div_median", "margin_at_div_median", "margin_at_div_max"}

// AnalyzeTable2 writes Table 2, the per-pair table and the agreement plot from entries.
func AnalyzeTable2(dir string, entries []Entry) error {
	if len(entries) == 0 {
		return fmt.Errorf("study: table2: no outputs in the dataset")
	}
	// outs[model][decoding][prompt][profile]
	type cell = map[string]textOutput
	outs := map[string]map[string]map[string]cell{}
	var models, decodings []string
	// profilesOf[m][d]: the profiles with outputs of model m and decoding d, in first-seen order
	// (a remote engine gives no beam search, so its column is missing from those rows).
	profilesOf := map[string]map[string][]string{}
	shared := map[string]string{}
	for _, e := range entries {
		m, d, p := e.Task.Model, fmt.Sprint(e.Extra["decoding"]), e.Task.Profile
		if profilesOf[m] == nil {
			profilesOf[m] = map[string][]string{}
		}
		if !slices.Contains(profilesOf[m][d], p) {
			profilesOf[m][d] = append(profilesOf[m][d], p)
		}
		for _, s := range []struct {
			list *[]string
			v    string
		}{{&models, m}, {&decodings, d}} {
			if !slices.Contains(*s.list, s.v) {
				*s.list = append(*s.list, s.v)
			}
		}
		shared[d] = e.Task.Settings["shared_seed"]
		if outs[m] == nil {
			outs[m] = map[string]map[string]cell{}
		}
		if outs[m][d] == nil {
			outs[m][d] = map[string]cell{}
		}
		prompt := e.Task.Prompt
		if outs[m][d][prompt] == nil {
			outs[m][d][prompt] = cell{}
		}
		outs[m][d][prompt][p] = readTextOutput(e)
	}
	t := &Table{Name: "table2", Order: 20, Columns: Table2Columns,
		Title: "Table 2: do text outputs agree across numeric profiles (simulated hardware)?",
		Note: "prompts: prompts with an output under every profile; agree_pct: pairs of profiles whose outputs are identical token for token, over those prompts; " +
			"all_profiles_agree_pct: prompts on which every profile gave the same output; first_div: first differing " +
			"position; margin_at_div: top-1 minus top-2 logit of the first profile at that position (sampling: the draw's slack, a share of the mass)."}
	pt := &Table{Name: "table2-pairs", Order: 21, Columns: append([]string{"model", "profile_a", "profile_b"}, decodings...),
		Title: "Table 2 per pair of profiles: outputs identical / prompts, per decoding"}
	var series []Series
	for _, m := range models {
		ser := Series{Name: m}
		pairAgree := map[[2]string][]string{}
		for di, d := range decodings {
			profiles := profilesOf[m][d]
			// Only prompts with an output of every profile count (an interrupted run leaves
			// incomplete ones, which a resumed run completes).
			var prompts []string
			for _, pr := range slices.Sorted(maps.Keys(outs[m][d])) {
				if len(outs[m][d][pr]) == len(profiles) {
					prompts = append(prompts, pr)
				}
			}
			var pairs, agree, allAgree, divs int
			var divPos, divMargins []float64
			for _, pr := range prompts {
				c := outs[m][d][pr]
				all := true
				for a := range profiles {
					for b := a + 1; b < len(profiles); b++ {
						oa, okA := c[profiles[a]]
						ob, okB := c[profiles[b]]
						if !okA || !okB {
							continue
						}
						pairs++
						k := [2]string{profiles[a], profiles[b]}
						for len(pairAgree[k]) <= di {
							pairAgree[k] = append(pairAgree[k], "")
						}
						if slices.Equal(oa.tokens, ob.tokens) {
							agree++
							pairAgree[k][di] = addFrac(pairAgree[k][di], 1)
							continue
						}
						pairAgree[k][di] = addFrac(pairAgree[k][di], 0)
						all = false
						divs++
						div := 0
						for div < min(len(oa.tokens), len(ob.tokens)) && oa.tokens[div] == ob.tokens[div] {
							div++
						}
						divPos = append(divPos, float64(div))
						src := oa.margins
						if strings.HasPrefix(d, "sample") {
							src = oa.slack
						}
						if div < len(src) {
							divMargins = append(divMargins, src[div])
						}
					}
				}
				if all {
					allAgree++
				}
			}
			if pairs == 0 {
				continue
			}
			agreePct := 100 * float64(agree) / float64(pairs)
			ser.X = append(ser.X, float64(di))
			ser.Y = append(ser.Y, agreePct)
			row := []string{m, d, yesNo(shared[d]), itoa(len(prompts)), itoa(pairs), f2(agreePct),
				f2(100 * float64(allAgree) / float64(len(prompts))), itoa(divs)}
			if divs > 0 {
				row = append(row, itoa(int(slices.Min(divPos))), f2(median(divPos)))
			} else {
				row = append(row, "", "")
			}
			if len(divMargins) > 0 {
				row = append(row, f4(median(divMargins)), f4(slices.Max(divMargins)))
			} else {
				row = append(row, "", "")
			}
			t.Rows = append(t.Rows, row)
		}
		series = append(series, ser)
		var profiles []string // of m, every decoding
		for _, d := range decodings {
			for _, p := range profilesOf[m][d] {
				if !slices.Contains(profiles, p) {
					profiles = append(profiles, p)
				}
			}
		}
		for a := range profiles {
			for b := a + 1; b < len(profiles); b++ {
				k := [2]string{profiles[a], profiles[b]}
				if v, ok := pairAgree[k]; ok {
					for len(v) < len(decodings) {
						v = append(v, "")
					}
					pt.Rows = append(pt.Rows, append([]string{m, k[0], k[1]}, v...))
				}
			}
		}
	}
	if err := WriteTable(dir, t); err != nil {
		return err
	}
	if err := WriteTable(dir, pt); err != nil {
		return err
	}
	labels := make([]string, len(decodings))
	for i, d := range decodings {
		labels[i] = strings.Replace(d, "-", "\n", 1)
	}
	p, err := LinePlot("Table 2: agreement across profiles (simulated hardware)", "decoding",
		"pairs of profiles with identical output (%)", series, labels)
	if err != nil {
		return err
	}
	p.Y.Min = 0
	p.Legend.Left = true
	p.Legend.Top = false
	return SavePlot(dir, Figure{Name: "table2-agreement", Order: 20,
		Caption: "Share of pairs of profiles (simulated hardware) whose text outputs agree token for token, per decoding and model."}, p)
}

// addFrac adds one trial (success 1 or 0) to a "k/n" cell.
func addFrac(s string, ok int) string {
	var k, n int
	if s != "" {
		fmt.Sscanf(s, "%d/%d", &k, &n)
	}
	return fmt.Sprintf("%d/%d", k+ok, n+1)
}

func yesNo(s string) string {
	if s == "true" {
		return "yes"
	}
	return "no"
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// runRemoteText runs a table2 item on its remote engine and records the output (tokens as the
// engine reports them, margins from its log-probabilities where it gives them). A decoding
// the engine cannot honour (engine.ErrUnsupported: sampling without genquorum's sampler) is
// skipped: no record, so the engine's column is missing from that row.
func runRemoteText(ctx context.Context, r *Run, it textItem, prompt string) error {
	task := it.task(prompt)
	start := time.Now()
	a, err := it.remote.Engine.Run(ctx, task)
	if errors.Is(err, engine.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("study: %s: %w", it.key, err)
	}
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	rec := fingerprint.TextRecord{Text: a.Data, Tokens: a.Tokens}
	data, err := rec.MarshalBinary()
	if err != nil {
		return fmt.Errorf("study: %s: %w", it.key, err)
	}
	margins := make([]float64, len(a.Margins))
	for j, m := range a.Margins {
		margins[j] = float64(m)
	}
	settings := map[string]string{}
	for k, v := range a.Info {
		settings[k] = v
	}
	settings["decoding"], settings["shared_seed"] = it.dec.Name, fmt.Sprint(it.dec.SharedSeed)
	e := Entry{Study: "table2", Key: it.key, MediaType: fingerprint.MediaTypeTextRecord,
		Task:         NewTaskRecord(task, it.remote.Engine.Name(), settings),
		Fingerprints: map[string]string{fingerprint.TokenScheme.String(): hex.EncodeToString(rec.Fingerprint())},
		Timings:      map[string]float64{"generate": ms},
		Extra:        map[string]any{"decoding": it.dec.Name, "margins": margins, "slack": []float64{}, "tokens": a.Tokens}}
	_, err = r.Dataset.Put(e, data, ".gqtr")
	return err
}
