package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/engine"
)

// maxLabelBytes bounds Engine.Name, which the node records on the ledger (ledger.MaxNameBytes).
const maxLabelBytes = 128

// protocol is one kind of remote engine.
type protocol interface {
	// kind is the kind of task the engine runs.
	kind() engine.Kind
	// check runs the launch-time checks (server reachable, model loaded, launch settings that
	// decide determinism) and returns the settings it found or pins, as key=value.
	check(ctx context.Context) (map[string]string, error)
	// run runs a task whose kind and model Engine.Run has checked.
	run(ctx context.Context, t engine.Task) (*engine.Artifact, error)
	// exactTokens reports whether text artifacts carry the engine's own token ids.
	exactTokens() bool
	// advice names the settings to change when the engine proves non-deterministic.
	advice() string
}

// Engine is a remote engine serving one model; it implements engine.Engine and is safe for
// concurrent use. Create it with Open.
type Engine struct {
	spec     Spec
	proto    protocol
	settings map[string]string
	label    string
	log      *slog.Logger // set by Start; nil: slog.Default
}

// Open checks the server of sp (reachable, the declared model loaded, launch-time settings)
// and returns the engine. It sends no generation request; run SelfTest for that.
func Open(ctx context.Context, sp Spec) (*Engine, error) {
	c := newClient(sp)
	var p protocol
	var err error
	switch sp.Kind {
	case KindLlamaCpp:
		p, err = newLlamaCpp(sp, c)
	case KindOpenAI:
		p, err = newOpenAI(sp, c)
	case KindOllama:
		p, err = newOllama(sp, c)
	case KindA1111:
		p, err = newA1111(sp, c)
	case KindComfyUI:
		p, err = newComfyUI(sp, c)
	case KindExec:
		p, err = newExec(sp)
	default:
		err = fmt.Errorf("remote: unknown kind %q", sp.Kind)
	}
	if err != nil {
		return nil, err
	}
	settings, err := p.check(ctx)
	if err != nil {
		return nil, fmt.Errorf("remote: %s (%s %s): %w", sp.Name, sp.Kind, sp.URL, err)
	}
	e := &Engine{spec: sp, proto: p, settings: settings}
	e.label = label(sp, settings)
	return e, nil
}

// label is the engine's name: "remote/KIND:NAME{k=v,...}" with the pinned settings sorted by
// key; when that is over maxLabelBytes the settings are replaced by "#" and the first 16 hex
// digits of their SHA-256 (the full list is in every artifact's Info and in Settings).
func label(sp Spec, settings map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(settings)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + settings[k])
	}
	head := "remote/" + sp.Kind + ":" + sp.Name
	if s := head + "{" + b.String() + "}"; len(s) <= maxLabelBytes {
		return s
	}
	sum := sha256.Sum256([]byte(b.String()))
	s := head + "{#" + hex.EncodeToString(sum[:8]) + "}"
	if len(s) > maxLabelBytes {
		s = "remote/" + sp.Kind + ":#" + hex.EncodeToString(sum[:8])
	}
	return s
}

// Name is "remote/KIND:NAME{settings}": the kind, the model and the settings that decide
// determinism (checked or pinned), so that the node's registration records them on the
// ledger. It is at most 128 bytes (settings hashed when longer).
func (e *Engine) Name() string { return e.label }

// Spec returns the engine's spec.
func (e *Engine) Spec() Spec { return e.spec }

// Kind returns the kind of task the engine runs.
func (e *Engine) Kind() engine.Kind { return e.proto.kind() }

// Settings returns a copy of the settings found at Open and pinned on every request.
func (e *Engine) Settings() map[string]string { return maps.Clone(e.settings) }

// ExactTokens reports whether the engine's text artifacts carry the token ids the engine
// itself generated (false for Ollama, and for an OpenAI-compatible server whose ids are
// re-tokenized from the text). A node takes text tasks on re-tokenized ids only when the
// operator opted into them (see NodeReady).
func (e *Engine) ExactTokens() bool {
	return e.proto.kind() == engine.KindText && e.proto.exactTokens()
}

// Advice names the settings to change when the engine proves non-deterministic.
func (e *Engine) Advice() string { return e.proto.advice() }

// Models returns the one model the engine serves, with the operator-declared digest.
func (e *Engine) Models() []engine.ModelRef { return []engine.ModelRef{e.spec.ModelRef()} }

// Kinds returns the kind of task the adapter runs (text or image).
func (e *Engine) Kinds() []engine.Kind { return []engine.Kind{e.proto.kind()} }

