package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestTyposExitUsage: a mistyped value is rejected at start with exit 2 and a message naming
// the flag, before any model is loaded, network started or long job run.
func TestTyposExitUsage(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"node", "--home", dir, "--profile", "gpu"}, `--profile "gpu": unknown profile (known: exact,`},
		{[]string{"demo", "--profiles", "bogus"}, `--profiles "bogus": unknown profile`},
		{[]string{"demo", "--in-flight", "0"}, "--in-flight 0"},
		{[]string{"demo", "--min-commit-seconds", "-1"}, "--min-commit-seconds -1"},
		{[]string{"demo", "--json", missing + ".json"}, "--json: open " + missing},
		{[]string{"demo", "--json", dir}, "--json: write " + dir + ": not a regular file: directory"},
		{[]string{"generate", "text", "--model", "x", "--prompt", "a", "--top-p", "5"}, "--top-p 5: want a probability in [0, 1]"},
		{[]string{"score", "--model", "x", "--prompt", "a", "--claim-ids", "1", "--tolerance", "-1"}, "--tolerance -1: want 0 or more"},
		{[]string{"score", "--model", "x", "--prompt", "a", "--claim-ids", "1", "--top-p", "1.5"}, "--top-p 1.5"},
		{[]string{"hash", "--workers", "-1", dir}, "--workers -1: want 0 or more"},
		{[]string{"consensus", "--workers", "-1", "--group-by", "(x)", dir}, "--workers -1"},
		{[]string{"collisions", "--workers", "-1", "--synthetic", "2x2"}, "--workers -1"},
		{[]string{"odds", "--p", "0:0.9,1:0.95", "--plot", missing + ".svg"}, "--plot: open " + missing},
		{[]string{"odds", "--p", "0:0.9,1:0.95", "--plot", dir + "/f.txt"}, "want a .svg or .png"},
		{[]string{"odds", "attack", "--p", "2/1", "--collision", "0.001"}, `--p "2/1": want a probability in [0, 1]`},
		{[]string{"odds", "attack", "--collision", "0.001"}, `--p: required`},
		{[]string{"odds", "estimate", "--trials", "3"}, `required flag(s) "successes" not set`},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.msg) {
			t.Errorf("genquorum %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.msg)
		}
	}
}

// TestOddsAttackFractions: odds attack takes the fractions odds --p takes, with the same value
// as the decimal.
func TestOddsAttackFractions(t *testing.T) {
	frac, stderr, code := runCLI(t, "odds", "attack", "--p", "977/1000", "--collision", "267/1000000", "--format", "tsv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dec, _, _ := runCLI(t, "odds", "attack", "--p", "0.977", "--collision", "0.000267", "--format", "tsv")
	if frac != dec {
		t.Errorf("fractions gave\n%s\ndecimals gave\n%s", frac, dec)
	}
}

// walk calls fn for every command of the tree under c.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestHelpNoSentinelDefaults: no flag shows a sentinel such as "(default -1)" in --help.
func TestHelpNoSentinelDefaults(t *testing.T) {
	root := newRootCommand(&globalOptions{})
	walk(root, func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.DefValue == "-1" || strings.Contains(f.Usage, "(default -1)") {
				t.Errorf("%s --%s shows the sentinel default -1", c.CommandPath(), f.Name)
			}
		})
	})
}

// TestHelpFacts: help texts state what the code does.
func TestHelpFacts(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		// llm.DefaultGreedyTol and llm.DefaultSampleTol.
		{[]string{"score", "--help"}, []string{"(default 0.5) in log-prob", "(default 0.05) of probability mass",
			"default 0.5 log-prob for greedy, 0.05 mass for sample"}},
		// demo.Run's second round: max(2n-1, n+1) executors.
		{[]string{"demo", "--help"}, []string{"max(2n-1, n+1) executors"}},
		{[]string{"odds", "attack", "--help"}, []string{"fraction"}},
	}
	for _, tt := range tests {
		stdout, _, code := runCLI(t, tt.args...)
		for _, w := range tt.want {
			if code != exitOK || !strings.Contains(stdout, w) {
				t.Errorf("genquorum %s: exit %d, output lacks %q", strings.Join(tt.args, " "), code, w)
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	flag, _, code := runCLI(t, "--version")
	cmd, _, _ := runCLI(t, "version")
	if code != exitOK || flag != cmd || !strings.HasPrefix(flag, "genquorum ") {
		t.Errorf("--version: exit %d, %q; version: %q", code, flag, cmd)
	}
}

// TestVariantBaseBuiltIn: diffusion variant --base takes a built-in name like --model does: with
// --base base it gets past the model and fails only on the missing training data.
func TestVariantBaseBuiltIn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "v.gguf")
	data := filepath.Join(dir, "no-data")
	_, stderr, code := runCLI(t, "diffusion", "variant", "--method", "full", "--base", "base", "--out", out, "--data", data)
	if code == exitOK || !strings.Contains(stderr, data) || strings.Contains(stderr, "model") {
		t.Errorf("--base base: exit %d, stderr %q; want a failure on the data folder only", code, stderr)
	}
	_, stderr, code = runCLI(t, "diffusion", "variant", "--method", "full", "--base", "nosuch", "--out", out, "--data", data)
	if code == exitOK || !strings.Contains(stderr, `model "nosuch"`) {
		t.Errorf("--base nosuch: exit %d, stderr %q", code, stderr)
	}
}

// TestClientQuiet: a client command writes no INFO line by default; --log-level info brings
// them back.
func TestClientQuiet(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "f.svg")
	args := []string{"odds", "--p", "0:0.9,1:0.95", "--plot", plot}
	_, stderr, code := runCLI(t, args...)
	if code != exitOK || stderr != "" {
		t.Errorf("odds --plot: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	_, stderr, _ = runCLI(t, append(args, "--log-level", "info")...)
	if !strings.Contains(stderr, "plot written") {
		t.Errorf("odds --plot --log-level info: stderr %q, want the INFO line", stderr)
	}
	root := newRootCommand(&globalOptions{})
	for path, want := range map[string]bool{"node": true, "serve": true, "testnet": true, "demo": true, "diffusion train": true,
		"submit": false, "task": false, "fetch": false, "odds": false, "hash": false, "diffusion eval": false, "generate image": false} {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := logsInfo(c); got != want {
			t.Errorf("logsInfo(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestDemoFromAnotherDirectory: demo finds its GGUF models when run outside the clone (the
// test binary, like `go install`, records the source tree), and writes --json there.
func TestDemoFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("GENQUORUM_LLM_MODELS", "")
	stdout, stderr, code := runCLI(t, "demo", "--tasks", "2", "--profiles", "exact", "--cheaters", "", "--replicas", "1",
		"--image-model", "", "--max-tokens", "2", "--json", "summary.json")
	if code != exitOK || !strings.Contains(stdout, "2 submitted, 2 settled") {
		t.Fatalf("demo from %s: exit %d, stdout %q, stderr %q", dir, code, stdout, stderr)
	}
	if strings.ContainsRune(stderr, '\r') {
		t.Errorf("demo wrote a progress bar to a non-terminal stderr: %q", stderr)
	}
	t.Setenv("GENQUORUM_LLM_MODELS", filepath.Join(dir, "none"))
	if _, stderr, code := runCLI(t, "demo", "--tasks", "1"); code != exitError || !strings.Contains(stderr, "set GENQUORUM_LLM_MODELS=DIR") {
		t.Errorf("demo with an empty $GENQUORUM_LLM_MODELS: exit %d, stderr %q", code, stderr)
	}
}
