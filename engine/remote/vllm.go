package remote

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// vLLM's teacher-forced scoring: POST /v1/completions with the prompt as token ids (prompt +
// claim), max_tokens 1 and prompt_logprobs N. Shapes: vLLM
// vllm/entrypoints/openai/protocol.py (CompletionRequest.prompt_logprobs: "list[int]" prompts
// accepted; CompletionResponseChoice.prompt_logprobs: list[dict[int, Logprob] | None]),
// vllm/logprobs.py (Logprob: logprob, rank >= 1, decoded_token) and
// vllm/entrypoints/openai/serving_completion.py (prompt_logprobs copied from the request
// output; the first prompt position has none). JSON object keys are the token ids as strings.

// vllmLogprob is one value of a prompt_logprobs position: the token's log-prob and its rank
// in the vocabulary (1 for the argmax). A null logprob (vLLM serialises -inf as null or
// clamps it to -9999) reads as -Inf.
type vllmLogprob struct {
	Logprob *float64 `json:"logprob"`
	Rank    *int     `json:"rank"`
}

// vllmScoreAnswer is the part of the scoring answer the adapter reads.
type vllmScoreAnswer struct {
	Choices []struct {
		PromptLogprobs []map[string]vllmLogprob `json:"prompt_logprobs"`
		PromptTokenIDs []int32                  `json:"prompt_token_ids"` // vLLM 0.10.2+, with return_token_ids
	} `json:"choices"`
}

// parseVLLMScore reads the teacher-forced evaluation of the last len(claim) ids of input
// (prompt + claim) from a /v1/completions answer with prompt_logprobs: one entry per input
// position (the first null), each holding the input token and the top-N alternatives.
func parseVLLMScore(b []byte, input []int32, nClaim int) ([]TokenScore, error) {
	var r vllmScoreAnswer
	if err := decodeJSON(b, "/v1/completions", &r); err != nil {
		return nil, err
	}
	if len(r.Choices) != 1 {
		return nil, fmt.Errorf("%w: /v1/completions gave %d choices, want 1", ErrBadResponse, len(r.Choices))
	}
	ch := r.Choices[0]
	if ch.PromptLogprobs == nil {
		return nil, fmt.Errorf("%w: /v1/completions gave no prompt_logprobs (a server other than vLLM?)", ErrBadResponse)
	}
	if len(ch.PromptLogprobs) != len(input) {
		return nil, fmt.Errorf("%w: /v1/completions gave prompt_logprobs for %d positions, the input has %d ids", ErrBadResponse, len(ch.PromptLogprobs), len(input))
	}
	if ch.PromptTokenIDs != nil && !slices.Equal(ch.PromptTokenIDs, input) {
		return nil, fmt.Errorf("%w: /v1/completions prompt_token_ids differ from the ids sent", ErrBadResponse)
	}
	from := len(input) - nClaim
	if nClaim <= 0 || from < 1 {
		return nil, fmt.Errorf("%w: %d claimed ids after %d prompt ids", ErrBadResponse, nClaim, from)
	}
	out := make([]TokenScore, nClaim)
	for i := range nClaim {
		id := input[from+i]
		pos := ch.PromptLogprobs[from+i]
		mine, ok := pos[strconv.Itoa(int(id))]
		if !ok {
			return nil, fmt.Errorf("%w: /v1/completions prompt_logprobs at claimed token %d lack its id %d", ErrBadResponse, i, id)
		}
		alts := make([]TokenLogProb, 0, len(pos))
		for k, v := range pos {
			n, err := strconv.ParseInt(k, 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: /v1/completions prompt_logprobs key %q: want a token id", ErrBadResponse, k)
			}
			alts = append(alts, TokenLogProb{ID: int32(n), LogProb: vllmValue(v)})
		}
		s, err := scoreFromTop(id, vllmValue(mine), alts)
		if err != nil {
			return nil, fmt.Errorf("%w: /v1/completions claimed token %d: %w", ErrBadResponse, i, err)
		}
		if mine.Rank != nil && *mine.Rank >= 1 {
			s.Rank = *mine.Rank - 1 // vLLM counts from 1 (ties: tokens with a strictly larger log-prob)
		}
		out[i] = s
	}
	return out, nil
}

func vllmValue(v vllmLogprob) float64 {
	if v.Logprob == nil {
		return math.Inf(-1)
	}
	return *v.Logprob
}

// vllmScoreRequest is the scoring body of POST /v1/completions.
type vllmScoreRequest struct {
	Model          string  `json:"model"`
	Prompt         []int32 `json:"prompt"`
	MaxTokens      int     `json:"max_tokens"`
	Temperature    float32 `json:"temperature"`
	N              int     `json:"n"`
	Stream         bool    `json:"stream"`
	PromptLogprobs int     `json:"prompt_logprobs"`
}

// vllmScore scores claim after prompt with one /v1/completions (one token generated and
// discarded; greedy, so the log-probs are the model's own: vLLM's prompt log-probs are taken
// before temperature, and greedy runs at temperature 1 in vLLM's V0 engine).
func (o *openAI) vllmScore(ctx context.Context, prompt, claim []int32, topN int) ([]TokenScore, error) {
	in := make([]int32, 0, len(prompt)+len(claim))
	in = append(append(in, prompt...), claim...)
	b, err := o.c.do(ctx, "POST", "/v1/completions", vllmScoreRequest{Model: o.sp.Model, Prompt: in, MaxTokens: 1, N: 1, PromptLogprobs: topN})
	if err != nil {
		return nil, err
	}
	return parseVLLMScore(b, in, len(claim))
}

// vllmPromptIDs tokenizes a text prompt as vLLM's /v1/completions does (POST /tokenize with
// add_special_tokens true, vLLM's default for completions).
func (o *openAI) vllmPromptIDs(ctx context.Context, text string) ([]int32, error) {
	var r struct {
		Tokens []int32 `json:"tokens"`
		Count  *int    `json:"count"`
	}
	if err := o.c.postJSON(ctx, "/tokenize", map[string]any{"model": o.sp.Model, "prompt": text, "add_special_tokens": true}, &r); err != nil {
		return nil, err
	}
	if len(r.Tokens) == 0 || (r.Count != nil && *r.Count != len(r.Tokens)) {
		return nil, fmt.Errorf("%w: /tokenize gave %d tokens (count %v) for the prompt", ErrBadResponse, len(r.Tokens), r.Count)
	}
	return r.Tokens, nil
}
