package study

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

func TestType2AndOdds(t *testing.T) {
	dir := t.TempDir()
	runTable1(t, dir, false, tinyImageConfig(t, 1, 2))
	r, err := Open("type2", Options{Dir: dir, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyImageConfig(t, 1, 2, 3)
	cfg.Profiles = []string{"exact"}
	if err := RunType2(t.Context(), r, cfg, 4); err != nil {
		t.Fatal(err)
	}
	if err := RunOdds(r, OddsConfig{Verifiers: []int{1, 3}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	ty, err := ReadTable(dir, "type2")
	if err != nil {
		t.Fatal(err)
	}
	// 3 images of one prompt and one profile: 3 pairs in both scopes, for each of 2 hashes.
	if len(ty.Rows) != 4 {
		t.Fatalf("type2 rows %v", ty.Rows)
	}
	for _, row := range ty.Rows {
		if row[ty.Col("images")] != "3" || row[ty.Col("pairs")] != "3" {
			t.Errorf("type2 row %v: want 3 images, 3 pairs", row)
		}
	}
	// Odds: p comes from table1's counts, and P from package odds.
	t1, _ := ReadTable(dir, "table1")
	od, err := ReadTable(dir, "odds")
	if err != nil {
		t.Fatal(err)
	}
	if len(od.Rows) != 2*3*2*2 { // hashes x tolerances x rules x n
		t.Fatalf("%d odds rows", len(od.Rows))
	}
	for i, row := range od.Rows {
		tol, _ := strconv.Atoi(row[od.Col("tolerance")])
		n, _ := strconv.Atoi(row[od.Col("n")])
		rule, _ := quorum.ParseRule(row[od.Col("rule")])
		var images, outliers float64
		for j, r1 := range t1.Rows {
			if r1[t1.Col("hash")] == row[od.Col("hash")] && r1[t1.Col("model")] == row[od.Col("model")] {
				images, _ = t1.Float(j, "images")
				outliers, _ = t1.Float(j, "outliers_t"+strconv.Itoa(tol))
			}
		}
		want, err := odds.Correct(n, 1-outliers/images, rule)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := od.Float(i, "p_correct_pct")
		if d := got - 100*want.P; d > 1e-4 || d < -1e-4 {
			t.Errorf("odds row %v: P %v, want %v", row, got, 100*want.P)
		}
	}
}

func TestTable2(t *testing.T) {
	models, err := LoadTextModels("../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	var decs []Decoding
	for _, d := range DefaultDecodings() {
		if d.Name == "greedy-30" || d.Name == "sample-unseeded-30" {
			decs = append(decs, d)
		}
	}
	dir, tb := runTable2(t, TextConfig{Models: models, Profiles: []string{"exact", "cpu-avx2"}, Prompts: DefaultTextPrompts[:2], Decodings: decs})
	// Greedy decoding under exact and cpu-avx2 (same float32 arithmetic) agrees on these prompts
	// (engine/llm's study); sampling with a different seed per profile does not.
	if got := tb.Rows[0][tb.Col("agree_pct")]; tb.Rows[0][1] != "greedy-30" || got != "100.00" {
		t.Errorf("greedy row %v", tb.Rows[0])
	}
	if got := tb.Rows[1][tb.Col("agree_pct")]; tb.Rows[1][2] != "no" || got != "0.00" {
		t.Errorf("unseeded sampling row %v", tb.Rows[1])
	}
	if res := checkReproduces(t, dir, ReproduceOptions{Sample: 3}); res.Fingerprints != 8 {
		t.Errorf("check: %d fingerprints, want 8", res.Fingerprints)
	}
}

// runTable2 runs table2 of cfg into a new directory and returns it with its two-row table2
// table (one row per decoding).
func runTable2(t *testing.T, cfg TextConfig) (dir string, tb *Table) {
	t.Helper()
	dir = t.TempDir()
	r, err := Open("table2", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunTable2(t.Context(), r, cfg); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if tb, err = ReadTable(dir, "table2"); err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 2 {
		t.Fatalf("table2 rows %v, want 2", tb.Rows)
	}
	return dir, tb
}

// checkReproduces fails t unless Check finds no problem in dir and Reproduce with opts
// regenerates every task it samples identically; it returns Check's result.
func checkReproduces(t *testing.T, dir string, opts ReproduceOptions) CheckResult {
	t.Helper()
	res, err := Check(t.Context(), dir)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("check: %v %+v", err, res)
	}
	rep, err := Reproduce(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rep {
		if !x.OK || !x.Identical {
			t.Errorf("reproduce %+v", x)
		}
	}
	return res
}

// TestReportInChromium renders report.html in headless Chromium and checks the DOM it built:
// the runs, Table 1 with its rows, the inline SVG plots and the dataset digest.
func TestReportInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (Debian: apt-get install chromium): report.html not rendered")
	}
	dir := t.TempDir()
	runTable1(t, dir, false, tinyImageConfig(t, 1))
	abs, _ := filepath.Abs(filepath.Join(dir, ReportFile))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(out) == 0 {
			t.Fatalf("chromium: %v: %s", err, stderr.String())
		}
	}
	dom := string(out)
	digest, _ := DatasetDigest(dir)
	checks := []struct{ what, re string }{
		{"the dataset digest", `<code id="dataset-digest">` + digest + `</code>`},
		{"the run and its command", `(?s)<table id="runs">.*<td>table1</td><td><code>test</code>`},
		{"Table 1 with base's average_hash row", `(?s)<section class="table" id="table-table1">.*<td>base</td><td>image:average_hash/8</td><td>2</td>`},
		{"the drift table", `id="table-drift"`},
		{"an inline SVG plot", `(?s)<figure id="plot-consensus-base">\s*<svg[^>]*>.*</svg>`},
		{"the drift plot's caption", `(?s)<figure id="plot-drift">.*simulated hardware`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(dom) {
			t.Errorf("rendered DOM lacks %s (%s)", c.what, c.re)
		}
	}
	if t.Failed() {
		os.WriteFile(filepath.Join(t.TempDir(), "dom.html"), out, 0o644)
		t.Logf("DOM head: %.2000s", dom)
	}
}
