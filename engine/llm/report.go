package llm

import (
	"fmt"
	"io"

	"github.com/genquorum/genquorum/tensor"
)

// GenerateReport is a generation in the layout of llama.cpp's reference data (prompt_ids,
// generated_ids, generated_text, top5 per position as [[id, logprob], ...], margin) plus the
// model, profile and decoding that made it: the JSON output of genquorum generate text.
type GenerateReport struct {
	Model         string     `json:"model"`
	ModelDigest   string     `json:"model_digest"` // lower-case hex
	Profile       string     `json:"profile"`
	Decode        string     `json:"decode"`
	Seed          uint64     `json:"seed"`
	PromptIDs     []int32    `json:"prompt_ids"`
	GeneratedIDs  []int32    `json:"generated_ids"`
	GeneratedText string     `json:"generated_text"`
	Top5          [][][2]any `json:"top5"` // per position, Params.TopN pairs [id, logprob]
	Margin        []float64  `json:"margin"`
	LogProbs      []float64  `json:"logprobs"`
	SumLogProb    float64    `json:"sum_logprob"`
}

// NewGenerateReport returns the report of res, which m generated with p under prof. It shares
// res's id slices.
func NewGenerateReport(m *Model, prof tensor.Profile, p Params, res *Result) GenerateReport {
	r := GenerateReport{Model: m.Name, ModelDigest: fmt.Sprintf("%x", m.Digest), Profile: prof.Name,
		Decode: p.Decode, Seed: p.Seed, PromptIDs: res.Prompt, GeneratedIDs: res.Tokens, GeneratedText: res.Text,
		SumLogProb: res.Score}
	for _, s := range res.Steps {
		var top [][2]any
		for _, tp := range s.Top {
			top = append(top, [2]any{tp.ID, float64(tp.LogProb)})
		}
		r.Top5 = append(r.Top5, top)
		r.Margin = append(r.Margin, float64(s.Margin))
		r.LogProbs = append(r.LogProbs, float64(s.LogProb))
	}
	return r
}

// ScoredToken is one claimed token of a ScoreReport (see Scored).
type ScoredToken struct {
	ID      int32   `json:"id"`
	LogProb float64 `json:"logprob"`
	Rank    int     `json:"rank"`
	Margin  float64 `json:"margin"`
}

// ScoreReport is a verifier's verdict on a claimed continuation with the teacher-forced
// evaluation of each claimed token: the output of genquorum score.
type ScoreReport struct {
	Model       string        `json:"model"`
	ModelDigest string        `json:"model_digest"` // lower-case hex
	Profile     string        `json:"profile"`
	Decode      string        `json:"decode"` // DecodeGreedy or DecodeSample
	Tolerance   float64       `json:"tolerance"`
	PromptIDs   []int32       `json:"prompt_ids"`
	Tokens      []ScoredToken `json:"tokens"`
	Accept      bool          `json:"accept"`
	FirstReject int           `json:"first_reject"`
	Reason      string        `json:"reason,omitempty"`
}

// NewScoreReport returns the report of verdict v, given under prof with tolerance tol by the
// decode verifier, on a claim as a continuation of prompt, whose tokens m scored as sc. It
// shares prompt.
func NewScoreReport(m *Model, prof tensor.Profile, decode string, tol float64, prompt []int32, sc []Scored, v *Verdict) ScoreReport {
	r := ScoreReport{Model: m.Name, ModelDigest: fmt.Sprintf("%x", m.Digest), Profile: prof.Name, Decode: decode,
		Tolerance: tol, PromptIDs: prompt, Accept: v.Accept, FirstReject: v.FirstReject, Reason: v.Reason}
	for _, s := range sc {
		r.Tokens = append(r.Tokens, ScoredToken{s.ID, float64(s.LogProb), s.Rank, float64(s.Margin)})
	}
	return r
}

// WriteText writes r for people: a table of position, id, log-prob, rank and margin, then
// the verdict.
func (r ScoreReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%4s %6s %12s %6s %10s\n", "pos", "id", "logprob", "rank", "margin")
	for i, s := range r.Tokens {
		fmt.Fprintf(w, "%4d %6d %12.6f %6d %10.5f\n", i, s.ID, s.LogProb, s.Rank, s.Margin)
	}
	var err error
	if r.Accept {
		_, err = fmt.Fprintf(w, "verdict: accept (%s, tolerance %g, profile %s)\n", r.Decode, r.Tolerance, r.Profile)
	} else {
		_, err = fmt.Fprintf(w, "verdict: reject at token %d: %s\n", r.FirstReject, r.Reason)
	}
	return err
}
