package llm

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// Version identifies this engine's numerics in Artifact.Info; it changes whenever a change
// could alter a bit of any output.
const Version = "llm/1"

// Options configure Open.
type Options struct {
	// Name is the model's name in tasks; "" means the file's base name without ".gguf".
	Name string
}

// Engine runs text tasks on one GGUF model; it implements engine.Engine and is safe for
// concurrent use (each Run has its own state; the model is read-only).
type Engine struct {
	m   *Model
	ref engine.ModelRef
}

// Open loads the GGUF model at path (see Load) and returns an engine serving it under the
// name opts.Name and the file's SHA-256 digest.
func Open(path string, opts Options) (*Engine, error) {
	m, err := Load(path, opts.Name)
	if err != nil {
		return nil, err
	}
	return New(m), nil
}

// New returns an engine serving m (under m.Name and m.Digest).
func New(m *Model) *Engine {
	return &Engine{m: m, ref: engine.ModelRef{Name: m.Name, Digest: m.Digest}}
}

// Model returns the engine's model.
func (e *Engine) Model() *Model { return e.m }

// Name returns "llm:" followed by the model name, so that a registry can hold one engine per
// model.
func (e *Engine) Name() string { return "llm:" + e.ref.Name }

// Kinds returns the one kind the engine runs: text.
func (e *Engine) Kinds() []engine.Kind { return []engine.Kind{engine.KindText} }

// Models returns the one model the engine serves.
func (e *Engine) Models() []engine.ModelRef { return []engine.ModelRef{e.ref} }

// Prompt returns the ids a text task is evaluated on: Text.PromptIDs when given, otherwise
// Task.Prompt tokenized as llama-server does (BOS added, special tokens parsed).
func (e *Engine) Prompt(task engine.Task) []int32 {
	if task.Text != nil && len(task.Text.PromptIDs) > 0 {
		return task.Text.PromptIDs
	}
	return e.m.Tok.Encode(task.Prompt, true, true)
}

// Run generates the text task's continuation. It returns an error wrapping
// engine.ErrUnsupported for another kind of task, another model (by name, or by digest when
// the task pins one) or an unknown profile; ErrContext when prompt plus MaxTokens exceed the
// model's context; ctx's error when ctx ends (checked between tokens). The artifact's Data is
// the generated text (llama-server's content: pieces, control tokens as nothing), Tokens the
// generated ids and Margins the per-position top-1 minus top-2 logit margins.
func (e *Engine) Run(ctx context.Context, task engine.Task) (*engine.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if task.Kind != engine.KindText {
		return nil, fmt.Errorf("%w: %s engine runs text tasks, not %q", engine.ErrUnsupported, e.Name(), task.Kind)
	}
	if task.Model.Name != e.ref.Name || (!task.Model.Digest.IsZero() && task.Model.Digest != e.ref.Digest) {
		return nil, fmt.Errorf("%w: model %s (this engine serves %s)", engine.ErrUnsupported, task.Model, e.ref)
	}
	if err := task.Validate(); err != nil {
		return nil, err
	}
	profName := task.Profile
	if profName == "" {
		profName = tensor.Exact.Name
	}
	prof, err := tensor.ProfileByName(profName)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engine.ErrUnsupported, err)
	}
	tp := task.Text
	p := Params{Decode: tp.Decode, MaxTokens: tp.MaxTokens, Temperature: tp.Temperature, TopK: tp.TopK, TopP: tp.TopP, Seed: task.Seed}
	if p.Decode == "" {
		p.Decode = DecodeGreedy
	}
	res, err := e.m.Generate(ctx, e.Prompt(task), p, prof)
	if err != nil {
		return nil, err
	}
	a := &engine.Artifact{
		MediaType: engine.MediaTypeTokens,
		Data:      []byte(res.Text),
		Tokens:    res.Tokens,
		Margins:   make([]float32, len(res.Steps)),
		Info: map[string]string{
			"engine":       Version,
			"model":        e.ref.Name,
			"model_digest": e.ref.Digest.String(),
			"weights":      e.m.Config.FileType,
			"profile":      prof.Name,
			"decode":       p.Decode,
			"prompt_ids":   strconv.Itoa(len(res.Prompt)),
			"batch":        "prompt in one pass, then one token per pass; bits independent of GOMAXPROCS",
		},
	}
	for i, s := range res.Steps {
		a.Margins[i] = s.Margin
		if math.IsInf(float64(s.Margin), 0) {
			a.Margins[i] = math.MaxFloat32
		}
	}
	return a, nil
}
