package diffusion

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// Architecture is the general.architecture of the GGUF files this package writes.
const Architecture = "genquorum-diffusion"

// ErrFormat is wrapped by errors for GGUF files that are not valid models of this package.
var ErrFormat = errors.New("diffusion: not a valid model file")

// configKVs returns the metadata that describes m.
func (m *Model) configKVs() []gguf.KV {
	c := &m.Config
	ch := make([]int32, len(c.Channels))
	for i, v := range c.Channels {
		ch[i] = int32(v)
	}
	return []gguf.KV{
		{Key: "general.architecture", Value: Architecture},
		{Key: "diffusion.channels", Value: gguf.Array{Type: gguf.TypeInt32, Values: ch}},
		{Key: "diffusion.attn_from", Value: uint32(c.AttnFrom)},
		{Key: "diffusion.groups", Value: uint32(c.Groups)},
		{Key: "diffusion.time_dim", Value: uint32(c.TimeDim)},
		{Key: "diffusion.text_dim", Value: uint32(c.TextDim)},
		{Key: "diffusion.heads", Value: uint32(c.Heads)},
		{Key: "diffusion.context_len", Value: uint32(c.ContextLen)},
		{Key: "diffusion.image_size", Value: uint32(c.ImageSize)},
		{Key: "diffusion.timesteps", Value: uint32(c.Timesteps)},
		{Key: "diffusion.beta_start", Value: c.BetaStart},
		{Key: "diffusion.beta_end", Value: c.BetaEnd},
		{Key: "diffusion.vocab", Value: gguf.Array{Type: gguf.TypeString, Values: slices.Clone(m.Vocab)}},
	}
}

// variantKVs returns the metadata of the model's adapters (LoRA, textual inversion), if any.
func (m *Model) variantKVs() []gguf.KV {
	var kvs []gguf.KV
	if l := m.lora; l != nil {
		kvs = append(kvs,
			gguf.KV{Key: "diffusion.lora_rank", Value: uint32(l.Rank)},
			gguf.KV{Key: "diffusion.lora_alpha", Value: l.Alpha},
			gguf.KV{Key: "diffusion.lora_layers", Value: gguf.Array{Type: gguf.TypeString, Values: slices.Clone(l.Layers)}})
	}
	if ti, ok := m.params["text.ti_emb"]; ok {
		kvs = append(kvs, gguf.KV{Key: "diffusion.ti_tokens", Value: uint32(ti.Shape[0])})
	}
	return kvs
}

// readVariant reads the adapters that f's metadata announces into m: LoRA tensors
// NAME.lora_a/b and the textual-inversion rows text.ti_emb.
func (m *Model) readVariant(f *gguf.File) error {
	if _, ok := f.Value("diffusion.lora_rank"); ok {
		rank, err1 := f.Uint32("diffusion.lora_rank")
		alpha, err2 := f.Float32("diffusion.lora_alpha")
		layers, err3 := f.Strings("diffusion.lora_layers")
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if rank == 0 || rank > 64 || !(alpha > 0) {
			return fmt.Errorf("%w: LoRA rank %d or alpha %g out of range", ErrFormat, rank, alpha)
		}
		for _, l := range layers {
			w := m.params[l+".w"]
			if w == nil || w.Rank() != 2 || m.params[l+".lora_a"] != nil {
				return fmt.Errorf("%w: LoRA layer %q is not a linear layer or repeats", ErrFormat, l)
			}
			a, err := readF32(f, l+".lora_a", []int{int(rank), w.Shape[1]})
			if err != nil {
				return err
			}
			b, err := readF32(f, l+".lora_b", []int{w.Shape[0], int(rank)})
			if err != nil {
				return err
			}
			m.add(l+".lora_a", a)
			m.add(l+".lora_b", b)
		}
		m.lora = &LoRA{Rank: int(rank), Alpha: alpha, Layers: slices.Clone(layers)}
	}
	if _, ok := f.Value("diffusion.ti_tokens"); ok {
		k, err := f.Uint32("diffusion.ti_tokens")
		if err != nil || k == 0 || int(k) >= len(m.Vocab) {
			return fmt.Errorf("%w: %d textual-inversion tokens for a vocabulary of %d (%v)", ErrFormat, k, len(m.Vocab), err)
		}
		t, err := readF32(f, "text.ti_emb", []int{int(k), m.Config.TextDim})
		if err != nil {
			return err
		}
		m.add("text.ti_emb", t)
	}
	return nil
}

// tiTokens returns the number of textual-inversion rows f announces.
func tiTokens(f *gguf.File) int {
	k, err := f.Uint32("diffusion.ti_tokens")
	if err != nil {
		return 0
	}
	return int(k)
}

