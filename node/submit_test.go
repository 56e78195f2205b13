package node

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenTaskViews are the task views of TestWriteTaskGolden.
var goldenTaskViews = []chain.TaskView{
	{ID: "0a1b2c", Status: "settled", Round: 1, Kind: "text", Model: "tiny", Seed: 42, Rule: "majority", Tolerance: 0, Replicas: 3,
		Value: "text:tokens:1,2,3", Support: 2, Need: 2, Executors: []chain.ExecutorView{
			{Node: "00112233445566778899aabbccddeeff", Outcome: "agreed", Fingerprint: "text:tokens:1,2,3"},
			{Node: "ffeeddccbbaa99887766554433221100", Outcome: "outlier", Fingerprint: "text:tokens:1,2,4"},
			{Node: "0123456789abcdef0123456789abcdef", Outcome: "missed"}}},
	{ID: "ffee", Status: "settled", Kind: "image", Model: "base", Seed: 7, Rule: "supermajority", Tolerance: 2, Replicas: 5,
		Reason: "no value reached the quorum", Support: 1, Need: 4},
	{ID: "01", Status: "open", Kind: "train", Model: "train-base", Rule: "majority", Replicas: 3},
	// An image task under the built-in base model's measured policy: policy and odds lines.
	{ID: "0b", Status: "accepted", Kind: "image", Model: "base", Seed: 9, Rule: "majority", Tolerance: 10, Replicas: 3,
		Value: "c0ffee", Support: 3, Need: 2, Policy: &basePolicyView, Executors: []chain.ExecutorView{
			{Node: "00112233445566778899aabbccddeeff", Outcome: "agreed", Fingerprint: "c0ffee"},
			{Node: "ffeeddccbbaa99887766554433221100", Outcome: "agreed", Fingerprint: "c0ffef"},
			{Node: "0123456789abcdef0123456789abcdef", Outcome: "agreed", Fingerprint: "c0ffee"}}},
}

// basePolicyView is models/diffusion/policy-base.json as the ledger answers it.
var basePolicyView = chain.PolicyView{Model: "base", ModelDigest: "86005ccb1703cc6e52ac10be3f9c8a08e042011fcbea5c6e6f972acf0366fa83",
	Kind: "image", Parts: []ledger.PolicyPart{{Scheme: "image:phash/16", Tolerance: 10}}, TypeIPPM: 1_000_000, TypeIPairs: 1500,
	TypeIIPPM: 0, TypeIIUpper: 20, TypeIIPairs: 149_500, Dataset: "d942863f96380f779a5488502d59e6df34aa457e16868db3312796014de0412d"}

