package remote

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/engine"
)

// Start readies a remote engine for a node: it parses spec, requires a declared digest, opens
// the engine (launch checks), refuses a text engine that gives no token ids (see NodeReady),
// and runs SelfTest. Only an
// engine that passes all of these should be registered. It logs the pinned settings and the
// self-test's outcome on log.
func Start(ctx context.Context, spec string, log *slog.Logger) (*Engine, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	if sp.Digest.IsZero() {
		return nil, fmt.Errorf("remote: engine %s: a node needs the model's content digest (digest=64 hex digits): "+
			"genquorum cannot hash weights on another server, so the operator declares them", sp.Name)
	}
	e, err := Open(ctx, sp)
	if err != nil {
		return nil, err
	}
	e.log = log
	if ok, why := NodeReady(e); !ok {
		return nil, fmt.Errorf("remote: engine %s: %s", sp.Name, why)
	}
	if e.Kind() == engine.KindText && !e.ExactTokens() {
		log.Warn("remote engine gives re-tokenized ids, not the engine's own: an honest node may disagree where the model "+
			"generated a non-canonical tokenization", "engine", e.Name())
	}
	probe, other := ProbeTasks(e)
	rep, err := SelfTest(ctx, e, probe, other)
	if err != nil {
		return nil, err
	}
	log.Info("remote engine self-tested", "engine", e.Name(), "url", sp.URL, "probe", rep.Probe.String()[:12],
		"tokens", len(rep.Tokens), "elapsed", rep.Elapsed.Round(1e6), "settings", formatSettings(rep.Settings))
	return e, nil
}

// formatSettings writes settings as "k=v k=v", keys sorted.
func formatSettings(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// Check is the operator's self-test of a spec (genquorum engine selftest): it parses spec,
// opens the engine and runs SelfTest with ProbeTasks. Unlike Start it accepts a spec without
// a digest and an engine without exact token ids; the Engine says what a node would refuse.
func Check(ctx context.Context, spec string) (*Engine, *Report, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, nil, err
	}
	e, err := Open(ctx, sp)
	if err != nil {
		return nil, nil, err
	}
	probe, other := ProbeTasks(e)
	rep, err := SelfTest(ctx, e, probe, other)
	return e, rep, err
}

// NodeReady says whether a node would register e (Start's checks beyond the self-test), and
// why not: it needs a declared digest, and a text engine must give token ids, the engine's own
// or re-tokenized ones the operator opted into (openai ids=tokenize or vocab=): text tasks are
// fingerprinted by their ids (text:tokens). Ollama's native API gives none.
func NodeReady(e *Engine) (bool, string) {
	switch {
	case e.spec.Digest.IsZero():
		return false, "no digest=: a node needs the model's declared content digest (genquorum cannot hash remote weights)"
	case e.Kind() == engine.KindText && e.spec.Kind == KindOllama:
		return false, "Ollama returns no token ids, so it cannot take text tasks, which are fingerprinted by their ids (text:tokens)"
	}
	return true, ""
}