// Run sends the task to the remote engine. It returns an error wrapping engine.ErrUnsupported
// for another model or kind of task, parameters the engine cannot honour (beam search;
// prompt ids on Ollama), or a task the server refuses (see refused: a node then commits to the
// ledger's unrunnable fingerprint instead of missing the window); ErrUnreachable, ErrWrongModel or ErrBadResponse when the server
// fails; ctx's error when ctx ends (the request in flight is cancelled). The profile of the
// task is recorded in Info but cannot change a remote engine's numerics.
func (e *Engine) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.Model.Name != e.spec.Name || (!t.Model.Digest.IsZero() && t.Model.Digest != e.spec.Digest) {
		return nil, fmt.Errorf("%w: model %s (this engine serves %s)", engine.ErrUnsupported, t.Model, e.spec.ModelRef())
	}
	if t.Kind != e.proto.kind() {
		return nil, fmt.Errorf("%w: %s runs %s tasks, not %s", engine.ErrUnsupported, e.spec.Kind, e.proto.kind(), t.Kind)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	a, err := e.proto.run(ctx, t)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if refused(err) {
			return nil, fmt.Errorf("%w: %s refused the task: %w", engine.ErrUnsupported, e.spec.Kind, err)
		}
		return nil, err
	}
	if a.Info == nil {
		a.Info = map[string]string{}
	}
	a.Info["engine"] = "remote/" + e.spec.Kind
	a.Info["url"] = e.spec.URL
	a.Info["model"] = e.spec.Name
	a.Info["remote_model"] = e.spec.Model
	a.Info["model_digest"] = e.spec.Digest.String() + " (declared by the operator)"
	a.Info["profile"] = t.Profile + " (not applied: remote numerics)"
	for k, v := range e.settings {
		a.Info["pinned."+k] = v
	}
	return a, nil
}

// ExitRefused is the exit status by which an exec engine's program refuses a task it cannot
// run (sysexits' EX_DATAERR): Run then returns an error wrapping engine.ErrUnsupported.
const ExitRefused = 65

// refused reports whether err is the remote engine refusing the task itself, not failing:
// an HTTP 400, 413 or 422 answer (the request as built from the task is bad, too large or
// unprocessable; every honest server of the same kind refuses it alike), or an exec program
// exiting with ExitRefused. Authentication, missing models (401, 403, 404) and server errors
// are the operator's problem, not the task's, and are not refusals.
func refused(err error) bool {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Status == ExitRefused
	}
	return isStatus(err, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
}

// textDecode maps a text task's decoding to temperature, top-k and top-p: greedy is
// temperature 0; beam search is refused (no remote protocol here offers it reproducibly). A
// sampled task is defined by genquorum's seeded sampler (engine/llm/SAMPLING.md), so it is
// refused unless the server implements that sampler (genquorum serve): llama.cpp's, vLLM's,
// SGLang's and Ollama's samplers draw other tokens from the same seed.
func textDecode(p *engine.TextParams, ourSampler bool) (temp float32, topK int, topP float32, err error) {
	switch {
	case p.Decode == "" || p.Decode == "greedy":
		return 0, 1, 1, nil
	case p.Decode == "sample":
		if !ourSampler {
			return 0, 0, 0, fmt.Errorf("%w: a sampled task needs genquorum's seeded sampler (engine/llm/SAMPLING.md); this server "+
				"samples with its own (declare sampler=genquorum only for a server that implements it)", engine.ErrUnsupported)
		}
		if p.Temperature <= 0 {
			return 0, 0, 0, fmt.Errorf("%w: sample with temperature %v", engine.ErrUnsupported, p.Temperature)
		}
		topP = p.TopP
		if topP <= 0 {
			topP = 1
		}
		return p.Temperature, p.TopK, topP, nil
	default:
		return 0, 0, 0, fmt.Errorf("%w: decode %q (remote engines take greedy, or sample on genquorum's sampler)", engine.ErrUnsupported, p.Decode)
	}
}

// samplerSetting reads the sampler= option (genquorum or native); def is the default.
func samplerSetting(sp Spec, def string) (string, error) {
	v := sp.Options.Get("sampler")
	switch v {
	case "":
		return def, nil
	case "genquorum", "native":
		return v, nil
	}
	return "", fmt.Errorf("remote: %s: sampler=%q: want genquorum (the server implements engine/llm/SAMPLING.md) or native", sp.Name, v)
}

// margins returns, per position, the top-1 minus top-2 log-probability (equal to the logit
// margin), or nil when a position has fewer than two alternatives.
func margins(tops [][]float64) []float32 {
	if len(tops) == 0 {
		return nil
	}
	out := make([]float32, len(tops))
	for i, lps := range tops {
		if len(lps) < 2 {
			return nil
		}
		s := slices.Clone(lps)
		slices.SortFunc(s, func(a, b float64) int { return -cmpFloat(a, b) })
		out[i] = float32(s[0] - s[1])
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
