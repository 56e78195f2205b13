package remote

import (
	"context"
	"fmt"
	"strconv"

	"github.com/genquorum/genquorum/engine"
)

// ollama speaks Ollama's native API: POST /api/show, POST /api/generate with raw:true and
// every sampling setting in options (Ollama ignores top-level sampling fields).
type ollama struct {
	sp     Spec
	c      *client
	numCtx int
}

func newOllama(sp Spec, c *client) (*ollama, error) {
	n, err := sp.intOption("num_ctx", 2048, 16, 1<<20)
	if err != nil {
		return nil, err
	}
	return &ollama{sp: sp, c: c, numCtx: n}, nil
}

func (*ollama) kind() engine.Kind { return engine.KindText }
func (*ollama) exactTokens() bool { return false }
func (*ollama) advice() string {
	return "Ollama has no determinism mode: run it with OLLAMA_NUM_PARALLEL=1, one model loaded (OLLAMA_MAX_LOADED_MODELS=1), " +
		"and keep num_ctx fixed (option num_ctx)"
}

// ollamaShow is the part of POST /api/show's answer the adapter records.
type ollamaShow struct {
	Details struct {
		Format            string `json:"format"`
		Family            string `json:"family"`
		ParameterSize     string `json:"parameter_size"`
		QuantizationLevel string `json:"quantization_level"`
	} `json:"details"`
}

func (o *ollama) check(ctx context.Context) (map[string]string, error) {
	var show ollamaShow
	if err := o.c.postJSON(ctx, "/api/show", map[string]string{"model": o.sp.Model}, &show); err != nil {
		if isStatus(err, 404) {
			return nil, fmt.Errorf("%w: Ollama has no model %q (ollama pull it, or set model=)", ErrWrongModel, o.sp.Model)
		}
		return nil, err
	}
	set := map[string]string{"raw": "true", "num_ctx": strconv.Itoa(o.numCtx), "ids": "none"}
	if q := show.Details.QuantizationLevel; q != "" {
		set["quant"] = q
	}
	return set, nil
}

// ollamaGenerate is the part of /api/generate's answer the adapter reads (non-streaming shape
// of docs.ollama.com/api/usage, testdata/replay/ollama-generate.json).
type ollamaGenerate struct {
	Model      string  `json:"model"`
	Response   *string `json:"response"`
	Done       bool    `json:"done"`
	DoneReason string  `json:"done_reason"`
	EvalCount  int     `json:"eval_count"`
}

// parseOllamaGenerate decodes a non-streaming /api/generate answer.
func parseOllamaGenerate(b []byte) (*ollamaGenerate, error) {
	var g ollamaGenerate
	if err := decodeJSON(b, "/api/generate", &g); err != nil {
		return nil, err
	}
	if g.Response == nil || !g.Done {
		return nil, fmt.Errorf("%w: /api/generate: no final response (done %v)", ErrBadResponse, g.Done)
	}
	return &g, nil
}

func (o *ollama) run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if len(t.Text.PromptIDs) > 0 {
		return nil, fmt.Errorf("%w: Ollama takes prompts as text, not token ids", engine.ErrUnsupported)
	}
	temp, topK, topP, err := textDecode(t.Text, false)
	if err != nil {
		return nil, err
	}
	opts := map[string]any{"seed": t.Seed, "temperature": temp, "top_p": topP, "num_predict": t.Text.MaxTokens,
		"num_ctx": o.numCtx, "repeat_penalty": 1, "min_p": 0, "typical_p": 1, "mirostat": 0}
	if topK > 0 {
		opts["top_k"] = topK
	}
	if t.Seed > 1<<63-1 {
		return nil, fmt.Errorf("%w: Ollama takes seeds below 2^63", engine.ErrUnsupported)
	}
	req := map[string]any{"model": o.sp.Model, "prompt": t.Prompt, "raw": true, "stream": false, "options": opts}
	b, err := o.c.do(ctx, "POST", "/api/generate", req)
	if err != nil {
		if isStatus(err, 404) {
			return nil, fmt.Errorf("%w: %w", ErrWrongModel, err)
		}
		return nil, err
	}
	g, err := parseOllamaGenerate(b)
	if err != nil {
		return nil, err
	}
	if g.Model != "" && g.Model != o.sp.Model {
		return nil, fmt.Errorf("%w: Ollama answered with %q, asked for %q", ErrWrongModel, g.Model, o.sp.Model)
	}
	return &engine.Artifact{MediaType: "text/plain; charset=utf-8", Data: []byte(*g.Response),
		Info: map[string]string{"ids": "none (Ollama returns no token ids)", "eval_count": strconv.Itoa(g.EvalCount), "done_reason": g.DoneReason}}, nil
}
