package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/engine/llm"
)

// defaultSeed is llama.cpp's LLAMA_DEFAULT_SEED, used when a request gives no seed or -1.
const defaultSeed = 4294967295

// errBadRequest is wrapped by every error of a request decoder.
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// promptPart is one element of a prompt array: a token id or a text.
type promptPart struct {
	id     int32
	text   string
	isText bool
}

// completionRequest is a decoded POST /completion body (llama-server's native API).
type completionRequest struct {
	Model        string
	Prompt       []promptPart
	NPredict     int // -1: until end of generation or the server's limit
	Temperature  float32
	TopK         int
	TopP         float32
	Seed         uint64
	NProbs       int
	IgnoreEOS    bool
	ReturnTokens bool
	Stop         []string
	Stream       bool

	model *llm.Model // set by Server.completionRequest
}

// openAIRequest is a decoded POST /v1/completions body.
type openAIRequest struct {
	Model       string
	Prompts     [][]promptPart // one per prompt
	MaxTokens   int            // -1: until end of generation or the server's limit
	Temperature float32
	TopK        int
	TopP        float32
	Seed        uint64
	Logprobs    int // -1: none
	N           int
	Stop        []string
	Stream      bool
	Echo        bool

	model *llm.Model // set by Server.openAIRequest
}

// chatMessage is one message of a chat request.
type chatMessage struct {
	Role    string
	Content string
}

// chatRequest is a decoded POST /v1/chat/completions body.
type chatRequest struct {
	Model       string
	Messages    []chatMessage
	MaxTokens   int // -1: until end of generation or the server's limit
	Temperature float32
	TopK        int
	TopP        float32
	Seed        uint64
	Logprobs    bool
	TopLogprobs int
	N           int
	Stop        []string
	Stream      bool

	model *llm.Model // set by Server.chatRequest
}

// Limits on the stop strings of one request.
const (
	maxStops     = 16
	maxStopBytes = 1024
)

