package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/genquorum/genquorum/engine"
)

// SGLang's native POST /generate (the openai adapter's api=native, and its scoring on
// server=sglang). Shapes: docs.sglang.io "Sampling Parameters" (the /generate arguments,
// io_struct.py GenerateReqInput: text or input_ids, sampling_params, return_logprob,
// logprob_start_len, top_logprobs_num, return_text_in_logprobs) and SGLang's
// python/sglang/srt/managers/tokenizer_manager.py (the answer: text, output_ids, meta_info with
// finish_reason, prompt_tokens, completion_tokens and, with return_logprob, the
// input_/output_token_logprobs as [logprob, token_id, text|null] triples and the
// input_/output_top_logprobs as lists of such triples per position, null where none).

// sglangSampling is the sampling_params object of /generate. SGLang builds its SamplingParams
// from it by keyword, so only long-standing keys are sent (an unknown key fails the request).
type sglangSampling struct {
	MaxNewTokens int      `json:"max_new_tokens"`
	Temperature  float32  `json:"temperature"`
	TopP         float32  `json:"top_p"`
	TopK         int      `json:"top_k"`
	Stop         []string `json:"stop"`
	SamplingSeed *uint64  `json:"sampling_seed,omitempty"` // sampled tasks only (SGLang 0.5 deterministic inference)
}

// sglangRequest is the body of POST /generate; exactly one of Text and InputIDs is set.
type sglangRequest struct {
	Text            string         `json:"text,omitempty"`
	InputIDs        []int32        `json:"input_ids,omitempty"`
	SamplingParams  sglangSampling `json:"sampling_params"`
	ReturnLogprob   bool           `json:"return_logprob"`
	LogprobStartLen int            `json:"logprob_start_len"`
	TopLogprobsNum  int            `json:"top_logprobs_num"`
	ReturnText      bool           `json:"return_text_in_logprobs"`
	Stream          bool           `json:"stream"`
}

// sglangTok is one [logprob, token_id, text] triple of SGLang's logprob lists; the logprob is
// null where SGLang has none (the first input position) and is then NaN here.
type sglangTok struct {
	LogProb float64
	ID      int32
}

func (t *sglangTok) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("logprob entry of %d fields, want [logprob, token_id, text]", len(parts))
	}
	var lp *float64
	if err := json.Unmarshal(parts[0], &lp); err != nil {
		return fmt.Errorf("logprob entry: %w", err)
	}
	var id int64
	if err := json.Unmarshal(parts[1], &id); err != nil {
		return fmt.Errorf("logprob entry token id: %w", err)
	}
	if id < 0 || id > math.MaxInt32 {
		return fmt.Errorf("logprob entry token id %d", id)
	}
	t.LogProb, t.ID = math.NaN(), int32(id)
	if lp != nil {
		t.LogProb = *lp
	}
	return nil
}

