package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/genquorum/genquorum/engine/llm"
)

// completionChunk is one event of a streamed /completion: a token's text (and probability
// entry), as llama-server b4748's partial results.
type completionChunk struct {
	Index                   int         `json:"index"`
	Content                 string      `json:"content"`
	Tokens                  []int32     `json:"tokens"`
	Stop                    bool        `json:"stop"`
	IDSlot                  int         `json:"id_slot"`
	TokensPredicted         int         `json:"tokens_predicted"`
	TokensEvaluated         int         `json:"tokens_evaluated"`
	CompletionProbabilities []stepProbs `json:"completion_probabilities,omitempty"`
}

// complete runs a /completion request; it holds a slot, taken before tokenizing: a long
// prompt costs time too. With stream it sends one event per released token, then the final
// result (stop true) whose content is any text still held back (llama-server sends "" there
// and drops such text; this server sends it).
func (s *Server) complete(ctx context.Context, req completionRequest, slot int, w http.ResponseWriter) (any, error) {
	m := req.model
	prompt, err := tokenizePrompt(m, req.Prompt)
	if err != nil {
		return nil, err
	}
	n, err := s.budget(m, prompt, req.NPredict, "n_predict")
	if err != nil {
		return nil, err
	}
	spec := genSpec{prompt: prompt, params: params(n, req.Temperature, req.TopK, req.TopP, req.Seed, req.NProbs, req.IgnoreEOS),
		stops: req.Stop, topN: req.NProbs}
	var ev *sse
	if req.Stream {
		ev = &sse{w: w}
		spec.onChunk = func(c chunk) error {
			part := completionChunk{Content: c.text, Tokens: []int32{}, IDSlot: slot, TokensPredicted: c.n, TokensEvaluated: len(prompt)}
			if req.ReturnTokens {
				part.Tokens = []int32{c.id}
			}
			if req.NProbs > 0 {
				part.CompletionProbabilities = []stepProbs{c.entry}
			}
			return ev.send(part)
		}
	}
	r, err := s.run(ctx, m, spec)
	if err != nil {
		if ev != nil {
			return nil, ev.fail(err)
		}
		return nil, err
	}
	promptText, _ := m.Tok.Pieces(prompt, true)
	stops := req.Stop
	if stops == nil {
		stops = []string{}
	}
	resp := completionResponse{
		Content: r.text, Tokens: []int32{}, IDSlot: slot, Stop: true, Model: m.Name,
		TokensPredicted: len(r.tokens), TokensEvaluated: len(prompt),
		GenerationSettings: settings{NPredict: req.NPredict, Seed: req.Seed, Temperature: float64(req.Temperature),
			TopK: req.TopK, TopP: float64(req.TopP), Stop: stops, MaxTokens: req.NPredict,
			IgnoreEOS: req.IgnoreEOS, Stream: req.Stream, NProbs: req.NProbs},
		Prompt: promptText, HasNewLine: strings.Contains(r.text, "\n"), StopType: r.stopType, StoppingWord: r.stopWord,
		TokensCached: len(prompt) + max(len(r.tokens)-1, 0),
		Timings:      newTimings(len(prompt), len(r.tokens), r.promptMS, r.genMS),
	}
	if req.NProbs > 0 {
		resp.CompletionProbabilities = r.entries
	}
	if req.ReturnTokens {
		resp.Tokens = r.tokens
	}
	if ev == nil {
		return resp, nil
	}
	resp.Content, resp.Tokens, resp.CompletionProbabilities = r.unsent, []int32{}, nil
	ev.send(resp)
	return nil, nil
}

