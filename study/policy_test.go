package study

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/imghash"
)

// policyEntry is an image of task (prompt, seed) on profile whose one fingerprint per scheme
// is fps[scheme].
func policyEntry(prompt string, seed uint64, profile string, fps map[string]uint64) Entry {
	m := map[string]string{}
	for k, v := range fps {
		m[k] = fmt.Sprintf("%016x", v)
	}
	return Entry{Study: "policy", Key: fmt.Sprintf("%s/%s/%d", profile, prompt, seed),
		Task: TaskRecord{Model: "m", ModelDigest: "00", Prompt: prompt, Seed: seed, Profile: profile}, Fingerprints: m}
}

// TestAnalyzePolicy: hash "a" drifts 1 bit across profiles and collides between tasks at 3
// bits; hash "p" drifts 2 bits and never comes within 20 bits of another task. The chosen
// policy is p at tolerance 2 (every honest pair accepted, no other-task pair); a at tolerance 1
// is feasible only at the loose bound, and their combination is not chosen over the single hash.
func TestAnalyzePolicy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.PHash, Size: 8}}
	const a, p = "image:average_hash/8", "image:phash/8"
	var entries []Entry
	for task := range 8 {
		seed := uint64(task + 1)
		// a: tasks pairwise 3 bits apart at most for neighbours (bits 0..2 vary by task pairs).
		baseA := uint64(task%2) * 0b111
		baseP := uint64(0xFFFFFF) << (3 * task) // far apart
		for pi, prof := range []string{"exact", "gpu"} {
			entries = append(entries, policyEntry("x", seed, prof, map[string]uint64{
				a: baseA ^ uint64(pi)<<40,      // 1 bit of drift
				p: baseP ^ uint64(pi*0b11)<<60, // 2 bits of drift
			}))
		}
	}
	res, err := AnalyzePolicy(dir, entries, specs, 0.99, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Chosen == nil {
		t.Fatalf("no policy chosen: %+v", res)
	}
	c := res[0].Chosen
	if c.Name() != p || c.Parts[0].Tolerance != 2 {
		t.Fatalf("chose %s at %v, want %s at 2", c.Name(), c.Parts, p)
	}
	if c.HonestPairs != 8 || c.HonestAgree != 8 || c.Type2Pass != 0 || c.Type2Pairs != 2*28 {
		t.Fatalf("chosen counts %+v", c)
	}
	if res[0].TypeIPPM != 1_000_000 || res[0].TypeIIPPM != 0 {
		t.Fatalf("ppm %d %d", res[0].TypeIPPM, res[0].TypeIIPPM)
	}
	for _, cand := range res[0].Candidates {
		if cand.Name() == a && cand.Type2Pass == 0 {
			t.Errorf("aHash candidate found no collisions: %+v", cand)
		}
	}
	if _, err := ReadTable(dir, "policy"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, TableDir, "policy-m.json")); err != nil {
		t.Fatal(err)
	}
}

func TestUpper95(t *testing.T) {
	for _, tc := range []struct {
		k, n int
		want float64
	}{{0, 149500, 3.0 / 149500}, {0, 100, 0.0295}, {5, 100, 0.1023}} {
		if got := upper95(tc.k, tc.n); math.Abs(got-tc.want)/tc.want > 0.02 {
			t.Errorf("upper95(%d, %d) = %g, want about %g", tc.k, tc.n, got, tc.want)
		}
	}
}