// sglangAnswer is the part of a /generate answer the adapter reads.
type sglangAnswer struct {
	Text      *string  `json:"text"`
	OutputIDs *[]int32 `json:"output_ids"` // SGLang 0.4.x and later
	Meta      *struct {
		FinishReason *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"finish_reason"`
		PromptTokens     int           `json:"prompt_tokens"`
		CompletionTokens int           `json:"completion_tokens"`
		InputLogprobs    []sglangTok   `json:"input_token_logprobs"`
		OutputLogprobs   []sglangTok   `json:"output_token_logprobs"`
		InputTop         [][]sglangTok `json:"input_top_logprobs"`
		OutputTop        [][]sglangTok `json:"output_top_logprobs"`
	} `json:"meta_info"`
}

// sglangResult is what parseSGLangGenerate finds in a generation answer.
type sglangResult struct {
	text    string
	ids     []int32
	margins []float32
	finish  string
	prompt  int // meta_info.prompt_tokens
}

// parseSGLangGenerate decodes a /generate answer to one request made with return_logprob and
// top_logprobs_num: the generated ids (output_ids, or the ids of output_token_logprobs; both
// must agree when both are given, and with completion_tokens), the text, and the margins.
func parseSGLangGenerate(b []byte) (*sglangResult, error) {
	a, err := decodeSGLang(b)
	if err != nil {
		return nil, err
	}
	m := a.Meta
	if a.Text == nil {
		return nil, fmt.Errorf("%w: /generate: no text", ErrBadResponse)
	}
	if len(m.OutputLogprobs) != m.CompletionTokens {
		return nil, fmt.Errorf("%w: /generate gave %d output logprobs for %d completion tokens (was return_logprob ignored?)",
			ErrBadResponse, len(m.OutputLogprobs), m.CompletionTokens)
	}
	res := &sglangResult{text: *a.Text, ids: make([]int32, len(m.OutputLogprobs)), prompt: m.PromptTokens}
	for i, t := range m.OutputLogprobs {
		res.ids[i] = t.ID
	}
	if a.OutputIDs != nil {
		out := *a.OutputIDs
		if len(out) != len(res.ids) {
			return nil, fmt.Errorf("%w: /generate gave %d output_ids and %d output logprobs", ErrBadResponse, len(out), len(res.ids))
		}
		for i := range out {
			if out[i] != res.ids[i] {
				return nil, fmt.Errorf("%w: /generate output_ids[%d] = %d, its logprob entry says %d", ErrBadResponse, i, out[i], res.ids[i])
			}
		}
	}
	if m.FinishReason != nil {
		res.finish = m.FinishReason.Type
		if res.finish == "abort" {
			return nil, fmt.Errorf("%w: /generate aborted the request: %s", ErrBadResponse, m.FinishReason.Message)
		}
	}
	if len(m.OutputTop) == len(res.ids) {
		tops := make([][]float64, len(m.OutputTop))
		for i, pos := range m.OutputTop {
			for _, t := range pos {
				if !math.IsNaN(t.LogProb) {
					tops[i] = append(tops[i], t.LogProb)
				}
			}
		}
		res.margins = margins(tops)
	}
	return res, nil
}

func decodeSGLang(b []byte) (*sglangAnswer, error) {
	var a sglangAnswer
	if err := decodeJSON(b, "/generate", &a); err != nil {
		return nil, err
	}
	if a.Meta == nil {
		return nil, fmt.Errorf("%w: /generate: no meta_info (not an SGLang server?)", ErrBadResponse)
	}
	return &a, nil
}

// parseSGLangScore reads the teacher-forced evaluation of claim from a /generate answer to
// input_ids = prompt + claim with return_logprob, logprob_start_len = len(prompt)-1 and
// top_logprobs_num > 0. SGLang returns one entry per input position from logprob_start_len
// on, the first with a null logprob (the logits of a position score the next token), so entry
// j >= 1 scores claim[j-1]; each entry's id must be the input's. (SGLang's scheduler reports
// ids >= vocab_size-1 as 0 in these entries; a claim holding the last vocabulary id therefore
// reads as a mismatch, a bad response, on which the Verifier abstains.)
func parseSGLangScore(b []byte, prompt, claim []int32) ([]TokenScore, error) {
	a, err := decodeSGLang(b)
	if err != nil {
		return nil, err
	}
	m := a.Meta
	if m.FinishReason != nil && m.FinishReason.Type == "abort" {
		return nil, fmt.Errorf("%w: /generate aborted the request: %s", ErrBadResponse, m.FinishReason.Message)
	}
	n := len(claim) + 1
	if len(m.InputLogprobs) != n || len(m.InputTop) != n {
		return nil, fmt.Errorf("%w: /generate gave %d input logprobs and %d top lists for %d scored positions (logprob_start_len ignored?)",
			ErrBadResponse, len(m.InputLogprobs), len(m.InputTop), n)
	}
	if got := m.InputLogprobs[0].ID; got != prompt[len(prompt)-1] {
		return nil, fmt.Errorf("%w: /generate input logprob 0 is for token %d, want the prompt's last (%d)", ErrBadResponse, got, prompt[len(prompt)-1])
	}
	out := make([]TokenScore, len(claim))
	for i, id := range claim {
		e := m.InputLogprobs[i+1]
		if e.ID != id {
			return nil, fmt.Errorf("%w: /generate input logprob %d is for token %d, the claim has %d", ErrBadResponse, i+1, e.ID, id)
		}
		if math.IsNaN(e.LogProb) {
			return nil, fmt.Errorf("%w: /generate gave no logprob for claimed token %d", ErrBadResponse, i)
		}
		alts := make([]TokenLogProb, 0, len(m.InputTop[i+1]))
		for _, t := range m.InputTop[i+1] {
			if math.IsNaN(t.LogProb) {
				return nil, fmt.Errorf("%w: /generate top logprob without a value at claimed token %d", ErrBadResponse, i)
			}
			alts = append(alts, TokenLogProb{ID: t.ID, LogProb: t.LogProb})
		}
		s, err := scoreFromTop(id, e.LogProb, alts)
		if err != nil {
			return nil, fmt.Errorf("%w: /generate claimed token %d: %w", ErrBadResponse, i, err)
		}
		out[i] = s
	}
	return out, nil
}

// sglangRun generates t with POST /generate (api=native): ids are exact (the server's own).
func (o *openAI) sglangRun(ctx context.Context, t engine.Task, temp float32, topK int, topP float32) (*engine.Artifact, error) {
	req := sglangRequest{Text: t.Prompt, InputIDs: t.Text.PromptIDs, ReturnLogprob: true, LogprobStartLen: -1,
		TopLogprobsNum: o.nProbs, SamplingParams: sglangSampling{MaxNewTokens: t.Text.MaxTokens, Temperature: temp,
			TopP: topP, TopK: -1, Stop: []string{}}}
	if len(req.InputIDs) > 0 {
		req.Text = ""
	}
	if topK > 0 {
		req.SamplingParams.TopK = topK
	}
	if temp > 0 {
		seed := t.Seed
		req.SamplingParams.SamplingSeed = &seed
	}
	b, err := o.c.do(ctx, "POST", "/generate", req)
	if err != nil {
		return nil, err
	}
	res, err := parseSGLangGenerate(b)
	if err != nil {
		return nil, err
	}
	info := map[string]string{"ids": "exact (SGLang /generate output ids)", "finish_reason": res.finish, "prompt_ids": strconv.Itoa(res.prompt)}
	return &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: []byte(res.text), Tokens: res.ids, Margins: res.margins, Info: info}, nil
}

// sglangPromptIDs returns SGLang's own tokenization of text (as /generate and /v1/completions
// tokenize a text prompt): a /generate of one token with return_logprob from position 0, whose
// input_token_logprobs carry every prompt id.
func (o *openAI) sglangPromptIDs(ctx context.Context, text string) ([]int32, error) {
	req := sglangRequest{Text: text, ReturnLogprob: true, LogprobStartLen: 0,
		SamplingParams: sglangSampling{MaxNewTokens: 1, TopK: -1, TopP: 1, Stop: []string{}}}
	b, err := o.c.do(ctx, "POST", "/generate", req)
	if err != nil {
		return nil, err
	}
	a, err := decodeSGLang(b)
	if err != nil {
		return nil, err
	}
	if len(a.Meta.InputLogprobs) == 0 || len(a.Meta.InputLogprobs) != a.Meta.PromptTokens {
		return nil, fmt.Errorf("%w: /generate gave %d input logprobs for %d prompt tokens", ErrBadResponse, len(a.Meta.InputLogprobs), a.Meta.PromptTokens)
	}
	ids := make([]int32, len(a.Meta.InputLogprobs))
	for i, t := range a.Meta.InputLogprobs {
		ids[i] = t.ID
	}
	return ids, nil
}

// sglangScore scores claim after prompt with one /generate (one extra token generated and
// discarded: the request asks for the input positions' logprobs).
func (o *openAI) sglangScore(ctx context.Context, prompt, claim []int32, topN int) ([]TokenScore, error) {
	in := make([]int32, 0, len(prompt)+len(claim))
	in = append(append(in, prompt...), claim...)
	req := sglangRequest{InputIDs: in, ReturnLogprob: true, LogprobStartLen: len(prompt) - 1, TopLogprobsNum: topN,
		SamplingParams: sglangSampling{MaxNewTokens: 1, TopK: -1, TopP: 1, Stop: []string{}}}
	b, err := o.c.do(ctx, "POST", "/generate", req)
	if err != nil {
		return nil, err
	}
	return parseSGLangScore(b, prompt, claim)
}