// openAIChunk is one event of a streamed /v1/completions or /v1/chat/completions response.
type openAIChunk struct {
	Choices           []streamChoice `json:"choices"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	SystemFingerprint string         `json:"system_fingerprint"`
	Object            string         `json:"object"`
	ID                string         `json:"id"`
	Usage             *openAIUsage   `json:"usage,omitempty"`
	Timings           *timings       `json:"timings,omitempty"`
}

// streamChoice is a choice of a streamed response: text for completions, delta for chat;
// finish_reason null until the choice's last event.
type streamChoice struct {
	Text         *string    `json:"text,omitempty"`
	Delta        *chatDelta `json:"delta,omitempty"`
	Index        int        `json:"index"`
	Logprobs     any        `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

// chatDelta is the message part of a streamed chat event.
type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// openAIHead is what every event and response of one OpenAI request shares.
type openAIHead struct {
	id, model, fingerprint, object string
	created                        int64
}

func (h openAIHead) chunk(c streamChoice) openAIChunk {
	return openAIChunk{Choices: []streamChoice{c}, Created: h.created, Model: h.model, SystemFingerprint: h.fingerprint,
		Object: h.object, ID: h.id}
}

// head returns a request's head: model is the name the client sent (llama-server answers
// with it), or the served model's.
func (s *Server) head(m *llm.Model, requested, idPrefix, object string) openAIHead {
	name := requested
	if name == "" {
		name = m.Name
	}
	return openAIHead{id: idPrefix + newID()[len("cmpl-"):], model: name, fingerprint: llm.Version + "-" + s.cfg.Profile.Name,
		object: object, created: s.cfg.Now().Unix()}
}

// echoText is the text echo prepends: the prompt as sent when it is all text, otherwise the
// prompt's ids detokenized (control tokens as nothing).
func echoText(m *llm.Model, parts []promptPart, ids []int32) string {
	var b strings.Builder
	for _, p := range parts {
		if !p.isText {
			t, _ := m.Tok.Pieces(ids, false)
			return t
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// completeOpenAI runs a /v1/completions request, every choice in turn on one slot. With
// stream each choice's tokens go out as events (text, and logprobs when asked), then an
// event with its finish_reason (and any held-back text); the last carries usage and
// timings; then "data: [DONE]".
func (s *Server) completeOpenAI(ctx context.Context, req openAIRequest, _ int, w http.ResponseWriter) (any, error) {
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
	h := s.head(m, req.Model, "cmpl-", "text_completion")
	resp := openAIResponse{Created: h.created, Model: h.model, Object: h.object, SystemFingerprint: h.fingerprint, ID: h.id,
		Choices: []openAIChoice{}}
	var ev *sse
	if req.Stream {
		ev = &sse{w: w}
	}
	var promptMS, genMS float64
	var last openAIChunk
	for i, prompt := range prompts {
		resp.Usage.PromptTokens += len(prompt)
		echo := ""
		if req.Echo {
			echo = echoText(m, req.Prompts[i], prompt)
		}
		for j := range req.N {
			idx := i*req.N + j
			spec := genSpec{prompt: prompt, params: params(budgets[i], req.Temperature, req.TopK, req.TopP, req.Seed+uint64(j), topN, false),
				stops: req.Stop, topN: topN}
			if ev != nil {
				if echo != "" {
					if err := ev.send(h.chunk(streamChoice{Text: &echo, Index: idx})); err != nil {
						return nil, nil
					}
				}
				off := len(echo)
				spec.onChunk = func(c chunk) error {
					if c.text == "" && req.Logprobs < 0 {
						return nil // held back (a possible stop string); with logprobs its entry goes out
					}
					sc := streamChoice{Text: &c.text, Index: idx}
					if req.Logprobs >= 0 {
						sc.Logprobs = openAIProbs([]stepProbs{c.entry}, req.Logprobs, off)
					}
					off += len(c.entry.Bytes)
					return ev.send(h.chunk(sc))
				}
			}
			r, err := s.run(ctx, m, spec)
			if err != nil {
				if ev != nil {
					return nil, ev.fail(err)
				}
				return nil, err
			}
			promptMS, genMS = promptMS+r.promptMS, genMS+r.genMS
			resp.Usage.CompletionTokens += len(r.tokens)
			c := openAIChoice{Text: echo + r.text, Index: idx, FinishReason: finishReason(r.stopType)}
			if req.Logprobs >= 0 {
				c.Logprobs = openAIProbs(r.entries, req.Logprobs, len(echo))
			}
			resp.Choices = append(resp.Choices, c)
			if ev != nil {
				if last.ID != "" {
					if err := ev.send(last); err != nil {
						return nil, nil
					}
				}
				fin := c.FinishReason
				last = h.chunk(streamChoice{Text: &r.unsent, Index: idx, FinishReason: &fin})
			}
		}
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	resp.Timings = newTimings(resp.Usage.PromptTokens, resp.Usage.CompletionTokens, promptMS, genMS)
	if ev == nil {
		return resp, nil
	}
	last.Usage, last.Timings = &resp.Usage, &resp.Timings
	if ev.send(last) == nil {
		ev.done()
	}
	return nil, nil
}

// chatResponse is the /v1/chat/completions response.
type chatResponse struct {
	Choices           []chatChoice `json:"choices"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Object            string       `json:"object"`
	Usage             openAIUsage  `json:"usage"`
	ID                string       `json:"id"`
	Timings           timings      `json:"timings"`
}

type chatChoice struct {
	FinishReason string        `json:"finish_reason"`
	Index        int           `json:"index"`
	Message      chatMsgOut    `json:"message"`
	Logprobs     *chatLogprobs `json:"logprobs"`
}

type chatMsgOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatLogprobs is OpenAI's chat logprobs: one entry per token (llama-server's entries, whose
// id OpenAI lacks), top_logprobs alternatives each.
type chatLogprobs struct {
	Content []stepProbs `json:"content"`
}

func chatProbs(entries []stepProbs, n int) *chatLogprobs {
	lp := &chatLogprobs{Content: make([]stepProbs, len(entries))}
	for i, e := range entries {
		e.TopLogprobs = e.TopLogprobs[:min(n, len(e.TopLogprobs))]
		lp.Content[i] = e
	}
	return lp
}

// chatRequest decodes a /v1/chat/completions body and resolves its model, template and
// limits.
func (s *Server) chatRequest(body []byte) (chatRequest, error) {
	req, err := decodeChat(body)
	if err != nil {
		return req, err
	}
	if req.model, err = s.model(req.Model); err != nil {
		return req, err
	}
	if chatFormat(req.model.ChatTemplate) == "" {
		return req, fail(http.StatusBadRequest, "model %s: its chat template is not one this server applies (ChatML, Llama 3, Gemma, Phi-3, Zephyr); "+
			"format the conversation yourself and use /v1/completions", req.model.Name)
	}
	if req.TopLogprobs > s.cfg.MaxProbs {
		return req, fail(http.StatusBadRequest, "top_logprobs %d above this server's limit of %d", req.TopLogprobs, s.cfg.MaxProbs)
	}
	if req.N > s.cfg.MaxChoices {
		return req, fail(http.StatusBadRequest, "n %d above this server's limit of %d choices", req.N, s.cfg.MaxChoices)
	}
	return req, nil
}

// chat runs a /v1/chat/completions request: the messages in the model's chat template
// (ChatML when it has none), tokenized as a text prompt (BOS added, control-token texts
// parsed), then generated as a completion. With stream each choice opens with a role event,
// then content events, then an event with its finish_reason; the last carries usage and
// timings; then "data: [DONE]".
func (s *Server) chat(ctx context.Context, req chatRequest, _ int, w http.ResponseWriter) (any, error) {
	m := req.model
	text := applyChat(chatFormat(m.ChatTemplate), req.Messages)
	prompt, err := tokenizePrompt(m, []promptPart{{text: text, isText: true}})
	if err != nil {
		return nil, err
	}
	n, err := s.budget(m, prompt, req.MaxTokens, "max_tokens")
	if err != nil {
		return nil, err
	}
	topN := 0
	if req.Logprobs {
		topN = max(req.TopLogprobs, 1)
	}
	h := s.head(m, req.Model, "chatcmpl-", "chat.completion")
	resp := chatResponse{Created: h.created, Model: h.model, Object: h.object, SystemFingerprint: h.fingerprint, ID: h.id,
		Choices: []chatChoice{}}
	var ev *sse
	if req.Stream {
		ev = &sse{w: w}
		h.object = "chat.completion.chunk"
	}
	var promptMS, genMS float64
	var last openAIChunk
	for j := range req.N {
		spec := genSpec{prompt: prompt, params: params(n, req.Temperature, req.TopK, req.TopP, req.Seed+uint64(j), topN, false),
			stops: req.Stop, topN: topN}
		if ev != nil {
			empty := ""
			if err := ev.send(h.chunk(streamChoice{Delta: &chatDelta{Role: "assistant", Content: &empty}, Index: j})); err != nil {
				return nil, nil
			}
			spec.onChunk = func(c chunk) error {
				if c.text == "" && !req.Logprobs {
					return nil // held back (a possible stop string); with logprobs its entry goes out
				}
				sc := streamChoice{Delta: &chatDelta{Content: &c.text}, Index: j}
				if req.Logprobs {
					sc.Logprobs = chatProbs([]stepProbs{c.entry}, req.TopLogprobs)
				}
				return ev.send(h.chunk(sc))
			}
		}
		r, err := s.run(ctx, m, spec)
		if err != nil {
			if ev != nil {
				return nil, ev.fail(err)
			}
			return nil, err
		}
		promptMS, genMS = promptMS+r.promptMS, genMS+r.genMS
		resp.Usage.CompletionTokens += len(r.tokens)
		c := chatChoice{FinishReason: finishReason(r.stopType), Index: j, Message: chatMsgOut{Role: "assistant", Content: r.text}}
		if req.Logprobs {
			c.Logprobs = chatProbs(r.entries, req.TopLogprobs)
		}
		resp.Choices = append(resp.Choices, c)
		if ev != nil {
			if last.ID != "" {
				if err := ev.send(last); err != nil {
					return nil, nil
				}
			}
			fin := c.FinishReason
			d := &chatDelta{}
			if r.unsent != "" {
				d.Content = &r.unsent
			}
			last = h.chunk(streamChoice{Delta: d, Index: j, FinishReason: &fin})
		}
	}
	resp.Usage.PromptTokens = len(prompt)
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	resp.Timings = newTimings(len(prompt), resp.Usage.CompletionTokens, promptMS, genMS)
	if ev == nil {
		return resp, nil
	}
	last.Usage, last.Timings = &resp.Usage, &resp.Timings
	if ev.send(last) == nil {
		ev.done()
	}
	return nil, nil
}
