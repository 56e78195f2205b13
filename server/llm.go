package server

import (
	"context"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tokenizer"
)

// registerLLM adds the text engine's routes to mux.
func (s *Server) registerLLM(mux *http.ServeMux) {
	completion := postJSON(s, writeError, s.completionRequest, takesSlot, s.complete)
	s.handle(mux, "POST", "/completion", writeError, completion)
	s.handle(mux, "POST", "/completions", writeError, completion) // llama-server's alias
	s.handle(mux, "POST", "/v1/completions", writeError, postJSON(s, writeError, s.openAIRequest, takesSlot, s.completeOpenAI))
	chat := postJSON(s, writeError, s.chatRequest, takesSlot, s.chat)
	s.handle(mux, "POST", "/v1/chat/completions", writeError, chat)
	s.handle(mux, "POST", "/chat/completions", writeError, chat) // llama-server's alias
	s.handle(mux, "GET", "/props", writeError, s.handleProps)
	s.handle(mux, "GET", "/v1/models", writeError, s.handleModels)
	s.handle(mux, "GET", "/models", writeError, s.handleModels)
	s.handle(mux, "POST", "/tokenize", writeError, postJSON(s, writeError, s.tokenizeRequest, noSlot, plain(s.tokenize)))
	s.handle(mux, "POST", "/detokenize", writeError, postJSON(s, writeError, s.detokenizeRequest, noSlot, plain(s.detokenize)))
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

// timings reports the work of a request in llama-server's fields. The engine evaluates the
// prompt and the continuation in one call: prompt_ms runs from the start to the first
// generated token (so it includes that token's sampling), predicted_ms from there to the end.
type timings struct {
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
}

func newTimings(promptN, predictedN int, promptMS, predictedMS float64) timings {
	t := timings{PromptN: promptN, PromptMS: promptMS, PredictedN: predictedN, PredictedMS: predictedMS}
	if promptN > 0 && promptMS > 0 {
		t.PromptPerTokenMS, t.PromptPerSecond = promptMS/float64(promptN), 1000*float64(promptN)/promptMS
	}
	if predictedN > 0 && predictedMS > 0 {
		t.PredictedPerTokenMS, t.PredictedPerSecond = predictedMS/float64(predictedN), 1000*float64(predictedN)/predictedMS
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

// stopType says why a generation of tokens under p ended without a stop string, in
// llama-server's words: "eos" at an end-of-generation token (unless p.IgnoreEOG), "limit"
// otherwise.
func stopType(isEOG func(int32) bool, tokens []int32, p llm.Params) string {
	if n := len(tokens); n > 0 && !p.IgnoreEOG && isEOG(tokens[n-1]) {
		return "eos"
	}
	return "limit"
}

// newTokenProb describes token id with log-prob lp, as llama-server's alternatives: the text
// is the token's piece without control-token texts, cut to valid UTF-8; bytes are the whole
// piece.
func newTokenProb(m *llm.Model, id int32, lp float32) tokenProb {
	piece, _ := m.Tok.TokenToPiece(id, false)
	return tokenProb{ID: id, Token: validPrefix(piece), Bytes: byteInts([]byte(piece)), Logprob: float64(lp)}
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
	if req.Echo && req.Logprobs >= 0 {
		return req, fail(http.StatusBadRequest, "echo with logprobs (log-probs of the prompt's tokens) is not supported")
	}
	if c := len(req.Prompts) * req.N; c > s.cfg.MaxChoices || c < 0 || req.N > s.cfg.MaxChoices {
		return req, fail(http.StatusBadRequest, "%d prompts × n %d above this server's limit of %d choices", len(req.Prompts), req.N, s.cfg.MaxChoices)
	}
	return req, nil
}

// openAIProbs gives the probabilities of a choice in both shapes, n alternatives a position;
// text_offset counts from offset.
func openAIProbs(steps []stepProbs, n, offset int) *openAILogprobs {
	lp := &openAILogprobs{Content: []stepProbs{}, Tokens: []string{}, TokenLogprobs: []float64{},
		TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	off := offset
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
		off += len(st.Bytes)
	}
	return lp
}

// handleProps answers llama-server's GET /props for the first model: its shape (b4748), with
// the generation defaults this server applies, the slots, the chat template (ChatML's, as
// llama-server reports it, for a model without one) and genquorum's model digest and profile.
func (s *Server) handleProps(w http.ResponseWriter, r *http.Request) {
	m := s.models[s.order[0]]
	tmpl := m.ChatTemplate
	if tmpl == "" {
		tmpl = chatmlJinja
	}
	piece := func(id int32) string {
		if id == tokenizer.NoToken {
			return ""
		}
		p, _ := m.Tok.TokenToPiece(id, true)
		return p
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"default_generation_settings": map[string]any{
			"id": 0, "id_task": -1, "n_ctx": m.Config.Context, "speculative": false, "is_processing": false, "non_causal": false,
			"params":     settings{NPredict: -1, Seed: defaultSeed, Temperature: 0.8, TopK: 40, TopP: 0.95, Stop: []string{}, MaxTokens: -1},
			"prompt":     "",
			"next_token": map[string]any{"has_next_token": true, "has_new_line": false, "n_remain": -1, "n_decoded": 0, "stopping_word": ""},
		},
		"total_slots":   s.cfg.Slots,
		"model_path":    m.Name,
		"chat_template": tmpl,
		"bos_token":     piece(m.Tok.BOS()),
		"eos_token":     piece(m.Tok.EOS()),
		"build_info":    "genquorum " + llm.Version,
		"model_digest":  fmt.Sprintf("%x", m.Digest),
		"profile":       s.cfg.Profile.Name,
	})
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
