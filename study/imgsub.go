package study

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/tensor"
)

// ImageSubstitutionConfig is the image half of the substitution study.
type ImageSubstitutionConfig struct {
	Prompts  []string // class prompts of the base, finetuned and lora tasks
	Seeds    []uint64
	Profiles []string // honest executors' profiles (the first is the verifier's)
	Steps    int      // the task's DDIM steps
	Segments int      // trajectory segments
	// Policy is the image policy the acceptance is judged by (scheme and tolerance).
	Policy    PolicyPart
	Specs     []imghash.Spec
	Tolerance []int // tolerances of the per-hash acceptance table
}

// DefaultImageSubstitutionConfig: the class prompts, seeds 1-2, the six profiles, 20 DDIM
// steps in 4 segments, the measured policy pHash/16 within 10 bits.
func DefaultImageSubstitutionConfig() ImageSubstitutionConfig {
	return ImageSubstitutionConfig{Prompts: diffusion.ClassPrompts[:], Seeds: []uint64{1, 2}, Profiles: PolicyProfiles,
		Steps: 20, Segments: 4, Policy: PolicyPart{Scheme: "image:phash/16", Tolerance: 10},
		Specs: DefaultPolicySpecs(), Tolerance: []int{0, 2, 4, 8, 10, 16, 24, 32}}
}

// imgClaim is one image claimed for a task, with its distances to the honest verifier's image.
type imgClaim struct {
	sub      string
	honest   bool
	dist     []int // per spec, to the verifier's honest image
	segFail  int   // trajectory segments failing VerifySegment
	segs     int
	genMs    float64
	verifyMs float64 // all segments re-run
	refMs    float64 // the verifier's own generation of the task
}

