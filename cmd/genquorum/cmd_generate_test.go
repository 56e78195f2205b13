package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine/llm"
)

const tinyF32 = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"

// TestGenerateTextMatchesLlamaCpp runs the CLI on the first greedy.jsonl record of the f32
// model and compares ids, text and top-5 log-probs.
func TestGenerateTextMatchesLlamaCpp(t *testing.T) {
	f, err := os.Open("../../testdata/llamacpp/greedy.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ref struct {
		Prompt       string        `json:"prompt"`
		PromptIDs    []int32       `json:"prompt_ids"`
		GeneratedIDs []int32       `json:"generated_ids"`
		Text         string        `json:"generated_text"`
		Top5         [][][]float64 `json:"top5"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	if err := json.Unmarshal(sc.Bytes(), &ref); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--prompt", ref.Prompt},
		{"--prompt-ids", idsArg(ref.PromptIDs)},
	} {
		args = append([]string{"generate", "text", "--model", tinyF32, "--decode", "greedy", "--max-tokens", "30", "--seed", "1", "--profile", "exact", "--format", "json"}, args...)
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got llm.GenerateReport
		var raw struct {
			Top5 [][][]float64 `json:"top5"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
			t.Fatal(err)
		}
		if jsonString(got.PromptIDs) != jsonString(ref.PromptIDs) || jsonString(got.GeneratedIDs) != jsonString(ref.GeneratedIDs) || got.GeneratedText != ref.Text {
			t.Errorf("generate %v:\n got %v %v %q\nwant %v %v %q", args, got.PromptIDs, got.GeneratedIDs, got.GeneratedText, ref.PromptIDs, ref.GeneratedIDs, ref.Text)
		}
		for i := range ref.Top5 {
			for j := range ref.Top5[i] {
				if raw.Top5[i][j][0] != ref.Top5[i][j][0] || math.Abs(raw.Top5[i][j][1]-ref.Top5[i][j][1]) > 1e-3 {
					t.Errorf("pos %d entry %d: %v, llama.cpp %v", i, j, raw.Top5[i][j], ref.Top5[i][j])
				}
			}
		}
	}
}

// idsArg formats ids as a --prompt-ids / --claim-ids value.
func idsArg(ids []int32) string {
	return strings.ReplaceAll(strings.Trim(jsonString(ids), "[]"), ",", " ")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGenerateTextModes(t *testing.T) {
	base := []string{"generate", "text", "--model", tinyF32, "--prompt", "Hello", "--max-tokens", "8"}
	sample := append(base[:len(base):len(base)], "--decode", "sample", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9", "--seed", "3")
	a, _, code := runCLI(t, sample...)
	b, _, _ := runCLI(t, sample...)
	if code != 0 || a != b || a == "" {
		t.Errorf("seeded sample: exit %d, outputs %q and %q, want equal and non-empty", code, a, b)
	}
	if _, stderr, code := runCLI(t, append(base[:len(base):len(base)], "--decode", "beam:3")...); code != 0 {
		t.Errorf("beam:3: exit %d: %s", code, stderr)
	}
	bad := []struct {
		args []string
		code int
	}{
		{[]string{"generate", "text", "--model", tinyF32, "--max-tokens", "3"}, exitUsage},                            // no prompt
		{append(base[:len(base):len(base)], "--decode", "beam:0"), exitUsage},                                         // bad beam
		{append(base[:len(base):len(base)], "--profile", "no-such"), exitUsage},                                       // profile
		{[]string{"generate", "text", "--model", "no-such-model", "--prompt", "x"}, exitError},                        // model
		{append(base[:len(base):len(base)], "--max-tokens", "5000"), exitError},                                       // context
		{[]string{"generate", "text", "--model", tinyF32, "--prompt-ids", "1 99999", "--max-tokens", "2"}, exitError}, // id
	}
	for _, tt := range bad {
		if _, stderr, code := runCLI(t, tt.args...); code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, code, tt.code, stderr)
		}
	}
}

func TestGenerateModelByName(t *testing.T) {
	t.Setenv("GENQUORUM_MODELS", "../../testdata/llamacpp/models")
	stdout, stderr, code := runCLI(t, "generate", "text", "--model", "tiny-llama-a-f32", "--prompt-ids", "1 9038 2501 263 931", "--max-tokens", "3", "--format", "json")
	if code != 0 || !strings.Contains(stdout, `"generated_ids":[29895,19306,3059]`) {
		t.Errorf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}
