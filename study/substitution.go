package study

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// SubstitutionConfig is the text part of the substitution study: a reference model, the
// cheap substitutes a cheater could run instead, and the honest runs of the reference model
// on other numeric profiles, all checked by a verifier running the reference model.
type SubstitutionConfig struct {
	// Reference is the GGUF file tasks name (an f16 model makes the q8_0/q4_0 substitutes
	// meaningful).
	Reference string
	// Other is a different model with the same vocabulary (the "wrong model" substitute).
	Other string
	// Profiles are the honest executors' profiles; the verifier runs Verifier.
	Profiles []string
	Verifier string
	Prompts  []string
	Seeds    []uint64 // sampled tasks: one task per prompt and seed
	Tokens   int      // tokens per claim
	// Checked are the numbers of leading tokens the verifier checks (acceptance vs tokens checked).
	Checked []int
}

// DefaultSubstitutionConfig is the study's default grid on the repository's test models.
func DefaultSubstitutionConfig(modelsDir string) SubstitutionConfig {
	return SubstitutionConfig{
		Reference: filepath.Join(modelsDir, "tiny-llama-b-gqa-f16.gguf"),
		Other:     filepath.Join(modelsDir, "tiny-llama-a-f32.gguf"),
		Profiles:  []string{"exact", "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16"},
		Verifier:  "exact",
		Prompts:   DefaultTextPrompts,
		Seeds:     []uint64{1, 2, 3},
		Tokens:    30,
		Checked:   []int{1, 2, 4, 8, 16, 30},
	}
}

// substitute is one way of producing a claim.
type substitute struct {
	name   string
	honest bool
	model  *llm.Model
	prof   tensor.Profile
	// prefill: the claim is the greedy output of model, claimed as the sampled answer (the
	// pre-fill attack: generate cheaply, then claim the tokens whatever the seed).
	prefill bool
}

type subClaim struct {
	sub     string
	honest  bool
	decode  string
	prompt  int
	seed    uint64
	need    float64
	reject  int // first rejected position at the default tolerance, -1 if none
	genMs   float64
	checkMs float64
}

