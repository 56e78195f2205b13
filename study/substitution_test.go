package study

import (
	"math"
	"path/filepath"
	"testing"
)

func TestRocAUC(t *testing.T) {
	for _, tt := range []struct {
		honest, sub []float64
		want        float64
	}{
		{[]float64{0, 0.1, 0.2}, []float64{1, 2}, 1},
		{[]float64{1, 2}, []float64{0, 0.1}, 0},
		{[]float64{0, 0}, []float64{0}, 0.5},
		{[]float64{0, 1}, []float64{0.5}, 0.5},
	} {
		if got := rocAUC(tt.honest, tt.sub); got != tt.want {
			t.Errorf("rocAUC(%v, %v) = %v, want %v", tt.honest, tt.sub, got, tt.want)
		}
	}
	if !math.IsNaN(rocAUC(nil, []float64{1})) {
		t.Error("rocAUC without honest claims is not NaN")
	}
}

// TestSubstitutionSmall runs the substitution study on two prompts and checks what must hold
// whatever the numbers: honest claims under the verifier's own profile are always accepted,
// a different model and a truncated one are caught on greedy text, and the tables exist.
func TestSubstitutionSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and verifies 60 claims")
	}
	cfg := DefaultSubstitutionConfig(filepath.Join("..", "testdata", "llamacpp", "models"))
	cfg.Prompts = cfg.Prompts[:2]
	cfg.Seeds = cfg.Seeds[:1]
	cfg.Profiles = []string{"exact", "hopper-bf16"}
	cfg.Tokens = 16
	cfg.Checked = []int{1, 16}
	r, err := Open("substitution", Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunSubstitution(t.Context(), r, cfg); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadTable(r.Dir, "substitution")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range tab.Rows {
		got[row[0]+"/"+row[1]] = row[tab.Col("accepted_pct")]
	}
	t.Logf("%v", tab.Rows)
	for key, want := range map[string]string{"honest/exact/greedy": "100.0", "honest/exact/sample": "100.0",
		"other-model/greedy": "0.0", "truncated-1-layer/greedy": "0.0", "other-model/sample": "0.0"} {
		if got[key] != want {
			t.Errorf("%s accepted %s %%, want %s", key, got[key], want)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
