package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tokenizer"
)

// The servers the openai adapter knows (option server=).
const (
	serverVLLM     = "vllm"
	serverSGLang   = "sglang"
	serverLlamaCpp = "llamacpp"
	serverOllama   = "ollama"
	serverOther    = "other"
)

// The sources of token ids of the openai adapter (option ids=).
const (
	idsResponse = "response" // the response's own ids; refuse a response without them
	idsTokenize = "tokenize" // re-tokenize the text with the server's POST /tokenize
	idsVocab    = "vocab"    // re-tokenize the text with our tokenizer of vocab=FILE.gguf
)

// openAI speaks the OpenAI-compatible completions API: GET /v1/models, POST /v1/completions.
type openAI struct {
	sp      Spec
	c       *client
	server  string
	ids     string
	tok     *tokenizer.Tokenizer // ids=vocab
	nProbs  int
	sampler string         // "genquorum" or "native"
	native  bool           // api=native: SGLang's POST /generate instead of /v1/completions
	eogIDs  map[int32]bool // eog=ID,...: end-of-generation ids (nil: unknown, or from vocab=)
}

func newOpenAI(sp Spec, c *client) (*openAI, error) {
	o := &openAI{sp: sp, c: c, server: sp.Options.Get("server"), ids: sp.Options.Get("ids")}
	if o.server == "" {
		o.server = serverOther
	}
	switch o.server {
	case serverVLLM, serverSGLang, serverLlamaCpp, serverOllama, serverOther:
	default:
		return nil, fmt.Errorf("remote: %s: server=%q: want vllm, sglang, llamacpp, ollama or other", sp.Name, o.server)
	}
	vocab := sp.Options.Get("vocab")
	if o.ids == "" {
		o.ids = idsResponse
		if vocab != "" {
			o.ids = idsVocab
		}
	}
	switch o.ids {
	case idsResponse, idsTokenize:
	case idsVocab:
		if vocab == "" {
			return nil, fmt.Errorf("remote: %s: ids=vocab needs vocab=FILE.gguf", sp.Name)
		}
	default:
		return nil, fmt.Errorf("remote: %s: ids=%q: want response, tokenize or vocab", sp.Name, o.ids)
	}
	if vocab != "" { // re-tokenizing (ids=vocab); end-of-generation ids and vocabulary size for checks
		f, err := gguf.Open(vocab)
		if err != nil {
			return nil, fmt.Errorf("remote: %s: vocab: %w", sp.Name, err)
		}
		o.tok, err = tokenizer.FromGGUF(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("remote: %s: vocab %s: %w", sp.Name, vocab, err)
		}
	}
	var err error
	if o.sampler, err = samplerSetting(sp, "native"); err != nil {
		return nil, err
	}
	if o.nProbs, err = sp.intOption("n_probs", 2, 0, 20); err != nil {
		return nil, err
	}
	switch api := sp.Options.Get("api"); api {
	case "", "openai":
	case "native":
		if o.server != serverSGLang {
			return nil, fmt.Errorf("remote: %s: api=native is SGLang's /generate: it needs server=sglang", sp.Name)
		}
		if o.ids != idsResponse {
			return nil, fmt.Errorf("remote: %s: api=native gives the server's own ids: set ids=response (vocab= alone implies ids=vocab)", sp.Name)
		}
		o.native = true
	default:
		return nil, fmt.Errorf("remote: %s: api=%q: want openai (/v1/completions) or native (SGLang's /generate)", sp.Name, api)
	}
	if v := sp.Options.Get("eog"); v != "" {
		o.eogIDs = map[int32]bool{}
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("remote: %s: eog=%q: want end-of-generation token ids, comma-separated", sp.Name, v)
			}
			o.eogIDs[int32(n)] = true
		}
	}
	if v := sp.Options.Get("batch_invariant"); v != "" && v != "1" && v != "0" {
		return nil, fmt.Errorf("remote: %s: batch_invariant=%q: want 1 (the vLLM server runs with VLLM_BATCH_INVARIANT=1) or 0", sp.Name, v)
	}
	return o, nil
}

