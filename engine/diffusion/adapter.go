package diffusion

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/gguf"
)

// AdapterArchitecture is the general.architecture of adapter files: the parameters a LoRA or
// textual inversion trained on top of a base model, and the base model's digest.
const AdapterArchitecture = "genquorum-diffusion-adapter"

// WriteAdapter writes the model's own trained parameters (its LoRA tensors or textual-inversion
// rows: those a Trainer updates) as a small GGUF file that names the base model by digest
// (diffusion.base_digest). It fails for a model with no adapters.
func (m *Model) WriteAdapter(w io.Writer, base engine.Digest) error {
	if m.only == nil || (m.lora == nil && m.params["text.ti_emb"] == nil) {
		return fmt.Errorf("diffusion: model has no adapters to write")
	}
	kvs := append([]gguf.KV{
		{Key: "general.architecture", Value: AdapterArchitecture},
		{Key: "diffusion.base_digest", Value: base.String()},
		{Key: "diffusion.vocab", Value: gguf.Array{Type: gguf.TypeString, Values: slices.Clone(m.Vocab)}},
	}, m.variantKVs()...)
	var ts []gguf.WriterTensor
	for _, n := range m.only {
		ts = append(ts, f32Tensor(n, m.params[n]))
	}
	return gguf.Write(w, kvs, ts)
}

// SaveAdapter writes the adapter file to path atomically.
func (m *Model) SaveAdapter(path string, base engine.Digest) error {
	return writeFileAtomic(path, func(w io.Writer) error { return m.WriteAdapter(w, base) })
}

// LoadAdapter applies the adapter file at path to base, which must be the model the adapter
// names by digest, and returns the combined model under name ("" means the file's base name)
// with the adapter file's SHA-256 as its digest (the adapter pins its base).
func LoadAdapter(base Named, name, path string) (Named, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Named{}, fmt.Errorf("diffusion: %w", err)
	}
	f, err := readBytes(b)
	if err != nil {
		return Named{}, fmt.Errorf("load %s: %w", path, err)
	}
	return adapterFrom(base, name, path, b, f)
}

// adapterFrom is LoadAdapter on the file's contents b, parsed as f (path names it in errors).
func adapterFrom(base Named, name, path string, b []byte, f *gguf.File) (Named, error) {
	fail := func(err error) (Named, error) { return Named{}, fmt.Errorf("load %s: %w", path, err) }
	if arch, err := f.String("general.architecture"); err != nil || arch != AdapterArchitecture {
		return fail(fmt.Errorf("%w: architecture %q, want %q", ErrFormat, arch, AdapterArchitecture))
	}
	want, err := f.String("diffusion.base_digest")
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrFormat, err))
	}
	if want != hex.EncodeToString(base.Digest[:]) {
		return fail(fmt.Errorf("%w: adapter for base %.12s, given %s", ErrFormat, want, base.Digest.String()[:12]))
	}
	vocab, err := f.Strings("diffusion.vocab")
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrFormat, err))
	}
	m := base.Model.clone()
	m.lora, m.only = nil, nil
	if k := tiTokens(f); k > 0 {
		if len(vocab) != len(m.Vocab)+k || !slices.Equal(vocab[:len(m.Vocab)], m.Vocab) {
			return fail(fmt.Errorf("%w: adapter vocabulary does not extend the base's by %d tokens", ErrFormat, k))
		}
		if err := checkVocab(vocab); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrFormat, err))
		}
		m.Vocab = slices.Clone(vocab)
	}
	if err := m.readVariant(f); err != nil {
		return fail(err)
	}
	if name == "" {
		name = trimExt(path)
	}
	return Named{Name: name, Digest: sha256.Sum256(b), Model: m}, nil
}

// trimExt returns path's base name without ".gguf".
func trimExt(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".gguf")
}

// LoadAny loads a model file or an adapter file under name ("" means the file's base name).
// An adapter is applied to the base model at basePath ("" means base.gguf in the adapter's
// directory), which must be the base the adapter names.
func LoadAny(name, path, basePath string) (Named, error) {
	return loadAny(os.ReadFile, name, path, basePath)
}

// LoadAnyFS is LoadAny on the files of fsys (paths as fs.FS names them).
func LoadAnyFS(fsys fs.FS, name, path, basePath string) (Named, error) {
	return loadAny(func(p string) ([]byte, error) { return fs.ReadFile(fsys, p) }, name, path, basePath)
}

func loadAny(read func(string) ([]byte, error), name, path, basePath string) (Named, error) {
	b, err := read(path)
	if err != nil {
		return Named{}, fmt.Errorf("diffusion: %w", err)
	}
	f, err := readBytes(b)
	if err != nil {
		return Named{}, fmt.Errorf("load %s: %w", path, err)
	}
	arch, _ := f.String("general.architecture")
	if arch != AdapterArchitecture {
		return namedFrom(name, path, b, f)
	}
	if basePath == "" {
		basePath = filepath.Join(filepath.Dir(path), "base.gguf")
	}
	bb, err := read(basePath)
	if err != nil {
		return Named{}, fmt.Errorf("base of adapter %s: diffusion: %w", path, err)
	}
	bf, err := readBytes(bb)
	if err != nil {
		return Named{}, fmt.Errorf("base of adapter %s: load %s: %w", path, basePath, err)
	}
	base, err := namedFrom("base", basePath, bb, bf)
	if err != nil {
		return Named{}, fmt.Errorf("base of adapter %s: %w", path, err)
	}
	return adapterFrom(base, name, path, b, f)
}