// TestWriteTaskGolden: genquorum submit/task print a task as they did when the code lived in
// cmd/genquorum (testdata/task.*.golden were written by that code).
func TestWriteTaskGolden(t *testing.T) {
	for _, format := range TaskFormats {
		var buf bytes.Buffer
		for _, tv := range goldenTaskViews {
			if err := WriteTask(&buf, format, tv); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join("testdata", "task."+format+".golden")
		if *updateGolden {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s output differs from %s:\n%s", format, path, buf.String())
		}
	}
	var se SpecError
	if err := WriteTask(&bytes.Buffer{}, "xml", goldenTaskViews[0]); !errors.As(err, &se) {
		t.Errorf("format xml: err %v, want a SpecError", err)
	}
}

func TestTaskSpecRequest(t *testing.T) {
	text := TaskSpec{Kind: "text", Prompt: "p", Seed: 3, MaxTokens: 30, Decode: "greedy", Temperature: 1, TopP: 1, Verify: "equal",
		Replicas: 3, Rule: "majority", Fee: 300}
	image := TaskSpec{Kind: "image", Prompt: "p", Seed: 3, Steps: 20, Sampler: "ddim", CFGScale: 3, Verify: "equal", Replicas: 3, Rule: "majority"}
	with := func(s TaskSpec, f func(*TaskSpec)) TaskSpec { f(&s); return s }
	tests := []struct {
		name    string
		spec    TaskSpec
		wantErr string
		check   func(*testing.T, Request)
	}{
		{"spot check", with(text, func(s *TaskSpec) { s.Replicas, s.SpotPPM = 1, 50_000 }), "", func(t *testing.T, r Request) {
			r.Task.Model = engine.ModelRef{Name: "m", Digest: engine.Digest{1}}
			spec, err := r.Spec()
			if err != nil || spec.SpotPPM != 50_000 || spec.Replicas != 1 {
				t.Errorf("spec %+v, %v", spec, err)
			}
		}},
		{"spot check with 3 replicas", with(text, func(s *TaskSpec) { s.SpotPPM = 50_000 }), "--spot-ppm", nil},
		{"spot check over 1e6", with(text, func(s *TaskSpec) { s.Replicas, s.SpotPPM = 1, 1_000_001 }), "--spot-ppm", nil},
		{"text greedy", text, "", func(t *testing.T, r Request) {
			if r.Scheme.String() != "text:tokens" || r.Task.Text.Decode != "greedy" || r.Task.Text.Temperature != 0 || r.ScoreCheck || r.Rule != quorum.Majority {
				t.Errorf("request %+v %+v", r, r.Task.Text)
			}
		}},
		{"text sample score", with(text, func(s *TaskSpec) { s.Decode, s.Temperature, s.TopK, s.TopP, s.Verify = "sample", 0.7, 40, 0.9, "score" }), "",
			func(t *testing.T, r Request) {
				if p := r.Task.Text; p.Temperature != 0.7 || p.TopK != 40 || p.TopP != 0.9 || !r.ScoreCheck {
					t.Errorf("request %+v %+v", r, p)
				}
			}},
		{"sample bad temperature", with(text, func(s *TaskSpec) { s.Decode, s.Temperature = "sample", 0 }), "--decode sample wants", nil},
		{"sample bad top-p", with(text, func(s *TaskSpec) { s.Decode, s.TopP = "sample", 1.5 }), "--decode sample wants", nil},
		{"image", image, "", func(t *testing.T, r Request) {
			if r.Scheme.String() != "image:average_hash/8" || r.Task.Image.Sampler != "ddim" || r.Task.Image.CFGScale != 3 || r.Task.Kind != engine.KindImage {
				t.Errorf("request %+v %+v", r, r.Task.Image)
			}
		}},
		{"image scheme", with(image, func(s *TaskSpec) { s.Scheme = "image:phash/16"; s.Tolerance = 4 }), "", func(t *testing.T, r Request) {
			if r.Scheme.String() != "image:phash/16" || r.Tolerance != 4 {
				t.Errorf("request %+v", r)
			}
		}},
		{"bad sampler", with(image, func(s *TaskSpec) { s.Sampler = "euler-x" }), `--sampler "euler-x"`, nil},
		{"bad kind", with(text, func(s *TaskSpec) { s.Kind = "audio" }), `--kind "audio"`, nil},
		{"bad rule", with(text, func(s *TaskSpec) { s.Rule = "most" }), "--rule", nil},
		{"bad verify", with(text, func(s *TaskSpec) { s.Verify = "maybe" }), `--verify "maybe"`, nil},
		{"bad scheme", with(text, func(s *TaskSpec) { s.Scheme = "nope" }), "--scheme", nil},
		{"train without dataset", TaskSpec{Kind: "train", Prompt: "p", Verify: "equal", Rule: "majority"}, "--dataset", nil},
		{"train", TaskSpec{Kind: "train", Prompt: "p", Verify: "equal", Rule: "majority", Method: "ti", TrainSteps: 20, CheckpointEvery: 10, Dataset: "synthetic:8:1"}, "",
			func(t *testing.T, r Request) {
				if r.Scheme.String() != "vector:simhash/256" || r.Task.Train.Steps != 20 || r.Task.Train.Dataset == ([32]byte{}) {
					t.Errorf("request %+v %+v", r, r.Task.Train)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.spec.Request()
			if tt.wantErr != "" {
				var se SpecError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &se) {
					t.Fatalf("err %v, want a SpecError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestParseTaskID(t *testing.T) {
	id, err := ParseTaskID(strings.Repeat("ab", 32))
	if err != nil || id[0] != 0xab || id[31] != 0xab {
		t.Fatalf("ParseTaskID = %x, %v", id, err)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("ab", 31), strings.Repeat("ab", 33)} {
		if _, err := ParseTaskID(bad); err == nil {
			t.Errorf("ParseTaskID(%q) accepted", bad)
		}
	}
}

func TestNoVerdict(t *testing.T) {
	if err := NoVerdict(chain.TaskView{ID: "ab", Value: "v"}); err != nil {
		t.Errorf("verdict: %v", err)
	}
	if err := NoVerdict(chain.TaskView{ID: "ab", Status: "refunded"}); err == nil || err.Error() != "task ab: no verdict: status refunded" {
		t.Errorf("refunded: %v", err)
	}
}

// TestVerdictOdds checks VerdictOdds against hand calculations for n = 3, majority (need 2):
// a correct verdict has probability 3p^2 - 2p^3; a lone guesser among two honest executors is
// accepted exactly when it lands within tolerance (probability c) and an honest one agrees,
// so at p = 1 the guess passes with probability c; 1500 of 1500 honest pairs give a one-sided
// 95 % lower bound of 0.05^(1/1500).
func TestVerdictOdds(t *testing.T) {
	o, err := VerdictOdds(&basePolicyView, 3, "majority")
	if err != nil {
		t.Fatal(err)
	}
	low := math.Pow(0.05, 1.0/1500)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if o.N != 3 || o.Need != 2 || o.Correct != 1 || !near(o.TypeILow, low) ||
		!near(o.CorrectLow, 3*low*low-2*low*low*low) || !near(o.Guess, 20e-6) {
		t.Errorf("VerdictOdds = %+v; want need 2, correct 1, lower bound %v, correct there %v, guess 2e-05",
			o, low, 3*low*low-2*low*low*low)
	}
	if _, err := VerdictOdds(&basePolicyView, 3, "unanimous"); err == nil {
		t.Error("an unknown rule gave odds")
	}
}