func (*openAI) kind() engine.Kind   { return engine.KindText }
func (o *openAI) exactTokens() bool { return o.ids == idsResponse }
func (o *openAI) advice() string {
	switch o.server {
	case serverVLLM:
		return "start vLLM with VLLM_BATCH_INVARIANT=1 (compute capability 8.0 or newer; declare it with batch_invariant=1), " +
			"tensor parallelism 1, and --no-enable-prefix-caching; keep --max-num-seqs low"
	case serverSGLang:
		return "start SGLang with --enable-deterministic-inference (and --disable-radix-cache if the self-test still differs)"
	case serverLlamaCpp:
		return "start llama-server with one slot (-np 1), --no-cache-prompt and a fixed KV-cache type (-ctk/-ctv)"
	case serverOllama:
		return "Ollama has no determinism mode: set OLLAMA_NUM_PARALLEL=1 and keep num_ctx fixed (option num_ctx)"
	}
	return "run the server with one request at a time (no batching), no prefix cache, and a fixed seed"
}

func (o *openAI) check(ctx context.Context) (map[string]string, error) {
	set := map[string]string{"server": o.server, "ids": o.ids, "logprobs": strconv.Itoa(o.nProbs), "sampler": o.sampler}
	if o.native {
		set["api"] = "native"
	}
	var models openAIModels
	if err := o.c.getJSON(ctx, "/v1/models", &models); err != nil {
		return nil, err
	}
	if !hasModel(models.ids(), o.sp.Model) {
		return nil, fmt.Errorf("%w: the server lists %q, not %q", ErrWrongModel, models.ids(), o.sp.Model)
	}
	switch o.server {
	case serverVLLM:
		set["batch_invariant"] = "undeclared"
		if o.sp.Options.Get("batch_invariant") == "1" {
			set["batch_invariant"] = "declared"
		}
	case serverSGLang:
		// SGLang reports its server arguments at GET /get_server_info (older: /server_info).
		var info map[string]json.RawMessage
		err := o.c.getJSON(ctx, "/get_server_info", &info)
		if isStatus(err, 404) {
			err = o.c.getJSON(ctx, "/server_info", &info)
		}
		if err != nil {
			return nil, fmt.Errorf("sglang server info: %w", err)
		}
		switch string(info["enable_deterministic_inference"]) {
		case "true":
			set["deterministic_inference"] = "on"
		case "false":
			return nil, fmt.Errorf("%w: SGLang runs without deterministic inference: start it with --enable-deterministic-inference", ErrNondeterministic)
		default:
			set["deterministic_inference"] = "unknown"
		}
	}
	return set, nil
}

// openAICompletionRequest is POST /v1/completions's body. return_token_ids (vLLM 0.10.2+) and
// return_tokens_as_token_ids (vLLM) ask for ids; servers that do not know them ignore them.
type openAICompletionRequest struct {
	Model       string   `json:"model"`
	Prompt      any      `json:"prompt"` // the text, or the ids when the task gives them
	MaxTokens   int      `json:"max_tokens"`
	Temperature float32  `json:"temperature"`
	TopP        float32  `json:"top_p"`
	TopK        int      `json:"top_k,omitempty"`
	Seed        uint64   `json:"seed"`
	Logprobs    *int     `json:"logprobs,omitempty"`
	N           int      `json:"n"`
	Stream      bool     `json:"stream"`
	Echo        bool     `json:"echo"`
	Stop        []string `json:"stop"`
	ReturnIDs   bool     `json:"return_token_ids"`
	TokensAsIDs bool     `json:"return_tokens_as_token_ids"`
}

// openAITop is one alternative in llama-server's logprobs.content.
type openAITop struct {
	ID      *int32   `json:"id"`
	Logprob *float64 `json:"logprob"`
}

