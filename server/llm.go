package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genquorum/genquorum/engine/llm"
)

// registerLLM adds the text engine's routes to mux.
func (s *Server) registerLLM(mux *http.ServeMux) {
	completion := postJSON(s, writeError, s.completionRequest, takesSlot, s.complete)
	s.handle(mux, "POST", "/completion", writeError, completion)
	s.handle(mux, "POST", "/completions", writeError, completion) // llama-server's alias
	s.handle(mux, "POST", "/v1/completions", writeError, postJSON(s, writeError, s.openAIRequest, takesSlot, s.completeOpenAI))
	s.handle(mux, "GET", "/v1/models", writeError, s.handleModels)
	s.handle(mux, "GET", "/models", writeError, s.handleModels)
	s.handle(mux, "POST", "/tokenize", writeError, postJSON(s, writeError, s.tokenizeRequest, noSlot, s.tokenize))
	s.handle(mux, "POST", "/detokenize", writeError, postJSON(s, writeError, s.detokenizeRequest, noSlot, s.detokenize))
}

// tokenProb is one entry of llama-server's completion_probabilities.
type tokenProb struct {
	ID      int32   `json:"id"`
	Token   string  `json:"token"`
	Bytes   []int   `json:"bytes"`
	Logprob float64 `json:"logprob"`
}

// stepProbs is one generated position of completion_probabilities: the chosen token and the
// most likely ones.
type stepProbs struct {
	tokenProb
	TopLogprobs []tokenProb `json:"top_logprobs"`
}

// settings is the subset of llama-server's generation_settings this package applies.
type settings struct {
	NPredict    int      `json:"n_predict"`
	Seed        uint64   `json:"seed"`
	Temperature float64  `json:"temperature"`
	TopK        int      `json:"top_k"`
	TopP        float64  `json:"top_p"`
	Stop        []string `json:"stop"`
	MaxTokens   int      `json:"max_tokens"`
	IgnoreEOS   bool     `json:"ignore_eos"`
	Stream      bool     `json:"stream"`
	NProbs      int      `json:"n_probs"`
}

// timings reports the work of a request. predicted_ms covers the prompt's evaluation too: the
// engine evaluates prompt and continuation in one call.
type timings struct {
	PromptN            int     `json:"prompt_n"`
	PredictedN         int     `json:"predicted_n"`
	PredictedMS        float64 `json:"predicted_ms"`
	PredictedPerSecond float64 `json:"predicted_per_second"`
}

func newTimings(promptN, predictedN int, d time.Duration) timings {
	t := timings{PromptN: promptN, PredictedN: predictedN, PredictedMS: float64(d.Microseconds()) / 1000}
	if d > 0 {
		t.PredictedPerSecond = float64(predictedN) / d.Seconds()
	}
	return t
}

// completionResponse is llama-server b4748's non-streaming /completion response.
type completionResponse struct {
	Index                   int         `json:"index"`
	Content                 string      `json:"content"`
	Tokens                  []int32     `json:"tokens"`
	IDSlot                  int         `json:"id_slot"`
	Stop                    bool        `json:"stop"`
	Model                   string      `json:"model"`
	TokensPredicted         int         `json:"tokens_predicted"`
	TokensEvaluated         int         `json:"tokens_evaluated"`
	GenerationSettings      settings    `json:"generation_settings"`
	Prompt                  string      `json:"prompt"`
	HasNewLine              bool        `json:"has_new_line"`
	Truncated               bool        `json:"truncated"`
	StopType                string      `json:"stop_type"`
	StoppingWord            string      `json:"stopping_word"`
	TokensCached            int         `json:"tokens_cached"`
	Timings                 timings     `json:"timings"`
	CompletionProbabilities []stepProbs `json:"completion_probabilities,omitempty"`
}

