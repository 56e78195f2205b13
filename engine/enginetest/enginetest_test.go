package enginetest

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/genquorum/genquorum/engine"
)

// echo is a deterministic toy engine that satisfies the contract.
type echo struct{}

func (echo) Name() string { return "echo" }
func (echo) Models() []engine.ModelRef {
	return []engine.ModelRef{{Name: "echo"}}
}
func (echo) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.Model.Name != "echo" {
		return nil, fmt.Errorf("%w: model %s", engine.ErrUnsupported, t.Model)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", t.Prompt, t.Seed)
	return &engine.Artifact{MediaType: "text/plain", Data: h.Sum(nil)}, nil
}

func TestEcho(t *testing.T) {
	Run(t, echo{}, engine.Task{
		Kind: engine.KindText, Model: engine.ModelRef{Name: "echo"}, Prompt: "hi",
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 1},
	})
}

func TestFake(t *testing.T) {
	m := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{1}}
	Run(t, NewFake(m), engine.Task{
		Kind: engine.KindText, Model: m, Prompt: "hi", Seed: 3,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 5},
	})
}
