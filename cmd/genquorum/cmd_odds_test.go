package main

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateOdds = flag.Bool("update-odds", false, "rewrite testdata/odds golden files")

// figure3Args is the paper's Figure 3 with p per tolerance from Table 1 (aHash, LoRA:
// consensus 80.2 / 94.0 / 97.7% at tolerance 0 / 1 / 2).
var figure3Args = []string{"odds", "--p", "0:0.802,1:0.940,2:0.977", "--rule", "majority,supermajority"}

func TestOddsGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"figure3.txt", figure3Args},
		{"figure3.tsv", append(figure3Args[:len(figure3Args):len(figure3Args)], "--format", "tsv")},
		{"figure3.jsonl", append(figure3Args[:len(figure3Args):len(figure3Args)], "--format", "json")},
		{"near-one.txt", []string{"odds", "--p", "0.999999", "--verifiers", "1,3,101,1001"}},
		{"plan.txt", []string{"odds", "plan", "--p", "0:0.802,1:0.940,2:0.977", "--target", "0.9999", "--rule", "majority,supermajority"}},
		{"plan.tsv", []string{"odds", "plan", "--p", "0.977", "--target", "0.999999", "--odd", "--format", "tsv"}},
		// Type II at the paper's aHash collision rate (0.0267% at tolerance 2).
		{"attack.txt", []string{"odds", "attack", "--p", "0.977", "--collision", "0.000267", "--rule", "majority,supermajority"}},
		{"attack.jsonl", []string{"odds", "attack", "--p", "0.977", "--collision", "0.000267", "--verifiers", "1,3", "--colluders", "0,1", "--format", "json"}},
		// aHash, LoRA, tolerance 2: 157 outliers among 6928 images (Table 1).
		{"estimate.txt", []string{"odds", "estimate", "--successes", "6771", "--trials", "6928"}},
		{"estimate.tsv", []string{"odds", "estimate", "--successes", "0", "--trials", "10", "--confidence", "0.99", "--format", "tsv"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.args...)
			if code != exitOK {
				t.Fatalf("genquorum %v: exit %d, stderr %q", tt.args, code, stderr)
			}
			path := filepath.Join("testdata", "odds", tt.golden)
			if *updateOdds {
				if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != string(want) {
				t.Errorf("genquorum %v:\n%s\nwant (%s):\n%s", strings.Join(tt.args, " "), stdout, path, want)
			}
		})
	}
}

