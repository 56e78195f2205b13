package remote

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/genquorum/genquorum/engine"
)

// NondeterministicError says that an engine answered the same probe task differently, and
// which setting to change. It wraps ErrNondeterministic.
type NondeterministicError struct {
	Engine string
	Phase  string // "repeat" (two runs one after the other) or "interleaved" (a run beside another request)
	Detail string // what differed
	Advice string // the settings to change
}

// Error names the engine, the run that differed, how, and what to change.
func (e *NondeterministicError) Error() string {
	return fmt.Sprintf("remote: %s is not deterministic: the probe task gave different outputs (%s run: %s): %s",
		e.Engine, e.Phase, e.Detail, e.Advice)
}

// Unwrap returns ErrNondeterministic, so that errors.Is finds it.
func (e *NondeterministicError) Unwrap() error { return ErrNondeterministic }

// Report is the outcome of a SelfTest that passed.
type Report struct {
	Engine   string        // the engine's name (with its pinned settings)
	Probe    engine.Digest // digest of the probe's artifact Data
	Tokens   []int32       // the probe's token ids (text engines)
	Runs     int           // generation requests made
	Elapsed  time.Duration // wall time of the whole test
	Settings map[string]string
}

// ProbeTasks returns the self-test's tasks for e: a greedy text task or a 4-step image task
// (the probe), and a different task (a longer greedy text task on another prompt, or another
// image prompt and seed) to run beside it.
func ProbeTasks(e *Engine) (probe, other engine.Task) {
	m := e.spec.ModelRef()
	if e.Kind() == engine.KindImage {
		probe = engine.Task{Kind: engine.KindImage, Model: m, Prompt: "a photo of a lighthouse at dusk", Seed: 1,
			Image: &engine.ImageParams{Steps: 4}}
		other = engine.Task{Kind: engine.KindImage, Model: m, Prompt: "a bowl of fruit on a wooden table", Seed: 2,
			Image: &engine.ImageParams{Steps: 4}}
		return probe, other
	}
	probe = engine.Task{Kind: engine.KindText, Model: m, Prompt: "The quick brown fox jumps over the lazy dog. Once upon a time", Seed: 1,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}
	other = engine.Task{Kind: engine.KindText, Model: m, Prompt: "In the beginning was the word, and the word was", Seed: 7,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 16}}
	return probe, other
}

// SelfTest checks that e is reproducible before a node registers it: it runs probe twice, one
// run after the other, then once more while other runs beside it, and requires the three
// artifacts to be identical (data, token ids and margins). A text engine with exact ids must
// return ids. It returns a *NondeterministicError naming the setting to change when outputs
// differ, or the engine's error when a run fails.
func SelfTest(ctx context.Context, e *Engine, probe, other engine.Task) (*Report, error) {
	start := time.Now()
	first, err := e.Run(ctx, probe)
	if err != nil {
		return nil, fmt.Errorf("remote: self-test of %s: probe: %w", e.Name(), err)
	}
	if e.ExactTokens() && len(first.Tokens) == 0 {
		return nil, fmt.Errorf("%w: self-test of %s: the probe gave no token ids", ErrBadResponse, e.Name())
	}
	second, err := e.Run(ctx, probe)
	if err != nil {
		return nil, fmt.Errorf("remote: self-test of %s: probe again: %w", e.Name(), err)
	}
	if d := differ(first, second); d != "" {
		return nil, &NondeterministicError{Engine: e.Name(), Phase: "repeat", Detail: d, Advice: e.Advice()}
	}
	var (
		wg                 sync.WaitGroup
		third              *engine.Artifact
		errProbe, errOther error
	)
	wg.Go(func() { third, errProbe = e.Run(ctx, probe) })
	wg.Go(func() { _, errOther = e.Run(ctx, other) })
	wg.Wait()
	if errProbe != nil {
		return nil, fmt.Errorf("remote: self-test of %s: probe beside another request: %w", e.Name(), errProbe)
	}
	if errOther != nil {
		return nil, fmt.Errorf("remote: self-test of %s: the other request: %w", e.Name(), errOther)
	}
	if d := differ(first, third); d != "" {
		return nil, &NondeterministicError{Engine: e.Name(), Phase: "interleaved", Detail: d, Advice: e.Advice()}
	}
	return &Report{Engine: e.Name(), Probe: first.Digest(), Tokens: first.Tokens, Runs: 4, Elapsed: time.Since(start), Settings: e.Settings()}, nil
}

// differ says how two artifacts differ, "" when they do not.
func differ(a, b *engine.Artifact) string {
	switch {
	case a.MediaType != b.MediaType:
		return fmt.Sprintf("media type %q then %q", a.MediaType, b.MediaType)
	case !slices.Equal(a.Tokens, b.Tokens):
		i := 0
		for i < min(len(a.Tokens), len(b.Tokens)) && a.Tokens[i] == b.Tokens[i] {
			i++
		}
		return fmt.Sprintf("token ids differ from position %d (%d and %d ids)", i, len(a.Tokens), len(b.Tokens))
	case !bytes.Equal(a.Data, b.Data):
		return fmt.Sprintf("output bytes differ (%d and %d bytes, digests %s and %s)", len(a.Data), len(b.Data),
			a.Digest().String()[:12], b.Digest().String()[:12])
	case !slices.Equal(a.Margins, b.Margins):
		return "same tokens, but the log-probabilities differ"
	}
	return ""
}