// RunImageSubstitution runs the image half of the substitution study: tasks of the base,
// finetuned and lora models (class prompts) and of ti ("A photo of a <concept>"), the honest
// images on every profile, and substitutes made on the verifier's profile: for base tasks 10
// and 5 DDIM steps instead of Steps, the Euler sampler instead of DDIM, guidance 1.5 instead
// of 3; for finetuned, lora and ti tasks the base model. Each claim is judged two ways: by its
// fingerprint's distance to the verifier's honest image (acceptance per hash kind and tolerance,
// ROC AUC against the honest profiles' distances, the policy's catch rate) and by trajectory
// verification (every segment of its committed states re-run with the task's model and
// parameters on the verifier's profile, DefaultSegmentTol). It writes tables imgsub (per
// substitute), imgsub-hash (acceptance per hash and tolerance). No images are stored.
func RunImageSubstitution(ctx context.Context, r *Run, cfg ImageSubstitutionConfig) error {
	load := func(n string) (*diffusion.Model, error) {
		nm, err := models.Diffusion(n)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		return nm.Model, nil
	}
	ms := map[string]*diffusion.Model{}
	for _, n := range []string{"base", "finetuned", "lora", "ti"} {
		m, err := load(n)
		if err != nil {
			return err
		}
		ms[n] = m
	}
	vprof, err := tensor.ProfileByName(cfg.Profiles[0])
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	policyIdx := -1
	for i, s := range cfg.Specs {
		if fingerprint.ImageScheme(s.Kind, s.Size).String() == cfg.Policy.Scheme {
			policyIdx = i
		}
	}
	if policyIdx < 0 {
		return fmt.Errorf("study: policy scheme %s not among the hashes", cfg.Policy.Scheme)
	}
	type task struct {
		model  string
		prompt string
		seed   uint64
	}
	var tasks []task
	for _, m := range []string{"base", "finetuned", "lora"} {
		for _, p := range cfg.Prompts {
			for _, s := range cfg.Seeds {
				tasks = append(tasks, task{m, p, s})
			}
		}
	}
	for i := range len(cfg.Prompts) * len(cfg.Seeds) {
		tasks = append(tasks, task{"ti", "A photo of a <concept>", uint64(i + 1)})
	}
	at := diffusion.CheckpointSteps(cfg.Steps, cfg.Segments)
	var mu sync.Mutex
	var claims []imgClaim
	err = r.Do(ctx, "image substitution", len(tasks), func(ctx context.Context, ti int) error {
		tk := tasks[ti]
		tp := diffusion.SampleParams{Prompt: tk.prompt, Steps: cfg.Steps, Seed: tk.seed}
		fpOf := func(m *diffusion.Model, p diffusion.SampleParams, prof tensor.Profile, pat []int) ([][]byte, *diffusion.Trajectory, float64, error) {
			t0 := time.Now()
			img, tr, err := m.SampleTrajectory(ctx, p, prof, pat)
			if err != nil {
				return nil, nil, 0, err
			}
			gen := msSince(t0)
			data, err := diffusion.EncodePNG(img)
			if err != nil {
				return nil, nil, 0, err
			}
			hx, _, err := ImageFingerprints(data, cfg.Specs)
			if err != nil {
				return nil, nil, 0, err
			}
			out := make([][]byte, len(cfg.Specs))
			for i, s := range cfg.Specs {
				out[i], _ = hex.DecodeString(hx[fingerprint.ImageScheme(s.Kind, s.Size).String()])
			}
			return out, tr, gen, nil
		}
		verify := func(tr *diffusion.Trajectory) (fails int, took float64, err error) {
			t0 := time.Now()
			for k := 0; k+1 < len(at); k++ {
				c, err := ms[tk.model].VerifySegment(ctx, tp, vprof, at[k], at[k+1], tr.States[k], tr.States[k+1], diffusion.DefaultSegmentTol)
				if err != nil {
					return 0, 0, err
				}
				if !c.OK {
					fails++
				}
			}
			return fails, msSince(t0), nil
		}
		ref, _, refMs, err := fpOf(ms[tk.model], tp, vprof, at)
		if err != nil {
			return err
		}
		dists := func(fp [][]byte) []int {
			d := make([]int, len(fp))
			for i := range fp {
				for k := range fp[i] {
					d[i] += bits.OnesCount8(fp[i][k] ^ ref[i][k])
				}
			}
			return d
		}
		var local []imgClaim
		add := func(name string, honest bool, m *diffusion.Model, p diffusion.SampleParams, prof tensor.Profile, pat []int) error {
			fp, tr, gen, err := fpOf(m, p, prof, pat)
			if err != nil {
				return fmt.Errorf("study: %s: %w", name, err)
			}
			fails, vms, err := verify(tr)
			if err != nil {
				return fmt.Errorf("study: verify %s: %w", name, err)
			}
			local = append(local, imgClaim{sub: name, honest: honest, dist: dists(fp), segFail: fails, segs: len(at) - 1, genMs: gen, verifyMs: vms, refMs: refMs})
			return nil
		}
		for _, pn := range cfg.Profiles[1:] {
			prof, err := tensor.ProfileByName(pn)
			if err != nil {
				return fmt.Errorf("study: %w", err)
			}
			if err := add("honest "+tk.model+"/"+pn, true, ms[tk.model], tp, prof, at); err != nil {
				return err
			}
		}
		if tk.model == "base" {
			for _, steps := range []int{10, 5} {
				p := tp
				p.Steps = steps
				if err := add(fmt.Sprintf("base: %d steps instead of %d", steps, cfg.Steps), false, ms["base"], p, vprof,
					diffusion.CheckpointSteps(steps, cfg.Segments)); err != nil {
					return err
				}
			}
			p := tp
			p.Sampler = diffusion.SamplerEuler
			if err := add("base: euler instead of ddim", false, ms["base"], p, vprof, at); err != nil {
				return err
			}
			p = tp
			p.CFGScale = 1.5
			if err := add("base: guidance 1.5 instead of 3", false, ms["base"], p, vprof, at); err != nil {
				return err
			}
		} else if err := add(tk.model+": base model instead", false, ms["base"], tp, vprof, at); err != nil {
			return err
		}
		mu.Lock()
		claims = append(claims, local...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	return writeImageSubstitution(r.Dir, cfg, claims, policyIdx)
}

func writeImageSubstitution(dir string, cfg ImageSubstitutionConfig, claims []imgClaim, policyIdx int) error {
	slices.SortStableFunc(claims, func(a, b imgClaim) int {
		if a.honest != b.honest {
			if a.honest {
				return -1
			}
			return 1
		}
		return 0
	})
	var names []string
	for _, c := range claims {
		if !slices.Contains(names, c.sub) {
			names = append(names, c.sub)
		}
	}
	// Honest distances per spec (all honest claims of all models) for the ROC AUC.
	honest := make([][]float64, len(cfg.Specs))
	for _, c := range claims {
		if c.honest {
			for i, d := range c.dist {
				honest[i] = append(honest[i], float64(d))
			}
		}
	}
	t := &Table{Name: "imgsub", Order: 42,
		Title: "Substitution (images): cheap substitutes caught by the image policy and by trajectory verification",
		Note: fmt.Sprintf("verifier profile %s; policy %s within %d bits (distance to the verifier's honest image); honest rows: the task's model on another profile "+
			"(accepted %% = policy Type I). Trajectory: %d steps in %d segments, each segment re-run from the committed state on the verifier's profile "+
			"(tolerance %.3g RMS); seg_caught_pct: share of segments that fail, i.e. the catch rate of one segment drawn at random; all_segments: claims whose every segment fails. "+
			"auc: ROC AUC of the policy hash's distance, substitute against all honest claims. segment_cost: one segment's re-run over the verifier's own generation of the task, both on the verifier's profile (wall time, loaded machine).",
			cfg.Profiles[0], cfg.Policy.Scheme, cfg.Policy.Tolerance, cfg.Steps, cfg.Segments, diffusion.DefaultSegmentTol),
		Columns: []string{"claim", "claims", "policy_accepted_pct", "policy_caught_pct", "auc", "seg_caught_pct", "all_segments_fail_pct", "segment_cost"}}
	ht := &Table{Name: "imgsub-hash", Order: 43,
		Title:   "Substitution (images): share of claims within t bits of the verifier's honest image, per hash",
		Columns: []string{"claim", "hash", "auc"}}
	for _, tol := range cfg.Tolerance {
		ht.Columns = append(ht.Columns, fmt.Sprintf("t=%d", tol))
	}
	for _, name := range names {
		var cs []imgClaim
		for _, c := range claims {
			if c.sub == name {
				cs = append(cs, c)
			}
		}
		acc, segFail, segs, allFail := 0, 0, 0, 0
		var pd []float64
		var gen, ver float64
		for _, c := range cs {
			if c.dist[policyIdx] <= cfg.Policy.Tolerance {
				acc++
			}
			pd = append(pd, float64(c.dist[policyIdx]))
			segFail += c.segFail
			segs += c.segs
			if c.segFail == c.segs {
				allFail++
			}
			gen += c.refMs
			ver += c.verifyMs
		}
		auc := "-"
		if !cs[0].honest {
			auc = f4(rocAUC(honest[policyIdx], pd))
		}
		pct := 100 * float64(acc) / float64(len(cs))
		t.Rows = append(t.Rows, []string{name, itoa(len(cs)), f2(pct), f2(100 - pct), auc,
			f2(100 * float64(segFail) / float64(segs)), f2(100 * float64(allFail) / float64(len(cs))),
			f3(ver / float64(cs[0].segs) / gen)})
		if cs[0].honest {
			continue
		}
		for i, s := range cfg.Specs {
			var d []float64
			for _, c := range cs {
				d = append(d, float64(c.dist[i]))
			}
			row := []string{name, shortScheme(fingerprint.ImageScheme(s.Kind, s.Size).String()), f4(rocAUC(honest[i], d))}
			for _, tol := range cfg.Tolerance {
				a := 0
				for _, c := range cs {
					if c.dist[i] <= tol {
						a++
					}
				}
				row = append(row, f2(100*float64(a)/float64(len(cs))))
			}
			ht.Rows = append(ht.Rows, row)
		}
	}
	if err := WriteTable(dir, t); err != nil {
		return err
	}
	return WriteTable(dir, ht)
}
