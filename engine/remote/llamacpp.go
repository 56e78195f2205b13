package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
)

// llamaCpp speaks llama-server's native API: POST /tokenize, POST /completion, GET /props.
type llamaCpp struct {
	sp      Spec
	c       *client
	nProbs  int
	sampler string // "genquorum" or "native"; "" until check: from the option, or build_info
}

func newLlamaCpp(sp Spec, c *client) (*llamaCpp, error) {
	n, err := sp.intOption("n_probs", 2, 0, 20)
	if err != nil {
		return nil, err
	}
	sampler, err := samplerSetting(sp, "")
	if err != nil {
		return nil, err
	}
	return &llamaCpp{sp: sp, c: c, nProbs: n, sampler: sampler}, nil
}

func (*llamaCpp) kind() engine.Kind { return engine.KindText }
func (*llamaCpp) exactTokens() bool { return true }
func (*llamaCpp) advice() string {
	return "start llama-server with one slot (-np 1), no prompt cache (--no-cache-prompt; the adapter also sends cache_prompt:false), " +
		"a fixed KV-cache type (-ctk/-ctv, the same on every node) and a fixed batch size (-b/-ub); continuous batching (-cb) " +
		"with several slots changes log-probs"
}

// llamaProps is the part of llama-server's GET /props the adapter reads (b4748 shape,
// testdata/llamacpp/server-props.json).
type llamaProps struct {
	TotalSlots *int   `json:"total_slots"`
	ModelPath  string `json:"model_path"`
	BuildInfo  string `json:"build_info"`
	Default    struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
}

// openAIModels is GET /v1/models (OpenAI's shape, which llama-server, vLLM, SGLang and
// Ollama's /v1 share).
type openAIModels struct {
	Data []struct {
		ID          string `json:"id"`
		MaxModelLen int    `json:"max_model_len"` // vLLM
	} `json:"data"`
}

func (m openAIModels) ids() []string {
	out := make([]string, len(m.Data))
	for i, d := range m.Data {
		out[i] = d.ID
	}
	return out
}

// modelMatches reports whether a server's model name (a path, a file name or an alias) is the
// declared one.
func modelMatches(have, want string) bool {
	if have == want {
		return true
	}
	base := path.Base(strings.ReplaceAll(have, "\\", "/"))
	return base == want || strings.TrimSuffix(base, ".gguf") == want
}

func (l *llamaCpp) check(ctx context.Context) (map[string]string, error) {
	set := map[string]string{"cache_prompt": "false", "n_probs": strconv.Itoa(l.nProbs)}
	var props llamaProps
	err := l.c.getJSON(ctx, "/props", &props)
	switch {
	case err == nil:
		if props.ModelPath != "" && !modelMatches(props.ModelPath, l.sp.Model) {
			return nil, fmt.Errorf("%w: llama-server has %q loaded, not %q (set model= to the server's name)", ErrWrongModel, props.ModelPath, l.sp.Model)
		}
		if props.TotalSlots != nil {
			if *props.TotalSlots != 1 {
				return nil, fmt.Errorf("%w: llama-server runs %d slots: start it with -np 1 (one slot), since batching requests changes log-probs",
					ErrNondeterministic, *props.TotalSlots)
			}
			set["slots"] = "1"
		}
		if props.BuildInfo != "" {
			set["build"] = props.BuildInfo
		}
		if l.sampler == "" && strings.HasPrefix(props.BuildInfo, "genquorum ") {
			l.sampler = "genquorum" // genquorum serve: engine/llm's sampler
		}
		if props.Default.NCtx > 0 {
			set["n_ctx"] = strconv.Itoa(props.Default.NCtx)
		}
	case isStatus(err, 404, 501):
		set["props"] = "none" // no /props: slots unchecked, the self-test decides
		var models openAIModels
		if err := l.c.getJSON(ctx, "/v1/models", &models); err != nil {
			return nil, err
		}
		if !hasModel(models.ids(), l.sp.Model) {
			return nil, fmt.Errorf("%w: the server lists %q, not %q", ErrWrongModel, models.ids(), l.sp.Model)
		}
	default:
		return nil, err
	}
	if l.sampler == "" {
		l.sampler = "native"
	}
	set["sampler"] = l.sampler
	return set, nil
}

func hasModel(ids []string, want string) bool {
	for _, id := range ids {
		if modelMatches(id, want) {
			return true
		}
	}
	return false
}

// llamaCompletionRequest is POST /completion's body: the prompt as ids, every sampler that
// could add randomness or state switched off, and the prompt cache off.
type llamaCompletionRequest struct {
	Prompt        []int32  `json:"prompt"`
	NPredict      int      `json:"n_predict"`
	CachePrompt   bool     `json:"cache_prompt"`
	Seed          uint64   `json:"seed"`
	NProbs        int      `json:"n_probs"`
	ReturnTokens  bool     `json:"return_tokens"`
	Temperature   float32  `json:"temperature"`
	TopK          int      `json:"top_k"`
	TopP          float32  `json:"top_p"`
	MinP          float32  `json:"min_p"`
	TypicalP      float32  `json:"typical_p"`
	RepeatPenalty float32  `json:"repeat_penalty"`
	DryMultiplier float32  `json:"dry_multiplier"`
	XTCProb       float32  `json:"xtc_probability"`
	Mirostat      int      `json:"mirostat"`
	Samplers      []string `json:"samplers"`
	IgnoreEOS     bool     `json:"ignore_eos"`
	Stream        bool     `json:"stream"`
	Model         string   `json:"model,omitempty"`
}

