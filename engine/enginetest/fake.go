package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/genquorum/genquorum/engine"
)

// Fake is a deterministic engine for tests and for benchmarks that must exclude engine time:
// for text tasks it returns MaxTokens token ids derived from SHA-256 of (model, prompt, seed),
// for image tasks the same bytes as an opaque artifact. The profile does not change the
// output, so honest fakes always agree. It serves the models it was given.
type Fake struct {
	models []engine.ModelRef
}

// NewFake returns a fake engine serving models.
func NewFake(models ...engine.ModelRef) *Fake { return &Fake{models: slices.Clone(models)} }

// Name returns "fake".
func (f *Fake) Name() string { return "fake" }

// Models returns the models given to NewFake.
func (f *Fake) Models() []engine.ModelRef { return slices.Clone(f.models) }

// Kinds returns text and image: the fake runs both.
func (f *Fake) Kinds() []engine.Kind { return []engine.Kind{engine.KindText, engine.KindImage} }

// Run returns the fake artifact of t.
func (f *Fake) Run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !slices.Contains(f.models, t.Model) {
		return nil, fmt.Errorf("%w: fake does not serve %s", engine.ErrUnsupported, t.Model)
	}
	n := 16
	if t.Text != nil {
		n = t.Text.MaxTokens
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%x\x00%s\x00%d", t.Model.Name, t.Model.Digest, t.Prompt, t.Seed)
	seed := h.Sum(nil)
	ids := make([]int32, n)
	for i := range ids {
		b := sha256.Sum256(binary.BigEndian.AppendUint32(seed, uint32(i)))
		ids[i] = int32(binary.BigEndian.Uint32(b[:]) % 32000)
	}
	data := fmt.Append(nil, ids)
	if t.Kind == engine.KindText {
		return &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: data, Tokens: ids}, nil
	}
	return &engine.Artifact{MediaType: "application/octet-stream", Data: data}, nil
}
