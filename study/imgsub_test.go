package study

import (
	"testing"
)

// TestWriteImageSubstitution: a substitute far from the honest image is caught by the policy,
// one within the tolerance is accepted, and segment failures give the trajectory catch rate.
func TestWriteImageSubstitution(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultImageSubstitutionConfig()
	policy := 3 // image:phash/16 in DefaultPolicySpecs (aHash 8, 16, pHash 8, 16, ...)
	d := func(v int) []int {
		x := make([]int, len(cfg.Specs))
		for i := range x {
			x[i] = v
		}
		return x
	}
	claims := []imgClaim{
		{sub: "honest", honest: true, dist: d(2), segs: 4, genMs: 1, verifyMs: 1, refMs: 4},
		{sub: "honest", honest: true, dist: d(4), segs: 4, genMs: 1, verifyMs: 1, refMs: 4},
		{sub: "far", dist: d(40), segFail: 4, segs: 4, genMs: 1, verifyMs: 1, refMs: 4},
		{sub: "near", dist: d(6), segFail: 2, segs: 4, genMs: 1, verifyMs: 1, refMs: 4},
	}
	if err := writeImageSubstitution(dir, cfg, claims, policy); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadTable(dir, "imgsub")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"honest": {"honest", "2", "100.00", "0.00", "-", "0.00", "0.00", "0.062"},
		"far":    {"far", "1", "0.00", "100.00", "1.0000", "100.00", "100.00", "0.062"},
		"near":   {"near", "1", "100.00", "0.00", "1.0000", "50.00", "0.00", "0.062"},
	}
	for _, row := range tab.Rows {
		w := want[row[0]]
		for i := range w {
			if row[i] != w[i] {
				t.Errorf("row %v, want %v", row, w)
				break
			}
		}
	}
	if len(tab.Rows) != 3 {
		t.Errorf("%d rows", len(tab.Rows))
	}
}
