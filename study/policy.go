package study

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"

	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
)

// PolicyConfig is the grid of the policy calibration: Image's tasks (models x prompts x seeds)
// run under every one of Image.Profiles (the honest pairs of Type I); Type2Seeds add tasks run
// only under Image.Profiles[0] (more different-task pairs for Type II).
type PolicyConfig struct {
	Image      ImageConfig
	Type2Seeds []uint64
	// TargetTypeI is the least share of honest pairs a policy must accept (0.99);
	// MaxTypeII the largest share of different-task pairs it may accept (0.001).
	TargetTypeI, MaxTypeII float64
}

// DefaultPolicySpecs are the candidate hashes: aHash, pHash, dHash at sizes 8 and 16.
func DefaultPolicySpecs() []imghash.Spec {
	var out []imghash.Spec
	for _, k := range []imghash.Kind{imghash.AverageHash, imghash.PHash, imghash.DHash} {
		for _, s := range []int{8, 16} {
			out = append(out, imghash.Spec{Kind: k, Size: s})
		}
	}
	return out
}

// PolicyProfiles are the six honest profiles of the demo and the calibration: exact, the two
// CPU-like and three GPU-like ones (turing-fp16acc, an FP16 split-K workspace, is left out: no
// demo node runs it and it is 10x slower to emulate).
var PolicyProfiles = []string{"exact", "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16"}

// RunPolicy makes the images of cfg (skipping those already in the dataset) and writes the
// policy tables (AnalyzePolicy).
func RunPolicy(ctx context.Context, r *Run, cfg PolicyConfig) error {
	if err := cfg.Image.Validate(); err != nil {
		return err
	}
	items := cfg.Image.items("policy")
	if len(cfg.Type2Seeds) > 0 {
		extra := cfg.Image
		extra.Profiles = cfg.Image.Profiles[:1]
		extra.Seeds = cfg.Type2Seeds
		seen := map[string]bool{}
		for _, it := range items {
			seen[it.key] = true
		}
		for _, it := range extra.items("policy") {
			if !seen[it.key] {
				items = append(items, it)
			}
		}
	}
	if err := generateImages(ctx, r, "policy", items, cfg.Image.Specs); err != nil {
		return err
	}
	_, err := AnalyzePolicy(r.Dir, r.Dataset.Entries("policy"), cfg.Image.Specs, cfg.TargetTypeI, cfg.MaxTypeII)
	return err
}

// PolicyPart is one hash of a policy with its tolerance.
type PolicyPart struct {
	Scheme    string `json:"scheme"`
	Tolerance int    `json:"tolerance"`
}

// PolicyCandidate is one candidate scheme (one hash, or several that must all be within their
// tolerances) and what it measured.
type PolicyCandidate struct {
	Model string       `json:"model"`
	Parts []PolicyPart `json:"parts"`
	// HonestPairs: pairs of images of one task under two profiles; HonestAgree: those the policy
	// accepts (Type I = HonestAgree/HonestPairs, the share of honest pairs accepted).
	HonestPairs, HonestAgree int
	// Type2Pairs: pairs of images of different tasks (another seed or prompt) under one profile;
	// Type2Pass: those the policy accepts. SamePrompt*: the subset with the same prompt.
	Type2Pairs, Type2Pass           int
	SamePromptPairs, SamePromptPass int
	// Type1Tol99 and Type2TolMax: for single hashes, the smallest tolerance reaching TargetTypeI
	// and the largest keeping Type II (all pairs and same-prompt pairs) within MaxTypeII (-1: none).
	Type1Tol99, Type2TolMax int
	Feasible                bool // Type I >= TargetTypeI and Type II (both scopes) <= MaxTypeII
	Chosen                  bool
}

// Name is the candidate's scheme in the fingerprint package's notation, parts joined by "+".
func (c PolicyCandidate) Name() string {
	s := ""
	for i, p := range c.Parts {
		if i > 0 {
			s += "+"
		}
		s += p.Scheme
	}
	return s
}

// TypeI returns the share of honest pairs accepted.
func (c PolicyCandidate) TypeI() float64 { return ratio(c.HonestAgree, c.HonestPairs) }

// TypeII returns the share of different-task pairs accepted.
func (c PolicyCandidate) TypeII() float64 { return ratio(c.Type2Pass, c.Type2Pairs) }