// TestOddsPaperNumbers checks the printed table against the paper's Type I figures at
// tolerance 2 (section 4.2), which it truncates to 0.001%. The decimal p is taken exactly, so
// short exact values print short (p=0.977, n=4: 0.996922496477 exactly).
func TestOddsPaperNumbers(t *testing.T) {
	stdout, _, code := runCLI(t, append(figure3Args, "--format", "tsv")...)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"majority\t2\t0.977\t3\t2\t0.998437334\t",           // 99.843%
		"majority\t2\t0.977\t5\t3\t0.999882488996942",       // 99.988%
		"majority\t2\t0.977\t7\t4\t0.9999907359233963",      // 99.999%
		"supermajority\t2\t0.977\t4\t3\t0.996922496477\t",   // 99.692%
		"supermajority\t2\t0.977\t7\t5\t0.9996027376372218", // 99.960%
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestOddsPlot(t *testing.T) {
	dir := t.TempDir()
	pngPath, svgPath := filepath.Join(dir, "fig3.png"), filepath.Join(dir, "fig3.svg")
	for _, path := range []string{pngPath, svgPath} {
		if _, stderr, code := runCLI(t, append(figure3Args, "--plot", path)...); code != exitOK {
			t.Fatalf("--plot %s: exit %d, stderr %q", path, code, stderr)
		}
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", pngPath, err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 700 {
		t.Errorf("PNG is %v, want two columns of two panels at 150 dpi", b)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "super-majority", "n = 10 (need 7)", "1e-3"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestOddsErrors(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		stderrPart string
	}{
		{[]string{"odds"}, exitUsage, "--p: required"},
		{[]string{"odds", "--p", "1.5"}, exitUsage, "probability in [0, 1]"},
		{[]string{"odds", "--p", "-0.1"}, exitUsage, "probability in [0, 1]"},
		{[]string{"odds", "--p", "abc"}, exitUsage, "probability in [0, 1]"},
		{[]string{"odds", "--p", "0:0.9,0.95"}, exitUsage, "for every value or for none"},
		{[]string{"odds", "--p", "0:0.9,0:0.95"}, exitUsage, "given twice"},
		{[]string{"odds", "--p", "x:0.9"}, exitUsage, "not a non-negative integer"},
		{[]string{"odds", "--p", "0.9", "--rule", "unanimous"}, exitUsage, "unknown rule"},
		{[]string{"odds", "--p", "0.9", "--format", "xml"}, exitUsage, "want text, tsv or json"},
		{[]string{"odds", "--p", "0.9", "--verifiers", "0"}, exitUsage, "not a positive count"},
		{[]string{"odds", "--p", "0.9", "--plot", "x.png"}, exitUsage, "needs p per tolerance"},
		{[]string{"odds", "--p", "0:0.9", "--plot", "x.pdf"}, exitUsage, "want a .svg or .png"},
		{[]string{"odds", "plan", "--p", "0.9"}, exitUsage, "--target"},
		{[]string{"odds", "plan", "--p", "0.9", "--target", "0.99", "--min", "5", "--max", "4"}, exitUsage, "min <= max"},
		{[]string{"odds", "plan", "--p", "0.5", "--target", "0.9", "--max", "20"}, exitError, "not reached"},
		{[]string{"odds", "extra-arg", "--p", "0.9"}, exitUsage, ""},
		{[]string{"odds", "attack", "--collision", "0.1"}, exitUsage, "--p"},
		{[]string{"odds", "attack", "--p", "0.9"}, exitUsage, "--collision"},
		{[]string{"odds", "attack", "--p", "0.9", "--collision", "0.1", "--colluders", "-1"}, exitUsage, "negative"},
		{[]string{"odds", "estimate", "--successes", "5", "--trials", "4"}, exitUsage, "successes <= trials"},
		{[]string{"odds", "estimate", "--successes", "5", "--trials", "10", "--confidence", "95"}, exitUsage, "--confidence"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderrPart) {
			t.Errorf("genquorum %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, stderr, tt.code, tt.stderrPart)
		}
	}
}

// TestOddsSpot: at q = 0.05 a free cheat (fee 100, cost 50, penalty 1000) is caught once in
// 20 tasks and does not pay (0.95*100 - 0.05*1000 = 45 < 50); at q = 0.01 it pays; the least
// deterring q is 50/1100.
func TestOddsSpot(t *testing.T) {
	stdout, stderr, code := runCLI(t, "odds", "spot", "--q", "0.01,0.05", "--fee", "100", "--cost", "50",
		"--penalty", "1000", "--tasks", "20", "--format", "tsv", "--verifiers", "0")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", stdout)
	}
	for i, want := range []struct{ catch, pays string }{{"0.01", "true"}, {"0.05", "false"}} {
		f := strings.Split(lines[i+1], "\t")
		if f[2] != want.catch || f[7] != want.pays || !strings.HasPrefix(f[8], "0.04545") {
			t.Errorf("row %d: %q, want catch %s, cheating_pays %s, min_q 0.04545...", i, lines[i+1], want.catch, want.pays)
		}
	}
	if _, _, code := runCLI(t, "odds", "spot"); code == exitOK {
		t.Error("odds spot without --q succeeded")
	}
}

// TestOddsSpotLedgerParams: with the ledger's rules (2 verifiers share a checked task's fee;
// a caught executor loses SlashOutlierBPS 1000 of its stake 10000, i.e. 1000), the least
// deterring q is 50 / (100/3 + 1000) = 0.04839, and --penalty with --stake is refused.
func TestOddsSpotLedgerParams(t *testing.T) {
	stdout, stderr, code := runCLI(t, "odds", "spot", "--q", "0.05", "--fee", "100", "--cost", "50",
		"--stake", "10000", "--format", "tsv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f := strings.Split(strings.Split(strings.TrimSpace(stdout), "\n")[1], "\t")
	if !strings.HasPrefix(f[5], "46.66") || f[6] != "45" || f[7] != "false" || !strings.HasPrefix(f[8], "0.04838") {
		t.Errorf("row %q: want honest 46.66..., cheat 45, cheating_pays false, min_q 0.04838...", f)
	}
	if _, _, code := runCLI(t, "odds", "spot", "--q", "0.05", "--stake", "10", "--penalty", "5"); code == exitOK {
		t.Error("--stake with --penalty succeeded")
	}
}