// openAICompletion is the part of a /v1/completions response the adapter reads: OpenAI's
// shape, vLLM's token_ids / prompt_token_ids, llama-server's logprobs.content.
type openAICompletion struct {
	Model   string `json:"model"`
	Choices []struct {
		Text           string  `json:"text"`
		FinishReason   *string `json:"finish_reason"`
		TokenIDs       []int32 `json:"token_ids"`
		PromptTokenIDs []int32 `json:"prompt_token_ids"`
		Logprobs       *struct {
			Tokens        []string              `json:"tokens"`
			TokenLogprobs []*float64            `json:"token_logprobs"`
			TopLogprobs   []map[string]*float64 `json:"top_logprobs"`
			Content       []struct {
				openAITop
				Top []openAITop `json:"top_logprobs"`
			} `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// openAIResult is what parseOpenAICompletion finds in a response.
type openAIResult struct {
	text       string
	ids        []int32 // nil when the response carries none
	idsFrom    string
	margins    []float32
	finish     string
	completion int // usage.completion_tokens, -1 when absent
	promptIDs  int // len(prompt_token_ids), -1 when absent
}

// parseOpenAICompletion decodes a /v1/completions response with one choice.
func parseOpenAICompletion(b []byte) (*openAIResult, error) {
	var r openAICompletion
	if err := decodeJSON(b, "/v1/completions", &r); err != nil {
		return nil, err
	}
	if len(r.Choices) != 1 {
		return nil, fmt.Errorf("%w: /v1/completions gave %d choices, want 1", ErrBadResponse, len(r.Choices))
	}
	ch := r.Choices[0]
	res := &openAIResult{text: ch.Text, completion: -1, promptIDs: -1}
	if ch.FinishReason != nil {
		res.finish = *ch.FinishReason
	}
	if r.Usage != nil {
		res.completion = r.Usage.CompletionTokens
	}
	if ch.PromptTokenIDs != nil {
		res.promptIDs = len(ch.PromptTokenIDs)
	}
	var tops [][]float64
	switch lp := ch.Logprobs; {
	case ch.TokenIDs != nil:
		res.ids, res.idsFrom = ch.TokenIDs, "exact (return_token_ids)"
	case lp != nil && len(lp.Content) > 0:
		res.ids, res.idsFrom = make([]int32, len(lp.Content)), "exact (logprobs.content ids)"
		for i, c := range lp.Content {
			if c.ID == nil {
				res.ids, res.idsFrom = nil, ""
				break
			}
			res.ids[i] = *c.ID
		}
	case lp != nil && len(lp.Tokens) > 0 && strings.HasPrefix(lp.Tokens[0], "token_id:"):
		res.ids, res.idsFrom = make([]int32, len(lp.Tokens)), "exact (return_tokens_as_token_ids)"
		for i, s := range lp.Tokens {
			n, err := strconv.ParseInt(strings.TrimPrefix(s, "token_id:"), 10, 32)
			if err != nil || !strings.HasPrefix(s, "token_id:") || n < 0 {
				return nil, fmt.Errorf("%w: /v1/completions logprobs token %q: want token_id:N", ErrBadResponse, s)
			}
			res.ids[i] = int32(n)
		}
	}
	if lp := ch.Logprobs; lp != nil {
		if len(lp.Content) > 0 {
			for _, c := range lp.Content {
				var t []float64
				for _, a := range c.Top {
					if a.Logprob != nil {
						t = append(t, *a.Logprob)
					}
				}
				tops = append(tops, t)
			}
		} else {
			for _, m := range lp.TopLogprobs {
				var t []float64
				for _, v := range m {
					if v != nil {
						t = append(t, *v)
					}
				}
				tops = append(tops, t)
			}
		}
	}
	if res.ids != nil && len(tops) == len(res.ids) {
		res.margins = margins(tops)
	}
	if res.ids != nil && res.completion >= 0 && res.completion != len(res.ids) {
		return nil, fmt.Errorf("%w: /v1/completions gave %d token ids for %d completion tokens", ErrBadResponse, len(res.ids), res.completion)
	}
	return res, nil
}

func (o *openAI) run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	temp, topK, topP, err := textDecode(t.Text, o.sampler == "genquorum")
	if err != nil {
		return nil, err
	}
	req := openAICompletionRequest{Model: o.sp.Model, Prompt: t.Prompt, MaxTokens: t.Text.MaxTokens, Temperature: temp, TopP: topP,
		Seed: t.Seed, N: 1, Stop: []string{}, ReturnIDs: true, TokensAsIDs: o.ids == idsResponse}
	if topK > 0 {
		req.TopK = topK
	}
	if o.native {
		return o.sglangRun(ctx, t, temp, topK, topP)
	}
	if len(t.Text.PromptIDs) > 0 {
		req.Prompt = t.Text.PromptIDs
	}
	if o.nProbs > 0 {
		req.Logprobs = &o.nProbs
	}
	b, err := o.c.do(ctx, "POST", "/v1/completions", req)
	if err != nil {
		return nil, err
	}
	res, err := parseOpenAICompletion(b)
	if err != nil {
		return nil, err
	}
	ids, from := res.ids, res.idsFrom
	switch {
	case o.ids == idsTokenize:
		ids, from, res.margins = nil, "re-tokenized (server /tokenize)", nil
		if res.text != "" {
			if ids, err = o.serverTokenize(ctx, res.text); err != nil {
				return nil, err
			}
		}
	case o.ids == idsVocab:
		ids, from, res.margins = o.tok.Encode(res.text, false, true), "re-tokenized (vocab "+o.sp.Options.Get("vocab")+")", nil
	case ids == nil:
		hint := ""
		if o.server == serverSGLang {
			hint = "api=native (SGLang's /generate gives its own, exact ids), or "
		}
		return nil, fmt.Errorf("%w: the %s server gave no token ids (it lacks vLLM's return_token_ids and llama-server's logprobs ids): "+
			"set %sids=tokenize or vocab=FILE.gguf to accept re-tokenized ids, which are not exact", ErrBadResponse, o.server, hint)
	}
	if o.ids != idsResponse && res.completion >= 0 && res.completion != len(ids) {
		return nil, fmt.Errorf("%w: re-tokenizing the text gave %d ids, the server generated %d tokens: ids would not be exact",
			ErrBadResponse, len(ids), res.completion)
	}
	if ids == nil {
		ids = []int32{}
	}
	info := map[string]string{"ids": from, "finish_reason": res.finish}
	if res.promptIDs >= 0 {
		info["prompt_ids"] = strconv.Itoa(res.promptIDs)
	}
	return &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: []byte(res.text), Tokens: ids, Margins: res.margins, Info: info}, nil
}

// serverTokenize re-tokenizes text with the server's POST /tokenize, in the request shapes of
// vLLM (model, prompt, add_special_tokens) and llama-server (content, add_special) at once.
func (o *openAI) serverTokenize(ctx context.Context, text string) ([]int32, error) {
	var r struct {
		Tokens []int32 `json:"tokens"`
	}
	in := map[string]any{"model": o.sp.Model, "prompt": text, "add_special_tokens": false, "content": text, "add_special": false}
	if err := o.c.postJSON(ctx, "/tokenize", in, &r); err != nil {
		return nil, err
	}
	return r.Tokens, nil
}

// canScore: vLLM (prompt_logprobs) and SGLang (/generate with logprob_start_len) score a
// claimed continuation in one request; llama-server, Ollama and unnamed servers do not.
func (o *openAI) canScore() bool { return o.server == serverVLLM || o.server == serverSGLang }

func (o *openAI) promptIDs(ctx context.Context, t engine.Task) ([]int32, error) {
	if len(t.Text.PromptIDs) > 0 {
		return t.Text.PromptIDs, nil
	}
	if o.server == serverSGLang {
		return o.sglangPromptIDs(ctx, t.Prompt)
	}
	return o.vllmPromptIDs(ctx, t.Prompt)
}

func (o *openAI) score(ctx context.Context, prompt, claim []int32, topN int) ([]TokenScore, error) {
	if o.server == serverSGLang {
		return o.sglangScore(ctx, prompt, claim, topN)
	}
	return o.vllmScore(ctx, prompt, claim, topN)
}

func (o *openAI) eog(id int32) (isEOG, known bool) {
	switch {
	case o.eogIDs != nil:
		return o.eogIDs[id], true
	case o.tok != nil:
		return o.tok.IsEOG(id), true
	}
	return false, false
}

func (o *openAI) vocabSize() int {
	if o.tok != nil {
		return o.tok.NumTokens()
	}
	return 0
}
