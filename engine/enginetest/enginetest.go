// Package enginetest is the conformance suite every engine.Engine implementation passes, in the
// manner of testing/fstest: call Run from the engine's own tests with a few tasks it supports.
//
// It checks the engine contract: models are listed and unique; each task runs; the same task
// gives byte-identical artifacts on repeated runs and with GOMAXPROCS 1 and 4; a cancelled
// context is honoured; a model the engine does not serve is refused with engine.ErrUnsupported.
package enginetest

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/engine"
)

// Run checks e against the engine contract using tasks, which e must be able to run. Keep the
// tasks small: each runs several times.
func Run(t *testing.T, e engine.Engine, tasks ...engine.Task) {
	t.Helper()
	if e.Name() == "" {
		t.Error("Name() is empty")
	}
	models := e.Models()
	if len(models) == 0 {
		t.Error("Models() is empty")
	}
	seen := map[engine.ModelRef]bool{}
	for _, m := range models {
		if seen[m] {
			t.Errorf("Models() lists %v twice", m)
		}
		seen[m] = true
	}
	if len(tasks) == 0 {
		t.Fatal("enginetest.Run needs at least one task")
	}

	for i, task := range tasks {
		if err := task.Validate(); err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		first := runWith(t, e, task, 0)
		if first == nil {
			continue
		}
		if first.MediaType == "" {
			t.Errorf("task %d: artifact has no media type", i)
		}
		if task.Kind == engine.KindText && first.MediaType == engine.MediaTypeTokens && len(first.Tokens) == 0 {
			t.Errorf("task %d: text artifact without tokens", i)
		}
		for _, procs := range []int{1, 4} {
			again := runWith(t, e, task, procs)
			if again != nil && !sameArtifact(first, again) {
				t.Errorf("task %d: artifact differs between runs (GOMAXPROCS %d): same task and profile must give identical bytes", i, procs)
			}
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.Run(ctx, tasks[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want an error wrapping context.Canceled", err)
	}

	unknown := tasks[0]
	unknown.Model = engine.ModelRef{Name: "enginetest-no-such-model", Digest: engine.Digest{0xde, 0xad}}
	if _, err := e.Run(t.Context(), unknown); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("Run with an unknown model = %v, want an error wrapping engine.ErrUnsupported", err)
	}
}

func runWith(t *testing.T, e engine.Engine, task engine.Task, procs int) *engine.Artifact {
	t.Helper()
	if procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	}
	a, err := e.Run(t.Context(), task)
	if err != nil {
		t.Errorf("Run(%s %q seed %d): %v", task.Kind, task.Prompt, task.Seed, err)
		return nil
	}
	if a == nil {
		t.Errorf("Run(%s %q) returned a nil artifact and no error", task.Kind, task.Prompt)
	}
	return a
}

func sameArtifact(a, b *engine.Artifact) bool {
	return a.MediaType == b.MediaType && bytes.Equal(a.Data, b.Data) && slices.Equal(a.Tokens, b.Tokens) &&
		slices.Equal(a.Margins, b.Margins)
}