// rawCompletion holds the fields of /completion and /v1/completions before checking.
type rawCompletion struct {
	Model        *string          `json:"model"`
	Prompt       json.RawMessage  `json:"prompt"`
	NPredict     *int             `json:"n_predict"`
	MaxTokens    *int             `json:"max_tokens"`
	Temperature  *float64         `json:"temperature"`
	TopK         *int             `json:"top_k"`
	TopP         *float64         `json:"top_p"`
	Seed         *json.Number     `json:"seed"`
	NProbs       *int             `json:"n_probs"`
	Logprobs     *json.RawMessage `json:"logprobs"`
	N            *int             `json:"n"`
	IgnoreEOS    *bool            `json:"ignore_eos"`
	ReturnTokens *bool            `json:"return_tokens"`
	Stream       *bool            `json:"stream"`
	Stop         json.RawMessage  `json:"stop"`
	Echo         *bool            `json:"echo"`
	// chat
	Messages            json.RawMessage `json:"messages"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	TopLogprobs         *int            `json:"top_logprobs"`
}

// decodeStop parses a stop field: null, a string, or an array of strings (OpenAI's and
// llama-server's forms). Empty strings are dropped, as llama-server never matches them.
func decodeStop(raw json.RawMessage) ([]string, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil, nil
	}
	var list []string
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(b, &list); err != nil {
		return nil, badRequest("stop: want a string or an array of strings")
	}
	var out []string
	for _, w := range list {
		if len(w) > maxStopBytes {
			return nil, badRequest("stop: a string of %d bytes, over the limit of %d", len(w), maxStopBytes)
		}
		if w != "" {
			out = append(out, w)
		}
	}
	if len(out) > maxStops {
		return nil, badRequest("stop: %d strings, over the limit of %d", len(out), maxStops)
	}
	return out, nil
}

// decodeMessages parses a chat request's messages: objects with a role and a content that is
// a string, null, or an array of parts of which the text parts are joined with newlines.
func decodeMessages(raw json.RawMessage) ([]chatMessage, error) {
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badRequest("messages is required")
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, badRequest("messages: want an array of {\"role\", \"content\"} objects")
	}
	if len(msgs) == 0 {
		return nil, badRequest("messages: empty array")
	}
	out := make([]chatMessage, len(msgs))
	for i, m := range msgs {
		if m.Role == "" {
			return nil, badRequest("messages[%d]: no role", i)
		}
		out[i].Role = m.Role
		c := bytes.TrimSpace(m.Content)
		if len(c) == 0 || bytes.Equal(c, []byte("null")) {
			continue
		}
		if err := json.Unmarshal(c, &out[i].Content); err == nil {
			continue
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(c, &parts); err != nil {
			return nil, badRequest("messages[%d].content: want a string or an array of parts", i)
		}
		var texts []string
		for j, p := range parts {
			if p.Type != "text" {
				return nil, badRequest("messages[%d].content[%d]: part type %q, only text is supported", i, j, p.Type)
			}
			texts = append(texts, p.Text)
		}
		out[i].Content = strings.Join(texts, "\n")
	}
	return out, nil
}

// decodeObject unmarshals a JSON object body into v, refusing anything else.
func decodeObject(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return badRequest("body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("invalid JSON: %v", err)
	}
	return nil
}

// common checks the fields every text API shares.
func (r *rawCompletion) common() (model string, temp, topP float32, seed uint64, err error) {
	if r.Model != nil {
		model = *r.Model
	}
	temp = 0.8 // llama-server's default
	if r.Temperature != nil {
		t := *r.Temperature
		if math.IsNaN(t) || math.IsInf(t, 0) || t > 100 {
			return "", 0, 0, 0, badRequest("temperature %v: want a finite number <= 100", t)
		}
		temp = float32(t)
	}
	topP = 0.95 // llama-server's default
	if r.TopP != nil {
		p := *r.TopP
		if !(p >= 0 && p <= 1) {
			return "", 0, 0, 0, badRequest("top_p %v: want 0 <= top_p <= 1", p)
		}
		topP = float32(p)
	}
	seed = defaultSeed
	if r.Seed != nil {
		s, err := parseSeed(*r.Seed)
		if err != nil {
			return "", 0, 0, 0, err
		}
		seed = s
	}
	return model, temp, topP, seed, nil
}

// topK returns a request's top_k: llama-server's default 40 when absent, 0 (every token) when
// not positive, as llama.cpp.
func topK(k *int) int {
	switch {
	case k == nil:
		return 40
	case *k < 0:
		return 0
	}
	return *k
}

// parseSeed accepts a non-negative integer below 2^64, or -1 for the default seed.
func parseSeed(n json.Number) (uint64, error) {
	var u uint64
	if _, err := fmt.Sscan(string(n), &u); err == nil && fmt.Sprint(u) == string(n) {
		return u, nil
	}
	if string(n) == "-1" {
		return defaultSeed, nil
	}
	return 0, badRequest("seed %s: want an integer in [0, 2^64) or -1", string(n))
}

// decodeCompletion decodes and checks a POST /completion body.
func decodeCompletion(body []byte) (completionRequest, error) {
	var r rawCompletion
	if err := decodeObject(body, &r); err != nil {
		return completionRequest{}, err
	}
	model, temp, topP, seed, err := r.common()
	if err != nil {
		return completionRequest{}, err
	}
	req := completionRequest{Model: model, Temperature: temp, TopK: topK(r.TopK), TopP: topP, Seed: seed, NPredict: -1,
		Stream: r.Stream != nil && *r.Stream}
	if req.Stop, err = decodeStop(r.Stop); err != nil {
		return req, err
	}
	if len(r.Prompt) == 0 {
		return req, badRequest("prompt is required")
	}
	prompts, err := decodePrompts(r.Prompt, false)
	if err != nil {
		return req, err
	}
	req.Prompt = prompts[0]
	if r.NPredict != nil {
		req.NPredict = *r.NPredict
		if req.NPredict < -1 {
			return req, badRequest("n_predict %d: want -1 or more", req.NPredict)
		}
	}
	if r.NProbs != nil {
		if req.NProbs = *r.NProbs; req.NProbs < 0 {
			return req, badRequest("n_probs %d: want 0 or more", req.NProbs)
		}
	}
	if r.IgnoreEOS != nil {
		req.IgnoreEOS = *r.IgnoreEOS
	}
	if r.ReturnTokens != nil {
		req.ReturnTokens = *r.ReturnTokens
	}
	return req, nil
}

// decodeOpenAI decodes and checks a POST /v1/completions body.
func decodeOpenAI(body []byte) (openAIRequest, error) {
	var r rawCompletion
	if err := decodeObject(body, &r); err != nil {
		return openAIRequest{}, err
	}
	model, temp, topP, seed, err := r.common()
	if err != nil {
		return openAIRequest{}, err
	}
	req := openAIRequest{Model: model, Temperature: temp, TopK: topK(r.TopK), TopP: topP, Seed: seed, MaxTokens: -1, Logprobs: -1, N: 1,
		Stream: r.Stream != nil && *r.Stream, Echo: r.Echo != nil && *r.Echo}
	if req.Stop, err = decodeStop(r.Stop); err != nil {
		return req, err
	}
	if len(r.Prompt) == 0 {
		return req, badRequest("prompt is required")
	}
	if req.Prompts, err = decodePrompts(r.Prompt, true); err != nil {
		return req, err
	}
	if r.MaxTokens != nil {
		req.MaxTokens = *r.MaxTokens
		if req.MaxTokens < -1 {
			return req, badRequest("max_tokens %d: want -1 or more", req.MaxTokens)
		}
	}
	if r.Logprobs != nil && !bytes.Equal(bytes.TrimSpace(*r.Logprobs), []byte("null")) {
		var lp int
		if err := json.Unmarshal(*r.Logprobs, &lp); err != nil || lp < 0 {
			return req, badRequest("logprobs %s: want a non-negative integer", string(*r.Logprobs))
		}
		req.Logprobs = lp
	}
	if r.N != nil {
		if req.N = *r.N; req.N < 1 {
			return req, badRequest("n %d: want 1 or more", req.N)
		}
	}
	return req, nil
}

// decodeChat decodes and checks a POST /v1/chat/completions body.
func decodeChat(body []byte) (chatRequest, error) {
	var r rawCompletion
	if err := decodeObject(body, &r); err != nil {
		return chatRequest{}, err
	}
	model, temp, topP, seed, err := r.common()
	if err != nil {
		return chatRequest{}, err
	}
	req := chatRequest{Model: model, Temperature: temp, TopK: topK(r.TopK), TopP: topP, Seed: seed, MaxTokens: -1, N: 1,
		Stream: r.Stream != nil && *r.Stream}
	if req.Stop, err = decodeStop(r.Stop); err != nil {
		return req, err
	}
	if req.Messages, err = decodeMessages(r.Messages); err != nil {
		return req, err
	}
	for _, mt := range []*int{r.MaxTokens, r.MaxCompletionTokens} {
		if mt != nil {
			if req.MaxTokens = *mt; req.MaxTokens < -1 {
				return req, badRequest("max_tokens %d: want -1 or more", req.MaxTokens)
			}
		}
	}
	if r.Logprobs != nil && !bytes.Equal(bytes.TrimSpace(*r.Logprobs), []byte("null")) {
		if err := json.Unmarshal(*r.Logprobs, &req.Logprobs); err != nil {
			return req, badRequest("logprobs %s: want true or false", string(*r.Logprobs))
		}
	}
	if r.TopLogprobs != nil {
		if req.TopLogprobs = *r.TopLogprobs; req.TopLogprobs < 0 {
			return req, badRequest("top_logprobs %d: want 0 or more", req.TopLogprobs)
		}
		if !req.Logprobs {
			return req, badRequest("top_logprobs needs \"logprobs\": true")
		}
	}
	if r.N != nil {
		if req.N = *r.N; req.N < 1 {
			return req, badRequest("n %d: want 1 or more", req.N)
		}
	}
	return req, nil
}

// decodePrompts parses a prompt field: a string, or an array of ids and strings (one mixed
// prompt, as llama-server's tokenize_mixed). With multi, an array of strings is one prompt per
// string and an array of arrays one prompt per element, as OpenAI's API.
func decodePrompts(raw json.RawMessage, multi bool) ([][]promptPart, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return [][]promptPart{{{text: s, isText: true}}}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, badRequest("prompt: want a string or an array of token ids")
	}
	if len(elems) == 0 {
		return nil, badRequest("prompt: empty array")
	}
	if multi && (slices.ContainsFunc(elems, isArray) || allStrings(elems)) {
		out := make([][]promptPart, 0, len(elems))
		for i, e := range elems {
			if isArray(e) {
				p, err := mixedPrompt(e)
				if err != nil {
					return nil, fmt.Errorf("prompt %d: %w", i, err)
				}
				out = append(out, p)
				continue
			}
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, badRequest("prompt %d: want a string or an array of token ids", i)
			}
			out = append(out, []promptPart{{text: s, isText: true}})
		}
		return out, nil
	}
	p, err := mixedPrompt(raw)
	if err != nil {
		return nil, err
	}
	return [][]promptPart{p}, nil
}

// mixedPrompt parses an array of token ids and strings.
func mixedPrompt(raw json.RawMessage) ([]promptPart, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, badRequest("prompt: want an array of token ids")
	}
	out := make([]promptPart, 0, len(elems))
	for _, e := range elems {
		var id int32
		if err := json.Unmarshal(e, &id); err == nil {
			out = append(out, promptPart{id: id})
			continue
		}
		var s string
		if err := json.Unmarshal(e, &s); err != nil {
			return nil, badRequest("prompt: element %s is neither a token id nor a string", truncate(string(e), 40))
		}
		out = append(out, promptPart{text: s, isText: true})
	}
	return out, nil
}

func isArray(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && b[0] == '['
}

func allStrings(elems []json.RawMessage) bool {
	for _, e := range elems {
		b := bytes.TrimSpace(e)
		if len(b) == 0 || b[0] != '"' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// tokenizeRequest is a decoded POST /tokenize body.
type tokenizeRequest struct {
	Model      string `json:"model"`
	Content    string `json:"content"`
	AddSpecial bool   `json:"add_special"`
	WithPieces bool   `json:"with_pieces"`

	model *llm.Model // set by Server.tokenizeRequest
}

// detokenizeRequest is a decoded POST /detokenize body.
type detokenizeRequest struct {
	Model  string  `json:"model"`
	Tokens []int32 `json:"tokens"`

	model *llm.Model // set by Server.detokenizeRequest
}

func decodeTokenize(body []byte) (tokenizeRequest, error) {
	var r tokenizeRequest
	err := decodeObject(body, &r)
	return r, err
}

func decodeDetokenize(body []byte) (detokenizeRequest, error) {
	var r detokenizeRequest
	err := decodeObject(body, &r)
	return r, err
}