// openAIResponse is the /v1/completions response.
type openAIResponse struct {
	Choices           []openAIChoice `json:"choices"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Object            string         `json:"object"`
	Usage             openAIUsage    `json:"usage"`
	ID                string         `json:"id"`
	Timings           timings        `json:"timings"`
}

type openAIChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	Logprobs     *openAILogprobs `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

// openAILogprobs carries both llama-server b4748's shape (content) and OpenAI's legacy one
// (tokens, token_logprobs, top_logprobs, text_offset: byte offsets into the choice's text).
type openAILogprobs struct {
	Content       []stepProbs          `json:"content"`
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

type openAIUsage struct {
	CompletionTokens int `json:"completion_tokens"`
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// generation is the outcome of one run of the engine.
type generation struct {
	res      *llm.Result // nil when no token was asked for
	prompt   []int32
	stopType string // "limit" or "eos"
	elapsed  time.Duration
}

// tokenizePrompt turns prompt parts into ids as llama-server's tokenize_mixed: the first text
// part gets BOS (when the vocabulary adds it), texts of control tokens become those tokens,
// ids are used as they are.
func tokenizePrompt(m *llm.Model, parts []promptPart) ([]int32, error) {
	var ids []int32
	first := true
	for _, p := range parts {
		if !p.isText {
			if p.id < 0 || int(p.id) >= m.Config.Vocab {
				return nil, fail(http.StatusBadRequest, "prompt: token id %d out of range [0, %d)", p.id, m.Config.Vocab)
			}
			ids = append(ids, p.id)
			continue
		}
		ids = append(ids, m.Tok.Encode(p.text, first, true)...)
		first = false
	}
	if len(ids) == 0 {
		return nil, fail(http.StatusBadRequest, "prompt: no tokens")
	}
	return ids, nil
}

// budget returns the number of tokens to generate after prompt: n, or as many as the context
// and the server's limit allow when n is -1.
func (s *Server) budget(m *llm.Model, prompt []int32, n int, field string) (int, error) {
	room := m.Config.Context - len(prompt)
	if room < 0 || (room == 0 && n != 0) {
		return 0, fail(http.StatusBadRequest, "context overflow: the prompt has %d tokens, the context holds %d", len(prompt), m.Config.Context)
	}
	if n == -1 {
		return min(room, s.cfg.MaxTokens), nil
	}
	if n > s.cfg.MaxTokens {
		return 0, fail(http.StatusBadRequest, "%s %d above this server's limit of %d", field, n, s.cfg.MaxTokens)
	}
	if n > room {
		return 0, fail(http.StatusBadRequest, "context overflow: %d prompt + %d new tokens exceed the context of %d", len(prompt), n, m.Config.Context)
	}
	return n, nil
}

// generate runs the engine; with p.MaxTokens 0 it generates nothing.
func (s *Server) generate(ctx context.Context, m *llm.Model, prompt []int32, p llm.Params) (generation, error) {
	g := generation{prompt: prompt, stopType: "limit"}
	if p.MaxTokens == 0 {
		return g, nil
	}
	start := time.Now()
	res, err := m.Generate(ctx, prompt, p, s.cfg.Profile)
	g.elapsed = time.Since(start)
	if err != nil {
		return g, err
	}
	g.res = res
	g.stopType = stopType(m.Tok.IsEOG, res.Tokens, p)
	return g, nil
}

// stopType says why a generation of tokens under p ended, in llama-server's words: "eos" at
// an end-of-generation token (unless p.IgnoreEOG), "limit" otherwise.
func stopType(isEOG func(int32) bool, tokens []int32, p llm.Params) string {
	if n := len(tokens); n > 0 && !p.IgnoreEOG && isEOG(tokens[n-1]) {
		return "eos"
	}
	return "limit"
}

func (g *generation) tokens() []int32 {
	if g.res == nil {
		return []int32{}
	}
	return g.res.Tokens
}

func (g *generation) text() string {
	if g.res == nil {
		return ""
	}
	return g.res.Text
}

// newTokenProb describes token id with log-prob lp; the text is the token's piece without
// control-token texts, as llama-server's.
func newTokenProb(m *llm.Model, id int32, lp float32) tokenProb {
	piece, _ := m.Tok.TokenToPiece(id, false)
	b := make([]int, len(piece))
	for i := range len(piece) {
		b[i] = int(piece[i])
	}
	return tokenProb{ID: id, Token: piece, Bytes: b, Logprob: float64(lp)}
}

// probs returns the per-position probabilities of g with the n most likely tokens each.
func (g *generation) probs(m *llm.Model, n int) []stepProbs {
	if g.res == nil || n == 0 {
		return nil
	}
	out := make([]stepProbs, len(g.res.Steps))
	for i, st := range g.res.Steps {
		top := st.Top[:min(n, len(st.Top))]
		out[i] = stepProbs{tokenProb: newTokenProb(m, st.ID, st.LogProb), TopLogprobs: make([]tokenProb, len(top))}
		for j, t := range top {
			out[i].TopLogprobs[j] = newTokenProb(m, t.ID, t.LogProb)
		}
	}
	return out
}

func params(maxTokens int, temp float32, topK int, topP float32, seed uint64, topN int, ignoreEOS bool) llm.Params {
	p := llm.Params{Decode: llm.DecodeGreedy, MaxTokens: maxTokens, TopN: topN, IgnoreEOG: ignoreEOS}
	if temp > 0 {
		p.Decode, p.Temperature, p.TopK, p.TopP, p.Seed = llm.DecodeSample, temp, topK, topP, seed
		if topP <= 0 {
			p.TopK = 1 // llama.cpp's top_p 0 keeps only the most likely token (engine/llm's 0 is "all")
		}
	}
	return p
}

// completionRequest decodes a /completion body and resolves its model and limits.
func (s *Server) completionRequest(body []byte) (completionRequest, error) {
	req, err := decodeCompletion(body)
	if err != nil {
		return req, err
	}
	if req.model, err = s.model(req.Model); err != nil {
		return req, err
	}
	if req.NProbs > s.cfg.MaxProbs {
		return req, fail(http.StatusBadRequest, "n_probs %d above this server's limit of %d", req.NProbs, s.cfg.MaxProbs)
	}
	return req, nil
}

// complete runs a /completion request; it holds a slot, taken before tokenizing: a long
// prompt costs time too.
func (s *Server) complete(ctx context.Context, req completionRequest, slot int) (any, error) {
	m := req.model
	prompt, err := tokenizePrompt(m, req.Prompt)
	if err != nil {
		return nil, err
	}
	n, err := s.budget(m, prompt, req.NPredict, "n_predict")
	if err != nil {
		return nil, err
	}
	p := params(n, req.Temperature, req.TopK, req.TopP, req.Seed, req.NProbs, req.IgnoreEOS)
	g, err := s.generate(ctx, m, prompt, p)
	if err != nil {
		return nil, err
	}
	promptText, _ := m.Tok.Pieces(prompt, true)
	toks := g.tokens()
	resp := completionResponse{
		Content: g.text(), Tokens: []int32{}, IDSlot: slot, Stop: true, Model: m.Name,
		TokensPredicted: len(toks), TokensEvaluated: len(prompt),
		GenerationSettings: settings{NPredict: req.NPredict, Seed: req.Seed, Temperature: float64(req.Temperature),
			TopK: req.TopK, TopP: float64(req.TopP), Stop: []string{}, MaxTokens: req.NPredict,
			IgnoreEOS: req.IgnoreEOS, NProbs: req.NProbs},
		Prompt: promptText, HasNewLine: strings.Contains(g.text(), "\n"), StopType: g.stopType,
		TokensCached:            len(prompt) + max(len(toks)-1, 0),
		Timings:                 newTimings(len(prompt), len(toks), g.elapsed),
		CompletionProbabilities: g.probs(m, req.NProbs),
	}
	if req.ReturnTokens {
		resp.Tokens = toks
	}
	return resp, nil
}

// openAIRequest decodes a /v1/completions body and resolves its model and limits.
func (s *Server) openAIRequest(body []byte) (openAIRequest, error) {
	req, err := decodeOpenAI(body)
	if err != nil {
		return req, err
	}
	if req.model, err = s.model(req.Model); err != nil {
		return req, err
	}
	if req.Logprobs > s.cfg.MaxProbs {
		return req, fail(http.StatusBadRequest, "logprobs %d above this server's limit of %d", req.Logprobs, s.cfg.MaxProbs)
	}
	if c := len(req.Prompts) * req.N; c > s.cfg.MaxChoices || c < 0 || req.N > s.cfg.MaxChoices {
		return req, fail(http.StatusBadRequest, "%d prompts × n %d above this server's limit of %d choices", len(req.Prompts), req.N, s.cfg.MaxChoices)
	}
	return req, nil
}

// completeOpenAI runs a /v1/completions request, every choice in turn on one slot.
func (s *Server) completeOpenAI(ctx context.Context, req openAIRequest, _ int) (any, error) {
	m := req.model
	var err error
	prompts := make([][]int32, len(req.Prompts))
	budgets := make([]int, len(req.Prompts))
	for i, parts := range req.Prompts {
		if prompts[i], err = tokenizePrompt(m, parts); err == nil {
			budgets[i], err = s.budget(m, prompts[i], req.MaxTokens, "max_tokens")
		}
		if err != nil {
			return nil, err
		}
	}
	topN := 0
	if req.Logprobs >= 0 {
		topN = max(req.Logprobs, 1) // the chosen token's log-prob needs the log-sum-exp
	}
	resp := openAIResponse{Created: s.cfg.Now().Unix(), Model: m.Name, Object: "text_completion",
		SystemFingerprint: llm.Version + "-" + s.cfg.Profile.Name, ID: newID(), Choices: []openAIChoice{}}
	var elapsed time.Duration
	for i, prompt := range prompts {
		resp.Usage.PromptTokens += len(prompt)
		for j := range req.N {
			p := params(budgets[i], req.Temperature, req.TopK, req.TopP, req.Seed+uint64(j), topN, false)
			g, err := s.generate(ctx, m, prompt, p)
			if err != nil {
				return nil, err
			}
			elapsed += g.elapsed
			c := openAIChoice{Text: g.text(), Index: i*req.N + j, FinishReason: "length"}
			if g.stopType == "eos" {
				c.FinishReason = "stop"
			}
			if req.Logprobs >= 0 {
				c.Logprobs = openAIProbs(g.probs(m, topN), req.Logprobs)
			}
			resp.Choices = append(resp.Choices, c)
			resp.Usage.CompletionTokens += len(g.tokens())
		}
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	resp.Timings = newTimings(resp.Usage.PromptTokens, resp.Usage.CompletionTokens, elapsed)
	return resp, nil
}

// openAIProbs gives the probabilities of a choice in both shapes, n alternatives a position.
func openAIProbs(steps []stepProbs, n int) *openAILogprobs {
	lp := &openAILogprobs{Content: []stepProbs{}, Tokens: []string{}, TokenLogprobs: []float64{},
		TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	off := 0
	for _, st := range steps {
		st.TopLogprobs = st.TopLogprobs[:min(n, len(st.TopLogprobs))]
		lp.Content = append(lp.Content, st)
		lp.Tokens = append(lp.Tokens, st.Token)
		lp.TokenLogprobs = append(lp.TokenLogprobs, st.Logprob)
		top := make(map[string]float64, len(st.TopLogprobs))
		for _, t := range st.TopLogprobs {
			if _, dup := top[t.Token]; !dup {
				top[t.Token] = t.Logprob
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, off)
		off += len(st.Token)
	}
	return lp
}

type modelInfo struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	OwnedBy string         `json:"owned_by"`
	Meta    map[string]any `json:"meta"`
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	data := make([]modelInfo, 0, len(s.order))
	for _, name := range s.order {
		m := s.models[name]
		data = append(data, modelInfo{ID: name, Object: "model", Created: s.started.Unix(), OwnedBy: "genquorum",
			Meta: map[string]any{"n_vocab": m.Config.Vocab, "n_ctx_train": m.Config.Context, "n_embd": m.Config.Dim,
				"file_type": m.Config.FileType, "digest": fmt.Sprintf("%x", m.Digest), "profile": s.cfg.Profile.Name}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// piece is a /tokenize piece: the text when it is valid UTF-8, its bytes otherwise.
type piece struct {
	ID    int32 `json:"id"`
	Piece any   `json:"piece"`
}

// tokenizeRequest decodes a /tokenize body and resolves its model.
func (s *Server) tokenizeRequest(body []byte) (tokenizeRequest, error) {
	req, err := decodeTokenize(body)
	if err == nil {
		req.model, err = s.model(req.Model)
	}
	return req, err
}

func (s *Server) tokenize(_ context.Context, req tokenizeRequest, _ int) (any, error) {
	m := req.model
	ids := m.Tok.Encode(req.Content, req.AddSpecial, true)
	if !req.WithPieces {
		if ids == nil {
			ids = []int32{}
		}
		return map[string]any{"tokens": ids}, nil
	}
	out := make([]piece, len(ids))
	for i, id := range ids {
		p, _ := m.Tok.TokenToPiece(id, true)
		out[i] = piece{ID: id, Piece: p}
		if !utf8.ValidString(p) {
			b := make([]int, len(p))
			for j := range len(p) {
				b[j] = int(p[j])
			}
			out[i].Piece = b
		}
	}
	return map[string]any{"tokens": out}, nil
}

// detokenizeRequest decodes a /detokenize body and resolves its model.
func (s *Server) detokenizeRequest(body []byte) (detokenizeRequest, error) {
	req, err := decodeDetokenize(body)
	if err == nil {
		req.model, err = s.model(req.Model)
	}
	return req, err
}

func (s *Server) detokenize(_ context.Context, req detokenizeRequest, _ int) (any, error) {
	text, err := req.model.Tok.Pieces(req.Tokens, true)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "tokens: %v", err)
	}
	return map[string]string{"content": text}, nil
}
