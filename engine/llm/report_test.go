package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// TestGenerateReport: the report carries the generation's ids, text and per-step numbers,
// under the JSON keys of llama.cpp's reference data.
func TestGenerateReport(t *testing.T) {
	m, err := Load("../../testdata/llamacpp/models/tiny-llama-a-f32.gguf", "")
	if err != nil {
		t.Fatal(err)
	}
	prompt := m.Tok.Encode("Once upon a time", true, true)
	p := Params{Decode: DecodeGreedy, MaxTokens: 3, TopN: 2}
	res, err := m.Generate(t.Context(), prompt, p, tensor.Exact)
	if err != nil {
		t.Fatal(err)
	}
	r := NewGenerateReport(m, tensor.Exact, p, res)
	if r.Model != m.Name || r.ModelDigest != fmt.Sprintf("%x", m.Digest) || r.Profile != "exact" || r.Decode != DecodeGreedy ||
		r.GeneratedText != res.Text || len(r.GeneratedIDs) != 3 || len(r.Top5) != 3 || len(r.Top5[0]) != 2 || len(r.Margin) != 3 {
		t.Fatalf("report = %+v; want the 3-token generation with 2 alternatives per position", r)
	}
	for i, s := range res.Steps {
		if r.Top5[i][0][0] != s.Top[0].ID || r.Margin[i] != float64(s.Margin) || r.LogProbs[i] != float64(s.LogProb) {
			t.Errorf("position %d: top %v, margin %v, logprob %v; want %v, %v, %v", i, r.Top5[i][0], r.Margin[i], r.LogProbs[i],
				s.Top[0].ID, s.Margin, s.LogProb)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"prompt_ids":`, `"generated_ids":`, `"generated_text":`, `"top5":[[[`, `"margin":`, `"sum_logprob":`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

// TestScoreReportText: one line per claimed token, then the verdict, accepted or not.
func TestScoreReportText(t *testing.T) {
	r := ScoreReport{Decode: DecodeGreedy, Tolerance: 0.5, Profile: "exact", Accept: true,
		Tokens: []ScoredToken{{ID: 42, LogProb: -1.25, Rank: 0, Margin: 0.5}, {ID: 7, LogProb: -3, Rank: 2, Margin: -0.125}}}
	want := "" +
		" pos     id      logprob   rank     margin\n" +
		"   0     42    -1.250000      0    0.50000\n" +
		"   1      7    -3.000000      2   -0.12500\n" +
		"verdict: accept (greedy, tolerance 0.5, profile exact)\n"
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil || buf.String() != want {
		t.Errorf("WriteText = %q, %v; want %q", buf.String(), err, want)
	}
	r.Accept, r.FirstReject, r.Reason = false, 1, "token 1 trails the argmax"
	buf.Reset()
	if err := r.WriteText(&buf); err != nil || !strings.HasSuffix(buf.String(), "verdict: reject at token 1: token 1 trails the argmax\n") {
		t.Errorf("WriteText of a rejection = %q, %v", buf.String(), err)
	}
}