// f32Tensor returns t as a GGUF F32 tensor called name (shape reversed into GGUF order).
func f32Tensor(name string, t *tensor.Tensor) gguf.WriterTensor {
	shape := make([]uint64, t.Rank())
	for i, d := range t.Shape {
		shape[t.Rank()-1-i] = uint64(d)
	}
	data := make([]byte, 4*t.Len())
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return gguf.WriterTensor{Name: name, Shape: shape, Type: gguf.TypeF32, Data: data}
}

// weightTensors returns the parameters as GGUF tensors in canonical order.
func (m *Model) weightTensors() []gguf.WriterTensor {
	ts := make([]gguf.WriterTensor, len(m.names))
	for i, n := range m.names {
		ts[i] = f32Tensor(n, m.params[n])
	}
	return ts
}

// WriteGGUF writes the model (architecture, vocabulary and weights, F32) as GGUF to w. The
// bytes depend only on the model's contents.
func (m *Model) WriteGGUF(w io.Writer) error {
	return gguf.Write(w, append(m.configKVs(), m.variantKVs()...), m.weightTensors())
}

// Save writes the model to path (through a temporary file renamed into place, so that an
// interrupted save leaves the old file).
func (m *Model) Save(path string) error {
	return writeFileAtomic(path, func(w io.Writer) error { return m.WriteGGUF(w) })
}

func writeFileAtomic(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("diffusion: save: %w", err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("diffusion: save %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("diffusion: save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("diffusion: save %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("diffusion: save: %w", err)
	}
	return nil
}

// readConfig reads the architecture and vocabulary of a model file.
func readConfig(f *gguf.File) (Config, []string, error) {
	var c Config
	arch, err := f.String("general.architecture")
	if err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if arch != Architecture {
		return c, nil, fmt.Errorf("%w: architecture %q, want %q", ErrFormat, arch, Architecture)
	}
	ch, err := f.Int32s("diffusion.channels")
	if err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(ch) == 0 || len(ch) > maxLevels {
		return c, nil, fmt.Errorf("%w: %d levels", ErrFormat, len(ch))
	}
	for _, v := range ch {
		c.Channels = append(c.Channels, int(v))
	}
	u := func(key string) int {
		v, e := f.Uint32(key)
		if e != nil && err == nil {
			err = e
		}
		return int(min(v, math.MaxInt32))
	}
	c.AttnFrom, c.Groups, c.TimeDim = u("diffusion.attn_from"), u("diffusion.groups"), u("diffusion.time_dim")
	c.TextDim, c.Heads, c.ContextLen = u("diffusion.text_dim"), u("diffusion.heads"), u("diffusion.context_len")
	c.ImageSize, c.Timesteps = u("diffusion.image_size"), u("diffusion.timesteps")
	if err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	for _, b := range []struct {
		key string
		dst *float64
	}{{"diffusion.beta_start", &c.BetaStart}, {"diffusion.beta_end", &c.BetaEnd}} {
		v, ok := f.Value(b.key)
		fv, isF := v.(float64)
		if !ok || !isF {
			return c, nil, fmt.Errorf("%w: %s missing or not a float64", ErrFormat, b.key)
		}
		*b.dst = fv
	}
	if err := c.Validate(); err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	vocab, err := f.Strings("diffusion.vocab")
	if err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if err := checkVocab(vocab); err != nil {
		return c, nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return c, slices.Clone(vocab), nil
}

// readF32 reads tensor name of f, which must be F32 with the given row-major shape.
func readF32(f *gguf.File, name string, shape []int) (*tensor.Tensor, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	ok := ti.Type == gguf.TypeF32 && len(ti.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = ti.Shape[len(shape)-1-i] == uint64(shape[i])
	}
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q is %s %v, want F32 of row-major shape %v", ErrFormat, name, ti.Type, ti.Shape, shape)
	}
	data, err := f.Dequantize(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return tensor.FromData(data, shape...), nil
}

// ReadGGUF reads a model written by WriteGGUF (or a checkpoint written by Trainer.Save,
// whose extra tensors are ignored). Every tensor's type and shape are checked against the
// architecture before its data is read.
func ReadGGUF(f *gguf.File) (*Model, error) {
	c, vocab, err := readConfig(f)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: c, Vocab: vocab, params: map[string]*tensor.Tensor{}, sched: NewSchedule(c.Timesteps, c.BetaStart, c.BetaEnd)}
	k := tiTokens(f)
	if k < 0 || k >= len(vocab) {
		return nil, fmt.Errorf("%w: %d textual-inversion tokens for a vocabulary of %d", ErrFormat, k, len(vocab))
	}
	for _, s := range c.specs(len(vocab) - k) {
		t, err := readF32(f, s.name, s.shape)
		if err != nil {
			return nil, err
		}
		m.add(s.name, t)
	}
	if err := m.readVariant(f); err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads the model file at path.
func Load(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// readBytes parses GGUF bytes held in memory.
func readBytes(b []byte) (*gguf.File, error) {
	return gguf.Read(bytes.NewReader(b), int64(len(b)), nil)
}