// llamaTop is one alternative of completion_probabilities (b4748: id, token, logprob).
type llamaTop struct {
	ID      *int32   `json:"id"`
	Logprob *float64 `json:"logprob"`
}

// llamaCompletion is the part of /completion's response the adapter reads (llama-server
// b4748, testdata/llamacpp/api/completion-ids-greedy.response.json).
type llamaCompletion struct {
	Content         string  `json:"content"`
	Tokens          []int32 `json:"-"`
	TokensPredicted int     `json:"tokens_predicted"`
	TokensEvaluated int     `json:"tokens_evaluated"`
	Truncated       bool    `json:"truncated"`
	StopType        string  `json:"stop_type"`
	Probs           []struct {
		llamaTop
		Top []llamaTop `json:"top_logprobs"`
	} `json:"completion_probabilities"`
}

// parseLlamaCompletion decodes a /completion response and returns the generated ids (from
// tokens, or from completion_probabilities when the server does not know return_tokens) and
// the per-position margins (nil when unknown).
func parseLlamaCompletion(b []byte) (*llamaCompletion, []int32, []float32, error) {
	var r struct {
		llamaCompletion
		Tokens json.RawMessage `json:"tokens"`
	}
	if err := decodeJSON(b, "/completion", &r); err != nil {
		return nil, nil, nil, err
	}
	res := &r.llamaCompletion
	if len(r.Tokens) > 0 && string(r.Tokens) != "null" {
		if err := json.Unmarshal(r.Tokens, &res.Tokens); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: /completion tokens: %w", ErrBadResponse, err)
		}
	}
	ids := res.Tokens
	if len(ids) == 0 && res.TokensPredicted > 0 && len(res.Probs) == res.TokensPredicted {
		ids = make([]int32, len(res.Probs))
		for i, p := range res.Probs {
			if p.ID == nil {
				return nil, nil, nil, fmt.Errorf("%w: /completion gave no token ids (return_tokens needs a newer llama-server)", ErrBadResponse)
			}
			ids[i] = *p.ID
		}
	}
	if len(ids) != res.TokensPredicted {
		return nil, nil, nil, fmt.Errorf("%w: /completion gave %d token ids for %d predicted tokens", ErrBadResponse, len(ids), res.TokensPredicted)
	}
	var mg []float32
	if len(res.Probs) == len(ids) && len(ids) > 0 {
		tops := make([][]float64, len(ids))
		for i, p := range res.Probs {
			if p.ID != nil && *p.ID != ids[i] {
				return nil, nil, nil, fmt.Errorf("%w: /completion position %d: token %d, probabilities for %d", ErrBadResponse, i, ids[i], *p.ID)
			}
			for _, t := range p.Top {
				if t.Logprob != nil {
					tops[i] = append(tops[i], *t.Logprob)
				}
			}
		}
		mg = margins(tops)
	}
	return res, ids, mg, nil
}

func (l *llamaCpp) tokenize(ctx context.Context, text string) ([]int32, error) {
	var r struct {
		Tokens []int32 `json:"tokens"`
	}
	if err := l.c.postJSON(ctx, "/tokenize", map[string]any{"content": text, "add_special": true}, &r); err != nil {
		return nil, err
	}
	if len(r.Tokens) == 0 {
		return nil, fmt.Errorf("%w: /tokenize gave no tokens", ErrBadResponse)
	}
	return r.Tokens, nil
}

func (l *llamaCpp) run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	temp, topK, topP, err := textDecode(t.Text, l.sampler == "genquorum")
	if err != nil {
		return nil, err
	}
	prompt := t.Text.PromptIDs
	if len(prompt) == 0 {
		if prompt, err = l.tokenize(ctx, t.Prompt); err != nil {
			return nil, err
		}
	}
	req := llamaCompletionRequest{Prompt: prompt, NPredict: t.Text.MaxTokens, Seed: t.Seed, NProbs: l.nProbs, ReturnTokens: true,
		Temperature: temp, TopK: topK, TopP: topP, TypicalP: 1, RepeatPenalty: 1,
		Samplers: []string{"top_k", "top_p", "temperature"}, Model: l.sp.Model}
	b, err := l.c.do(ctx, "POST", "/completion", req)
	if err != nil {
		return nil, err
	}
	res, ids, mg, err := parseLlamaCompletion(b)
	if err != nil {
		return nil, err
	}
	if res.Truncated {
		return nil, fmt.Errorf("%w: llama-server truncated the prompt (context too small)", ErrBadResponse)
	}
	if res.TokensEvaluated != 0 && res.TokensEvaluated != len(prompt) {
		return nil, fmt.Errorf("%w: llama-server evaluated %d prompt tokens, %d were sent (prompt cache or truncation)", ErrBadResponse, res.TokensEvaluated, len(prompt))
	}
	return &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: []byte(res.Content), Tokens: ids, Margins: mg,
		Info: map[string]string{"prompt_ids": strconv.Itoa(len(prompt)), "stop_type": res.StopType, "ids": "exact (return_tokens)",
			"samplers": "top_k,top_p,temperature; min_p 0, typical_p 1, repeat_penalty 1, dry, xtc and mirostat off"}}, nil
}
