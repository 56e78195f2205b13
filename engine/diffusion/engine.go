package diffusion

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// Version identifies this engine's numerics in Artifact.Info; it changes whenever a change
// could alter a bit of any output.
const Version = "diffusion/1"

// Named is a model with the name and content digest tasks refer to it by.
type Named struct {
	Name   string
	Digest engine.Digest // SHA-256 of the model file
	Model  *Model
}

// LoadNamed loads the model file at path under name ("" means the file's base name without
// ".gguf"); its digest is the SHA-256 of the file's bytes.
func LoadNamed(name, path string) (Named, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Named{}, fmt.Errorf("diffusion: %w", err)
	}
	f, err := readBytes(b)
	if err != nil {
		return Named{}, fmt.Errorf("load %s: %w", path, err)
	}
	return namedFrom(name, path, b, f)
}

// namedFrom is LoadNamed on the file's contents b, parsed as f (path names it in errors).
func namedFrom(name, path string, b []byte, f *gguf.File) (Named, error) {
	m, err := ReadGGUF(f)
	if err != nil {
		return Named{}, fmt.Errorf("load %s: %w", path, err)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".gguf")
	}
	return Named{Name: name, Digest: sha256.Sum256(b), Model: m}, nil
}

// NamedModel returns m under name with the digest of its GGUF encoding (what Save writes).
func NamedModel(name string, m *Model) (Named, error) {
	var buf bytes.Buffer
	if err := m.WriteGGUF(&buf); err != nil {
		return Named{}, err
	}
	return Named{Name: name, Digest: sha256.Sum256(buf.Bytes()), Model: m}, nil
}

// Engine runs image tasks on one or more diffusion models; it implements engine.Engine and is
// safe for concurrent use (the models are read-only; each Run has its own state).
type Engine struct {
	models []Named
}

// New returns an engine serving models, whose names must be unique. The models' parameters
// are frozen (see tensor.Tensor.Freeze): they must not change afterwards.
func New(models ...Named) (*Engine, error) {
	seen := map[string]bool{}
	for _, nm := range models {
		if nm.Name == "" || seen[nm.Name] {
			return nil, fmt.Errorf("diffusion: model name %q empty or repeated", nm.Name)
		}
		seen[nm.Name] = true
		for _, p := range nm.Model.params {
			p.Freeze()
		}
	}
	return &Engine{models: append([]Named(nil), models...)}, nil
}

// Open loads the model file at path (see LoadNamed) and returns an engine serving it.
func Open(name, path string) (*Engine, error) {
	nm, err := LoadNamed(name, path)
	if err != nil {
		return nil, err
	}
	return New(nm)
}

// Name returns "diffusion".
func (e *Engine) Name() string { return "diffusion" }

// Kinds returns the one kind the engine runs: image.
func (e *Engine) Kinds() []engine.Kind { return []engine.Kind{engine.KindImage} }

// Models returns the models served, in the order given to New.
func (e *Engine) Models() []engine.ModelRef {
	refs := make([]engine.ModelRef, len(e.models))
	for i, nm := range e.models {
		refs[i] = engine.ModelRef{Name: nm.Name, Digest: nm.Digest}
	}
	return refs
}

// Lookup returns the served model matching ref (by name, and by digest unless ref's is zero).
func (e *Engine) Lookup(ref engine.ModelRef) (Named, bool) {
	for _, nm := range e.models {
		if nm.Name == ref.Name && (ref.Digest.IsZero() || ref.Digest == nm.Digest) {
			return nm, true
		}
	}
	return Named{}, false
}

// Run generates the image task's PNG. It returns an error wrapping engine.ErrUnsupported for
// another kind of task, a model it does not serve or an unknown profile; engine.ErrInvalidTask
// or ErrParams for bad parameters; ctx's error when ctx ends (checked between steps).
func (e *Engine) Run(ctx context.Context, task engine.Task) (*engine.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if task.Kind != engine.KindImage {
		return nil, fmt.Errorf("%w: diffusion engine runs image tasks, not %q", engine.ErrUnsupported, task.Kind)
	}
	nm, ok := e.Lookup(task.Model)
	if !ok {
		return nil, fmt.Errorf("%w: model %s", engine.ErrUnsupported, task.Model)
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
	ip := task.Image
	p := SampleParams{Prompt: task.Prompt, NegativePrompt: ip.NegativePrompt, Sampler: ip.Sampler, Steps: ip.Steps,
		CFGScale: ip.CFGScale, Width: ip.Width, Height: ip.Height, Seed: task.Seed}
	p, err = nm.Model.normalize(p)
	if err != nil {
		return nil, err
	}
	img, err := nm.Model.Sample(ctx, p, prof)
	if err != nil {
		return nil, err
	}
	data, err := EncodePNG(img)
	if err != nil {
		return nil, err
	}
	return &engine.Artifact{
		MediaType: "image/png",
		Data:      data,
		Info: map[string]string{
			"engine":       Version,
			"model":        nm.Name,
			"model_digest": nm.Digest.String(),
			"profile":      prof.Name,
			"sampler":      p.Sampler,
			"steps":        strconv.Itoa(p.Steps),
			"cfg_scale":    strconv.FormatFloat(float64(p.CFGScale), 'g', -1, 32),
			"size":         fmt.Sprintf("%dx%d", p.Width, p.Height),
			"batch":        "conditional and unconditional in one batch of 2; bits independent of GOMAXPROCS",
		},
	}, nil
}