// RunSubstitution runs the text substitution study: for greedy (tolerance llm.DefaultGreedyTol)
// and seeded sampling (temperature 0.8, top-k 40, top-p 0.95; tolerance llm.DefaultSampleTol)
// tasks, every substitute makes a claim, which the verifier checks with VerifyGreedy or
// VerifySample on the reference model. The substitutes are: the reference quantized to q8_0 and
// q4_0 (gguf.QuantizeFile, written to models/ in the study directory), a different model with
// the same vocabulary, the reference truncated to its first layer, and the pre-fill attack
// (sampled tasks: a claim made of a cheap model's greedy tokens). Honest claims are the
// reference model's own outputs on each profile. It writes tables substitution (catch rate at the
// default tolerance, Type I of honest claims, ROC AUC of the verifier's Need against the honest
// claims, verification cost relative to generation) and substitution-checked (acceptance rate
// against the number of tokens checked).
func RunSubstitution(ctx context.Context, r *Run, cfg SubstitutionConfig) error {
	if cfg.Tokens <= 0 || len(cfg.Prompts) == 0 || len(cfg.Profiles) == 0 {
		return fmt.Errorf("study: substitution needs prompts, profiles and tokens")
	}
	ref, err := llm.Load(cfg.Reference, "")
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	other, err := llm.Load(cfg.Other, "")
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	if ref.Config.Vocab != other.Config.Vocab {
		return fmt.Errorf("study: %s and %s have different vocabularies", cfg.Reference, cfg.Other)
	}
	dir := filepath.Join(r.Dir, "models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	q8, err := writeVariant(cfg.Reference, filepath.Join(dir, "reference-q8_0.gguf"), func(f *gguf.File, w *bytes.Buffer) error {
		_, err := gguf.QuantizeFile(w, f, gguf.TypeQ8_0, gguf.QuantizeOptions{})
		return err
	})
	if err != nil {
		return err
	}
	q4, err := writeVariant(cfg.Reference, filepath.Join(dir, "reference-q4_0.gguf"), func(f *gguf.File, w *bytes.Buffer) error {
		_, err := gguf.QuantizeFile(w, f, gguf.TypeQ4_0, gguf.QuantizeOptions{})
		return err
	})
	if err != nil {
		return err
	}
	trunc, err := writeVariant(cfg.Reference, filepath.Join(dir, "reference-1-layer.gguf"), truncateLayers(1))
	if err != nil {
		return err
	}
	vprof, err := tensor.ProfileByName(cfg.Verifier)
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	var subs []substitute
	for _, name := range cfg.Profiles {
		p, err := tensor.ProfileByName(name)
		if err != nil {
			return fmt.Errorf("study: %w", err)
		}
		subs = append(subs, substitute{name: "honest/" + name, honest: true, model: ref, prof: p})
	}
	subs = append(subs,
		substitute{name: "q8_0", model: q8, prof: vprof},
		substitute{name: "q4_0", model: q4, prof: vprof},
		substitute{name: "other-model", model: other, prof: vprof},
		substitute{name: "truncated-1-layer", model: trunc, prof: vprof},
		substitute{name: "prefill-q4_0", model: q4, prof: vprof, prefill: true},
		substitute{name: "prefill-other-model", model: other, prof: vprof, prefill: true})

	type item struct {
		sub    substitute
		decode string
		prompt int
		seed   uint64
	}
	var items []item
	for _, s := range subs {
		for pi := range cfg.Prompts {
			if !s.prefill {
				items = append(items, item{s, llm.DecodeGreedy, pi, 0})
			}
			for _, seed := range cfg.Seeds {
				items = append(items, item{s, llm.DecodeSample, pi, seed})
			}
		}
	}
	claims := make([]subClaim, len(items))
	var mu sync.Mutex
	err = r.Do(ctx, "substitution", len(items), func(ctx context.Context, i int) error {
		it := items[i]
		prompt := ref.Tok.Encode(cfg.Prompts[it.prompt], true, true)
		p := llm.Params{Decode: it.decode, MaxTokens: cfg.Tokens, IgnoreEOG: true}
		if it.decode == llm.DecodeSample {
			p = llm.Params{Decode: llm.DecodeSample, MaxTokens: cfg.Tokens, Temperature: 0.8, TopK: 40, TopP: 0.95,
				Seed: it.seed, IgnoreEOG: true}
		}
		gp := p
		if it.sub.prefill {
			gp = llm.Params{Decode: llm.DecodeGreedy, MaxTokens: cfg.Tokens, IgnoreEOG: true}
		}
		t0 := time.Now()
		res, err := it.sub.model.Generate(ctx, prompt, gp, it.sub.prof)
		if err != nil {
			return fmt.Errorf("study: %s: %w", it.sub.name, err)
		}
		genMs := msSince(t0)
		t0 = time.Now()
		var v *llm.Verdict
		if it.decode == llm.DecodeGreedy {
			v, err = ref.VerifyGreedy(ctx, prompt, res.Tokens, vprof, llm.DefaultGreedyTol)
		} else {
			v, err = ref.VerifySample(ctx, prompt, res.Tokens, p, vprof, llm.DefaultSampleTol)
		}
		if err != nil {
			return fmt.Errorf("study: verify %s: %w", it.sub.name, err)
		}
		c := subClaim{sub: it.sub.name, honest: it.sub.honest, decode: it.decode, prompt: it.prompt, seed: it.seed,
			need: v.Need, reject: v.FirstReject, genMs: genMs, checkMs: msSince(t0)}
		mu.Lock()
		claims[i] = c
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	return writeSubstitutionTables(r.Dir, cfg, claims)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// writeVariant writes the variant of the GGUF file src that make produces to dst and loads it.
func writeVariant(src, dst string, make func(*gguf.File, *bytes.Buffer) error) (*llm.Model, error) {
	f, err := gguf.Open(src)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := make(f, &buf); err != nil {
		return nil, fmt.Errorf("study: %s: %w", dst, err)
	}
	if err := WriteFileAtomic(dst, buf.Bytes()); err != nil {
		return nil, err
	}
	m, err := llm.Load(dst, "")
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	return m, nil
}

// truncateLayers returns a variant maker that keeps the first n transformer blocks (a cheaper
// model of the same vocabulary: layer skipping).
func truncateLayers(n int) func(*gguf.File, *bytes.Buffer) error {
	return func(f *gguf.File, w *bytes.Buffer) error {
		var kvs []gguf.KV
		for _, kv := range f.KV {
			if strings.HasSuffix(kv.Key, ".block_count") {
				switch kv.Value.(type) {
				case uint32:
					kv.Value = uint32(n)
				case uint64:
					kv.Value = uint64(n)
				case int32:
					kv.Value = int32(n)
				default:
					return fmt.Errorf("%s of type %T", kv.Key, kv.Value)
				}
			}
			kvs = append(kvs, kv)
		}
		var ts []gguf.WriterTensor
		for _, ti := range f.Tensors {
			var layer int
			if _, err := fmt.Sscanf(ti.Name, "blk.%d.", &layer); err == nil && layer >= n {
				continue
			}
			data, err := f.TensorData(ti.Name)
			if err != nil {
				return err
			}
			ts = append(ts, gguf.WriterTensor{Name: ti.Name, Shape: ti.Shape, Type: ti.Type, Data: data})
		}
		return gguf.Write(w, kvs, ts)
	}
}

// rocAUC is the probability that a substitute's Need exceeds an honest claim's (ties count
// half): 1 means the verifier's score separates them perfectly.
func rocAUC(honest, sub []float64) float64 {
	if len(honest) == 0 || len(sub) == 0 {
		return math.NaN()
	}
	h := slices.Clone(honest)
	sort.Float64s(h)
	var s float64
	for _, x := range sub {
		lo := sort.SearchFloat64s(h, x)                                 // honest < x
		hi := sort.Search(len(h), func(i int) bool { return h[i] > x }) // honest <= x
		s += float64(lo) + 0.5*float64(hi-lo)
	}
	return s / float64(len(h)*len(sub))
}

func writeSubstitutionTables(dir string, cfg SubstitutionConfig, claims []subClaim) error {
	var names []string
	for _, c := range claims {
		if !slices.Contains(names, c.sub) {
			names = append(names, c.sub)
		}
	}
	t := &Table{Name: "substitution", Order: 40,
		Title: "Substitution (text): are cheap substitutes of the task's model caught by the teacher-forced check?",
		Note: fmt.Sprintf("reference %s, verifier profile %s, %d tokens per claim; greedy checked by VerifyGreedy (tolerance %.2g in logit), "+
			"sampled (T 0.8, top-k 40, top-p 0.95) by VerifySample (tolerance %.2g of mass). accepted_pct: claims accepted at the default "+
			"tolerance (for honest rows this is 1 - Type I error; for substitutes 100 - catch rate). auc: ROC AUC of the verifier's Need, "+
			"substitute against all honest claims of the same decoding. verify_over_generate: total verification time over total "+
			"generation time of the same claims (wall time; run with --workers 1 for a meaningful ratio).", filepath.Base(cfg.Reference), cfg.Verifier, cfg.Tokens,
			llm.DefaultGreedyTol, llm.DefaultSampleTol),
		Columns: []string{"substitute", "decoding", "claims", "accepted_pct", "caught_pct", "auc", "need_median", "verify_over_generate"}}
	ct := &Table{Name: "substitution-checked", Order: 41,
		Title:   "Substitution (text): share of claims accepted when the verifier checks only the first k tokens",
		Columns: []string{"substitute", "decoding"}}
	for _, k := range cfg.Checked {
		ct.Columns = append(ct.Columns, fmt.Sprintf("k=%d", k))
	}
	for _, dec := range []string{llm.DecodeGreedy, llm.DecodeSample} {
		var honest []float64
		for _, c := range claims {
			if c.honest && c.decode == dec {
				honest = append(honest, c.need)
			}
		}
		for _, name := range names {
			var cs []subClaim
			for _, c := range claims {
				if c.sub == name && c.decode == dec {
					cs = append(cs, c)
				}
			}
			if len(cs) == 0 {
				continue
			}
			var needs, gen, chk []float64
			acc := 0
			for _, c := range cs {
				needs = append(needs, c.need)
				gen, chk = append(gen, c.genMs), append(chk, c.checkMs)
				if c.reject < 0 {
					acc++
				}
			}
			auc := "-"
			if !cs[0].honest {
				auc = fmt.Sprintf("%.4f", rocAUC(honest, needs))
			}
			pct := 100 * float64(acc) / float64(len(cs))
			t.Rows = append(t.Rows, []string{name, dec, fmt.Sprint(len(cs)), fmt.Sprintf("%.1f", pct), fmt.Sprintf("%.1f", 100-pct),
				auc, fmt.Sprintf("%.3g", subMedian(needs)), fmt.Sprintf("%.2f", sum(chk)/sum(gen))})
			row := []string{name, dec}
			for _, k := range cfg.Checked {
				a := 0
				for _, c := range cs {
					if c.reject < 0 || c.reject >= k {
						a++
					}
				}
				row = append(row, fmt.Sprintf("%.1f", 100*float64(a)/float64(len(cs))))
			}
			ct.Rows = append(ct.Rows, row)
		}
	}
	if err := WriteTable(dir, t); err != nil {
		return err
	}
	return WriteTable(dir, ct)
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func subMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
