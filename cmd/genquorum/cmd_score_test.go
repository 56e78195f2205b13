package main

import (
	"encoding/json"
	"testing"

	"github.com/genquorum/genquorum/engine/llm"
)

func TestScore(t *testing.T) {
	prompt := []string{"--model", tinyF32, "--prompt", "Once upon a time"}
	tests := []struct {
		name   string
		claim  string
		extra  []string
		code   int
		accept bool
		ranks  []int
	}{
		{"llama.cpp greedy output", "29895 19306 3059 12542 13763", nil, 0, true, []int{0, 0, 0, 0, 0}},
		// 9559 is the runner-up at position 0, 0.052 behind: inside a 0.1 tolerance, outside 0.01.
		{"runner-up within tolerance", "9559", []string{"--tolerance", "0.1"}, 0, true, []int{1}},
		{"runner-up outside tolerance", "9559", []string{"--tolerance", "0.01"}, exitError, false, []int{1}},
		{"tampered token", "29895 19306 14290", nil, exitError, false, []int{0, 0, 1}},
	}
	for _, tt := range tests {
		args := append(append([]string{"score"}, prompt...), "--claim-ids", tt.claim, "--format", "json")
		stdout, stderr, code := runCLI(t, append(args, tt.extra...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d (%s)", tt.name, code, tt.code, stderr)
			continue
		}
		var out llm.ScoreReport
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if out.Accept != tt.accept || len(out.Tokens) != len(tt.ranks) {
			t.Errorf("%s: accept %v with %d tokens, want %v, %d", tt.name, out.Accept, len(out.Tokens), tt.accept, len(tt.ranks))
			continue
		}
		for i, r := range tt.ranks {
			if out.Tokens[i].Rank != r {
				t.Errorf("%s: token %d rank %d, want %d", tt.name, i, out.Tokens[i].Rank, r)
			}
		}
	}
	if _, _, code := runCLI(t, "score", "--model", tinyF32, "--prompt", "x"); code != exitUsage {
		t.Errorf("score without --claim-ids: exit %d, want %d", code, exitUsage)
	}
}

// TestScoreSample generates a seeded sample with the CLI and verifies it with score.
func TestScoreSample(t *testing.T) {
	gen := []string{"generate", "text", "--model", tinyF32, "--prompt", "Hello", "--max-tokens", "10",
		"--decode", "sample", "--temperature", "1", "--top-k", "50", "--top-p", "0.95", "--seed", "11", "--format", "json"}
	stdout, stderr, code := runCLI(t, gen...)
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	var g llm.GenerateReport
	if err := json.Unmarshal([]byte(stdout), &g); err != nil {
		t.Fatal(err)
	}
	claim := idsArg(g.GeneratedIDs)
	score := []string{"score", "--model", tinyF32, "--prompt", "Hello", "--claim-ids", claim, "--decode", "sample",
		"--temperature", "1", "--top-k", "50", "--top-p", "0.95", "--profile", "cpu-avx512"}
	if _, stderr, code := runCLI(t, append(score, "--seed", "11")...); code != 0 {
		t.Errorf("verify own sample under another profile: exit %d: %s", code, stderr)
	}
	if _, _, code := runCLI(t, append(score, "--seed", "12")...); code != exitError {
		t.Errorf("verify with the wrong seed: exit %d, want %d", code, exitError)
	}
}