// TypeIISamePrompt returns the share of same-prompt different-seed pairs accepted.
func (c PolicyCandidate) TypeIISamePrompt() float64 {
	return ratio(c.SamePromptPass, c.SamePromptPairs)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// PolicyResult is the policy study's outcome for one model, written as tables/policy-<model>.json.
type PolicyResult struct {
	Model         string            `json:"model"`
	ModelDigest   string            `json:"model_digest"`
	Profiles      []string          `json:"profiles"`
	Images        int               `json:"images"`
	Tasks         int               `json:"tasks"`
	DatasetDigest string            `json:"dataset_digest"`
	TargetTypeI   float64           `json:"target_type1"`
	MaxTypeII     float64           `json:"max_type2"`
	Chosen        *PolicyCandidate  `json:"chosen"` // nil when no candidate is feasible
	Candidates    []PolicyCandidate `json:"candidates"`
	// The chosen policy's rates in parts per million (as the ledger stores them).
	TypeIPPM     int64  `json:"type1_ppm"`
	TypeIIPPM    int64  `json:"type2_ppm"`
	Type2Upper95 int64  `json:"type2_upper95_ppm"` // one-sided 95 % upper bound of Type II
	Rule         string `json:"rule"`
}

// policyRule is how AnalyzePolicy chooses, written into its output.
const policyRule = "per hash: tolerance = the smallest at which every honest pair measured agrees, or the smallest " +
	"reaching the Type I target if that leaves Type II over its bound; combinations use each part's single-hash " +
	"tolerance and must pass all parts; a candidate is feasible when Type I >= target and Type II <= bound over all " +
	"different-task pairs and over same-prompt pairs, and the one-sided 95 % upper bound of Type II over all pairs is within the bound too; among feasible candidates: highest Type I, then lowest Type II " +
	"(all pairs), then a single hash before a combination, then the widest gap between the chosen tolerance and the " +
	"largest tolerance within the Type II bound (relative to the hash's bits)"

// pairDists are the per-spec distances of one pair of images.
type pairDists struct {
	d          []int
	samePrompt bool
}

// AnalyzePolicy measures every candidate (each spec alone, and each pair of specs of different
// kinds or sizes, all parts within their tolerances) on entries, per model: Type I over the
// pairs of images of one task under different profiles, Type II over the pairs of images of
// different tasks under one profile, and chooses a policy per model (policyRule). It writes
// tables policy (candidates), policy-curve (Type I and II against tolerance per hash) and
// policy-<model>.json.
func AnalyzePolicy(dir string, entries []Entry, specs []imghash.Spec, targetI, maxII float64) ([]PolicyResult, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("study: policy: no images in the dataset")
	}
	digest, err := DatasetDigest(dir)
	if err != nil {
		return nil, err
	}
	schemes := make([]string, len(specs))
	for i, s := range specs {
		schemes[i] = fingerprint.ImageScheme(s.Kind, s.Size).String()
	}
	tab := &Table{Name: "policy", Order: 35,
		Title: "Image verification policy: Type I (honest pairs across profiles accepted) and Type II (different-task pairs accepted) per candidate",
		Note:  fmt.Sprintf("target Type I >= %.4g %%, Type II <= %.4g %%. %s. Dataset digest %s.", 100*targetI, 100*maxII, policyRule, digest),
		Columns: []string{"model", "scheme", "tolerances", "honest_pairs", "type1_pct", "type2_pairs", "type2_pct",
			"same_prompt_pairs", "same_prompt_pct", "type2_upper95_pct", "tol_type1_target", "tol_type2_max", "feasible", "chosen"}}
	curve := &Table{Name: "policy-curve", Order: 36,
		Title:   "Image policy: Type I and Type II of each hash against the tolerance",
		Note:    "type1_pct: honest pairs (one task, two profiles) within t; type2_pct: pairs of different tasks on one profile within t; same_prompt_pct: those with the same prompt. Dataset digest " + digest + ".",
		Columns: []string{"model", "scheme", "t", "type1_pct", "type2_pct", "same_prompt_pct"}}
	var results []PolicyResult
	names, per := byModel(entries)
	for _, model := range names {
		es := per[model]
		fps := make([][][]byte, len(es)) // [entry][spec]
		profiles := map[string]bool{}
		var profList []string
		for i, e := range es {
			fps[i] = make([][]byte, len(specs))
			for j, sch := range schemes {
				fp, err := hex.DecodeString(e.Fingerprints[sch])
				if err != nil || len(fp) == 0 {
					return nil, fmt.Errorf("study: %s: no fingerprint %s", e.Key, sch)
				}
				fps[i][j] = fp
			}
			if !profiles[e.Task.Profile] {
				profiles[e.Task.Profile] = true
				profList = append(profList, e.Task.Profile)
			}
		}
		dist := func(a, b int) []int {
			d := make([]int, len(specs))
			for j := range specs {
				for k := range fps[a][j] {
					d[j] += bits.OnesCount8(fps[a][j][k] ^ fps[b][j][k])
				}
			}
			return d
		}
		var honest, other []pairDists
		tasks := map[string]bool{}
		keys := make([]string, len(es))
		for i, e := range es {
			keys[i] = policyTaskKey(e)
			tasks[keys[i]] = true
		}
		for a := range es {
			ka := keys[a]
			for b := a + 1; b < len(es); b++ {
				kb := keys[b]
				switch {
				case ka == kb && es[a].Task.Profile != es[b].Task.Profile:
					honest = append(honest, pairDists{d: dist(a, b)})
				case ka != kb && es[a].Task.Profile == es[b].Task.Profile:
					other = append(other, pairDists{d: dist(a, b), samePrompt: es[a].Task.Prompt == es[b].Task.Prompt})
				}
			}
		}
		if len(honest) == 0 || len(other) == 0 {
			return nil, fmt.Errorf("study: policy %s: %d honest pairs and %d different-task pairs; need both", model, len(honest), len(other))
		}
		count := func(parts []int, tols []int) (h, o, s, sp int) {
			within := func(p pairDists) bool {
				for i, j := range parts {
					if p.d[j] > tols[i] {
						return false
					}
				}
				return true
			}
			for _, p := range honest {
				if within(p) {
					h++
				}
			}
			for _, p := range other {
				if p.samePrompt {
					sp++
				}
				if within(p) {
					o++
					if p.samePrompt {
						s++
					}
				}
			}
			return
		}
		var cands []PolicyCandidate
		chosenTol := make([]int, len(specs))
		gap := make([]float64, len(specs))
		for j, s := range specs {
			nb := s.Bits()
			t99, t100, tII := -1, -1, -1
			for t := 0; t <= nb; t++ {
				h, o, sm, sp := count([]int{j}, []int{t})
				ti, tiiAll, tiiSame := ratio(h, len(honest)), ratio(o, len(other)), ratio(sm, sp)
				if t99 < 0 && ti >= targetI {
					t99 = t
				}
				if t100 < 0 && h == len(honest) {
					t100 = t
				}
				if tiiAll <= maxII && tiiSame <= maxII {
					tII = t
				}
				curve.Rows = append(curve.Rows, []string{model, schemes[j], itoa(t), f4(100 * ti), f4(100 * tiiAll), f4(100 * tiiSame)})
				if t100 >= 0 && tiiAll >= 1 {
					break
				}
			}
			t := t100
			if t < 0 || (t > tII && t99 >= 0) {
				t = t99
			}
			if t < 0 {
				t = nb
			}
			chosenTol[j] = t
			gap[j] = float64(tII-t) / float64(nb)
			c := PolicyCandidate{Model: model, Parts: []PolicyPart{{schemes[j], t}}, Type1Tol99: t99, Type2TolMax: tII}
			c.HonestAgree, c.Type2Pass, c.SamePromptPass, c.SamePromptPairs = count([]int{j}, []int{t})
			c.HonestPairs, c.Type2Pairs = len(honest), len(other)
			cands = append(cands, c)
		}
		for a := range specs {
			for b := a + 1; b < len(specs); b++ {
				if specs[a].Kind == specs[b].Kind {
					continue // one kind at two sizes: nearly the same information
				}
				c := PolicyCandidate{Model: model, Parts: []PolicyPart{{schemes[a], chosenTol[a]}, {schemes[b], chosenTol[b]}},
					Type1Tol99: -1, Type2TolMax: -1}
				c.HonestAgree, c.Type2Pass, c.SamePromptPass, c.SamePromptPairs = count([]int{a, b}, []int{chosenTol[a], chosenTol[b]})
				c.HonestPairs, c.Type2Pairs = len(honest), len(other)
				cands = append(cands, c)
			}
		}
		best := -1
		candGap := func(i int) float64 {
			if len(cands[i].Parts) != 1 {
				return -1
			}
			return gap[slices.Index(schemes, cands[i].Parts[0].Scheme)]
		}
		better := func(i, j int) bool { // is candidate i better than j?
			ci, cj := cands[i], cands[j]
			if ci.HonestAgree != cj.HonestAgree {
				return ci.HonestAgree > cj.HonestAgree
			}
			if ci.Type2Pass != cj.Type2Pass {
				return ci.Type2Pass < cj.Type2Pass
			}
			if len(ci.Parts) != len(cj.Parts) {
				return len(ci.Parts) < len(cj.Parts)
			}
			return candGap(i) > candGap(j)
		}
		for i := range cands {
			c := &cands[i]
			c.Feasible = c.TypeI() >= targetI && c.TypeII() <= maxII && c.TypeIISamePrompt() <= maxII &&
				upper95(c.Type2Pass, c.Type2Pairs) <= maxII
			if c.Feasible && (best < 0 || better(i, best)) {
				best = i
			}
		}
		res := PolicyResult{Model: model, ModelDigest: es[0].Task.ModelDigest, Profiles: profList, Images: len(es),
			Tasks: len(tasks), DatasetDigest: digest, TargetTypeI: targetI, MaxTypeII: maxII, Rule: policyRule}
		if best >= 0 {
			cands[best].Chosen = true
			c := cands[best]
			res.Chosen = &c
			res.TypeIPPM = ppm(c.HonestAgree, c.HonestPairs)
			res.TypeIIPPM = ppm(c.Type2Pass, c.Type2Pairs)
			res.Type2Upper95 = int64(1e6*upper95(c.Type2Pass, c.Type2Pairs) + 0.5)
		}
		res.Candidates = cands
		for _, c := range cands {
			tols := ""
			for i, p := range c.Parts {
				if i > 0 {
					tols += "+"
				}
				tols += itoa(p.Tolerance)
			}
			tab.Rows = append(tab.Rows, []string{model, c.Name(), tols, itoa(c.HonestPairs), f3(100 * c.TypeI()), itoa(c.Type2Pairs),
				f4(100 * c.TypeII()), itoa(c.SamePromptPairs), f4(100 * c.TypeIISamePrompt()), f4(100 * upper95(c.Type2Pass, c.Type2Pairs)),
				tolCell(c.Type1Tol99, len(c.Parts)), tolCell(c.Type2TolMax, len(c.Parts)), yesNo(fmt.Sprint(c.Feasible)), yesNo(fmt.Sprint(c.Chosen))})
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(dir, TableDir), 0o755); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		if err := WriteFileAtomic(filepath.Join(dir, TableDir, "policy-"+model+".json"), append(b, '\n')); err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	if err := WriteTable(dir, curve); err != nil {
		return nil, err
	}
	return results, WriteTable(dir, tab)
}

// policyTaskKey names an entry's task apart from its profile.
func policyTaskKey(e Entry) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%v", e.Task.ModelDigest, e.Task.Prompt, e.Task.Seed, e.Task.Image)
}

func tolCell(t, parts int) string {
	if parts != 1 {
		return "-"
	}
	if t < 0 {
		return "none"
	}
	return itoa(t)
}

// ppm is a/b in parts per million, rounded.
func ppm(a, b int) int64 {
	if b == 0 {
		return 0
	}
	return (int64(a)*1_000_000 + int64(b)/2) / int64(b)
}

// upper95 is the one-sided 95 % upper confidence bound of a rate with k events in n trials:
// exact (Clopper-Pearson) by bisection on the binomial tail.
func upper95(k, n int) float64 {
	if n == 0 {
		return 1
	}
	if k >= n {
		return 1
	}
	// P(X <= k | p) = 0.05, decreasing in p.
	cdf := func(p float64) float64 {
		// sum_{i<=k} C(n,i) p^i (1-p)^(n-i), in logs.
		var s float64
		lp, lq := math.Log(p), math.Log1p(-p)
		lc := 0.0 // log C(n, 0)
		for i := 0; i <= k; i++ {
			if i > 0 {
				lc += math.Log(float64(n-i+1)) - math.Log(float64(i))
			}
			s += math.Exp(lc + float64(i)*lp + float64(n-i)*lq)
		}
		return s
	}
	lo, hi := 0.0, 1.0
	for range 100 {
		mid := (lo + hi) / 2
		if cdf(mid) > 0.05 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
