package llm

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/genquorum/genquorum/filedigest"
	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
	"github.com/genquorum/genquorum/tokenizer"
)

// Errors callers branch on.
var (
	// ErrArchitecture is wrapped when a GGUF file holds a model this package cannot run.
	ErrArchitecture = errors.New("llm: unsupported architecture")
	// ErrTensorType is wrapped when a weight has a type this package cannot compute with.
	ErrTensorType = errors.New("llm: unsupported tensor type")
	// ErrContext is wrapped when prompt plus generated tokens would not fit the context.
	ErrContext = errors.New("llm: context overflow")
	// ErrToken is wrapped when a token id lies outside the vocabulary.
	ErrToken = errors.New("llm: token id out of range")
)

// Config holds a llama model's hyper-parameters, read from the GGUF metadata.
type Config struct {
	Arch      string  // general.architecture ("llama")
	Layers    int     // llama.block_count
	Dim       int     // llama.embedding_length
	FFN       int     // llama.feed_forward_length
	Heads     int     // llama.attention.head_count
	KVHeads   int     // llama.attention.head_count_kv (Heads when absent)
	HeadDim   int     // Dim / Heads
	RopeDim   int     // llama.rope.dimension_count (HeadDim when absent); must equal HeadDim
	RopeBase  float32 // llama.rope.freq_base (10000 when absent)
	NormEps   float32 // llama.attention.layer_norm_rms_epsilon
	Context   int     // llama.context_length: the most tokens one sequence may hold
	Vocab     int     // rows of token_embd.weight
	FileType  string  // the weight type of the attention/FFN matrices, e.g. "f32", "f16", "q8_0"
	MaxMemory int64   // bytes of weights held after loading (float32 or int8 quants, plus decoding panels)
}

// weight is one matrix y = W x with W of shape [out, in] (one row per output feature). The
// representation follows the type stored in the file, so that the product can treat the
// activations as ggml's CPU backend does (see doc.go): F32 and F16 weights are held as float32
// (F16 values are exact in float32); Q8_0 weights keep their int8 quants (as float32, exact) per
// block of 32 inputs and their per-block scales.
type weight struct {
	typ     gguf.TensorType
	out, in int
	w       *tensor.Tensor // [out, in] as float32; nil for F16 until dense() widens it
	f16     *lazyDense     // F16: widens the raw bits to w on first use (tensor's product)
	pan     *panels        // w repacked for one-row products (decoding)
	q       []int8         // Q8_0: the quants, row-major [out, in]
	scales  []float32      // Q8_0: scales[o*nb+b] = d of row o, block b
	scT     []float32      // Q8_0: the scales block-major, scT[b*out+o] = scales[o*nb+b]
	lanes   []uint8        // Q8_0: the first out/32*32 rows in the lane layout of q8Lanes (batched passes)
}

// lazyDense widens an F16 matrix to float32 once, when a profile first needs tensor's product
// (the Exact profile's products use the F16 panels and never do).
type lazyDense struct {
	once sync.Once
	raw  []byte // the tensor's bytes (may alias the mapped file)
	out  int
	in   int
	w    *tensor.Tensor
}

// dense returns W as a float32 [out, in] tensor.
func (w *weight) dense() *tensor.Tensor {
	if w.w != nil || w.f16 == nil {
		return w.w
	}
	z := w.f16
	z.once.Do(func() {
		d := make([]float32, z.out*z.in)
		if err := gguf.Dequantize(gguf.TypeF16, z.raw, d); err != nil {
			panic(fmt.Sprintf("llm: widen F16 weight: %v", err)) // sizes were checked at load
		}
		z.w = tensor.FromData(d, z.out, z.in).Freeze()
	})
	return z.w
}

type layer struct {
	attnNorm, ffnNorm *tensor.Tensor
	q, k, v, o        weight
	gate, up, down    weight
}

// Model is a loaded llama-architecture model and its tokenizer. It is immutable after Load
// and safe for concurrent use.
type Model struct {
	Config Config
	// Tok is the tokenizer from the file's metadata.
	Tok *tokenizer.Tokenizer
	// Name is the model's name (file base name without .gguf unless Options.Name is set).
	Name string
	// Digest is the SHA-256 of the GGUF file.
	Digest [32]byte
	// ChatTemplate is the file's tokenizer.chat_template (a Jinja template), "" when absent.
	ChatTemplate string

	// The token embeddings [Vocab, Dim]: embd when stored as F32 (a view of the mapped file
	// or a copy), else embdRaw in the file's type, one row dequantised per lookup (embedRow).
	embd     []float32
	embdRaw  []byte
	embdType gguf.TensorType
	embdRow  int // bytes per row of embdRaw
	norm     *tensor.Tensor
	output   weight
	layers   []layer
	// logitBufs holds *[]float32 buffers for the logits of the verifiers' batched passes
	// (tens of MB are otherwise allocated and zeroed per verification).
	logitBufs sync.Pool
}

// logitBuf returns a buffer of at least n floats (contents undefined) from m.logitBufs;
// putLogitBuf gives it back once nothing refers to it.
func (m *Model) logitBuf(n int) *[]float32 {
	if b, ok := m.logitBufs.Get().(*[]float32); ok && len(*b) >= n {
		return b
	}
	b := make([]float32, n)
	return &b
}

func (m *Model) putLogitBuf(b *[]float32) { m.logitBufs.Put(b) }

// embedRow writes the embedding of token id into dst (Dim values): the same values as
// dequantising the whole table, since every supported type is dequantised block by block and a
// row is a whole number of blocks.
func (m *Model) embedRow(id int, dst []float32) {
	d := m.Config.Dim
	if m.embd != nil {
		copy(dst, m.embd[id*d:(id+1)*d])
		return
	}
	if err := gguf.Dequantize(m.embdType, m.embdRaw[id*m.embdRow:(id+1)*m.embdRow], dst[:d]); err != nil {
		panic(fmt.Sprintf("llm: embedding row %d: %v", id, err)) // sizes were checked at load
	}
}

// Load reads a GGUF file and prepares its weights for inference. It fails with an error
// wrapping ErrArchitecture for a non-llama model and ErrTensorType for weights of a type it
// cannot compute with (supported: F32, F16, Q8_0; BF16, Q4_0, Q4_K and Q6_K weights are
// dequantised to float32 and computed in plain float, see doc.go).
//
// Start-up cost: the file is memory-mapped (gguf.Open; read through where mapping is not
// available) and F32 weights are used in place, without a copy; F16 matrices are packed into
// decoding panels straight from their bits; other embeddings are dequantised a row at a time
// when a token is looked up. The mapping lives as long as the Model. The digest is the
// SHA-256 of the whole file, taken from the filedigest cache when the same file (by device,
// inode, size, mtime and ctime) was hashed before, computed from the mapping otherwise.
func Load(path string, name string) (*Model, error) {
	f, err := gguf.OpenWith(path, gguf.OpenOptions{Prefault: true})
	if err != nil {
		return nil, fmt.Errorf("llm: load %s: %w", path, err)
	}
	hash := filedigest.Reader(f, f.Size)
	if f.Mapped() {
		hash = filedigest.Bytes(f.Bytes())
	}
	digest, _, err := filedigest.Default().SHA256(f.Stat(), hash)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("llm: hash %s: %w", path, err)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".gguf")
	}
	m, err := fromGGUF(f, true)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if f.Mapped() {
		// The model's weights may alias the mapping: unmap when the model is unreachable.
		runtime.AddCleanup(m, func(f *gguf.File) { f.Close() }, f)
	} else {
		f.Close()
	}
	m.Name = name
	m.Digest = digest
	return m, nil
}

// FromGGUF builds a model from an opened GGUF file (whose reader must stay open during the
// call; the model keeps no reference to it). Name and Digest are left empty.
func FromGGUF(f *gguf.File) (*Model, error) { return fromGGUF(f, false) }

// fromGGUF is FromGGUF; with alias, weights may be views of f's mapping (f must then stay
// open, and mapped, for the model's life).
func fromGGUF(f *gguf.File, alias bool) (*Model, error) {
	cfg, err := readConfig(f)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	m := &Model{Tok: tok}
	if v, ok := f.Value("tokenizer.chat_template"); ok {
		m.ChatTemplate, _ = v.(string)
	}
	ld := loader{f: f, alias: alias && f.Mapped()}
	embInfo, err := f.Tensor("token_embd.weight")
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	if len(embInfo.Shape) != 2 || int(embInfo.Shape[0]) != cfg.Dim {
		return nil, fmt.Errorf("llm: token_embd.weight of shape %v, want [%d, vocab]", embInfo.Shape, cfg.Dim)
	}
	cfg.Vocab = int(embInfo.Shape[1])
	if tok.NumTokens() != cfg.Vocab {
		return nil, fmt.Errorf("llm: tokenizer has %d tokens, token_embd.weight %d rows", tok.NumTokens(), cfg.Vocab)
	}
	if embInfo.Type == gguf.TypeF32 {
		m.embd = ld.floats("token_embd.weight", cfg.Dim*cfg.Vocab)
	} else {
		m.embdType = embInfo.Type
		m.embdRaw = ld.raw("token_embd.weight", cfg.Dim*cfg.Vocab)
		m.embdRow = cfg.Dim / embInfo.Type.BlockSize() * embInfo.Type.TypeSize()
	}
	m.norm = ld.vector("output_norm.weight", cfg.Dim)
	outName := "output.weight"
	if _, err := f.Tensor(outName); err != nil {
		outName = "token_embd.weight" // tied embeddings
	}
	m.output = ld.matrix(outName, cfg.Dim, cfg.Vocab)
	kvDim := cfg.KVHeads * cfg.HeadDim
	for i := range cfg.Layers {
		p := "blk." + strconv.Itoa(i) + "."
		l := layer{
			attnNorm: ld.vector(p+"attn_norm.weight", cfg.Dim),
			ffnNorm:  ld.vector(p+"ffn_norm.weight", cfg.Dim),
			q:        ld.matrix(p+"attn_q.weight", cfg.Dim, cfg.Dim),
			k:        ld.matrix(p+"attn_k.weight", cfg.Dim, kvDim),
			v:        ld.matrix(p+"attn_v.weight", cfg.Dim, kvDim),
			o:        ld.matrix(p+"attn_output.weight", cfg.Dim, cfg.Dim),
			gate:     ld.matrix(p+"ffn_gate.weight", cfg.Dim, cfg.FFN),
			up:       ld.matrix(p+"ffn_up.weight", cfg.Dim, cfg.FFN),
			down:     ld.matrix(p+"ffn_down.weight", cfg.FFN, cfg.Dim),
		}
		m.layers = append(m.layers, l)
	}
	if ld.err != nil {
		return nil, ld.err
	}
	cfg.FileType = m.layers[0].q.typ.String()
	cfg.MaxMemory = ld.bytes
	m.Config = cfg
	return m, nil
}

func readConfig(f *gguf.File) (Config, error) {
	var c Config
	arch, err := f.String("general.architecture")
	if err != nil {
		return c, fmt.Errorf("llm: %w", err)
	}
	c.Arch = arch
	if arch != "llama" {
		return c, fmt.Errorf("%w %q (supported: llama)", ErrArchitecture, arch)
	}
	u := func(key string, def int, dst *int) {
		if err != nil {
			return
		}
		v, e := f.Uint32(arch + "." + key)
		switch {
		case e == nil:
			*dst = int(v)
		case errors.Is(e, gguf.ErrKeyNotFound) && def >= 0:
			*dst = def
		default:
			err = fmt.Errorf("llm: %s.%s: %w", arch, key, e)
		}
	}
	u("block_count", -1, &c.Layers)
	u("embedding_length", -1, &c.Dim)
	u("feed_forward_length", -1, &c.FFN)
	u("attention.head_count", -1, &c.Heads)
	u("attention.head_count_kv", c.Heads, &c.KVHeads)
	u("context_length", 2048, &c.Context)
	if err != nil {
		return c, err
	}
	if c.Layers <= 0 || c.Dim <= 0 || c.FFN <= 0 || c.Heads <= 0 || c.KVHeads <= 0 ||
		c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0 || (c.Dim/c.Heads)%2 != 0 || c.Context <= 0 ||
		c.Layers > 1024 || c.Dim > 1<<16 || c.FFN > 1<<18 {
		return c, fmt.Errorf("%w: bad hyper-parameters (layers %d, dim %d, ffn %d, heads %d/%d, context %d)",
			ErrArchitecture, c.Layers, c.Dim, c.FFN, c.Heads, c.KVHeads, c.Context)
	}
	c.HeadDim = c.Dim / c.Heads
	u("rope.dimension_count", c.HeadDim, &c.RopeDim)
	if err != nil {
		return c, err
	}
	if c.RopeDim != c.HeadDim {
		return c, fmt.Errorf("%w: partial rotary embedding (rope dims %d, head dim %d)", ErrArchitecture, c.RopeDim, c.HeadDim)
	}
	c.RopeBase = 10000
	if v, e := f.Float32(arch + ".rope.freq_base"); e == nil {
		c.RopeBase = v
	}
	c.NormEps = 1e-5
	if v, e := f.Float32(arch + ".attention.layer_norm_rms_epsilon"); e == nil {
		c.NormEps = v
	}
	if _, ok := f.Value(arch + ".rope.scaling.type"); ok {
		if s, _ := f.String(arch + ".rope.scaling.type"); s != "" && s != "none" {
			return c, fmt.Errorf("%w: rope scaling %q", ErrArchitecture, s)
		}
	}
	return c, nil
}

// loader reads tensors, remembering the first error. With alias, F32 data and raw bytes are
// views of the mapped file instead of copies.
type loader struct {
	f     *gguf.File
	alias bool
	err   error
	bytes int64
}

func (ld *loader) info(name string, shape ...int) (gguf.TensorInfo, bool) {
	if ld.err != nil {
		return gguf.TensorInfo{}, false
	}
	ti, err := ld.f.Tensor(name)
	if err != nil {
		ld.err = fmt.Errorf("llm: %w", err)
		return ti, false
	}
	ok := len(ti.Shape) == len(shape)
	for i := range shape {
		ok = ok && int(ti.Shape[i]) == shape[i]
	}
	if !ok && !(len(shape) == 1 && len(ti.Shape) == 1 && int(ti.Shape[0]) == shape[0]) {
		ld.err = fmt.Errorf("llm: tensor %q of shape %v, want %v", name, ti.Shape, shape)
		return ti, false
	}
	return ti, true
}

// check returns the info of a tensor that must be dequantisable and hold n elements.
func (ld *loader) check(name string, n int) (gguf.TensorInfo, bool) {
	if ld.err != nil {
		return gguf.TensorInfo{}, false
	}
	ti, err := ld.f.Tensor(name)
	if err != nil {
		ld.err = fmt.Errorf("llm: %w", err)
		return ti, false
	}
	if !gguf.CanDequantize(ti.Type) {
		ld.err = fmt.Errorf("%w %s (tensor %q)", ErrTensorType, ti.Type, name)
		return ti, false
	}
	if int(ti.NumElements()) != n {
		ld.err = fmt.Errorf("llm: tensor %q has %d elements, want %d", name, ti.NumElements(), n)
		return ti, false
	}
	return ti, true
}

// floats returns the tensor as float32: a view of the mapping for F32 data when aliasing,
// dequantised otherwise.
func (ld *loader) floats(name string, n int) []float32 {
	ti, ok := ld.check(name, n)
	if !ok {
		return nil
	}
	var data []float32
	var err error
	if ti.Type == gguf.TypeF32 && ld.alias {
		data, _, err = ld.f.Float32Data(name)
	} else {
		data, err = ld.f.Dequantize(name)
	}
	if err != nil {
		ld.err = fmt.Errorf("llm: %w", err)
		return nil
	}
	ld.bytes += int64(4 * len(data))
	return data
}

// raw returns the tensor's bytes (a view of the mapping when aliasing, else a copy).
func (ld *loader) raw(name string, n int) []byte {
	if _, ok := ld.check(name, n); !ok {
		return nil
	}
	var b []byte
	var err error
	if ld.alias {
		b, err = ld.f.TensorBytes(name)
	} else {
		b, err = ld.f.TensorData(name)
	}
	if err != nil {
		ld.err = fmt.Errorf("llm: %w", err)
		return nil
	}
	ld.bytes += int64(len(b))
	return b
}

func (ld *loader) vector(name string, n int) *tensor.Tensor {
	if _, ok := ld.info(name, n); !ok {
		return nil
	}
	d := ld.floats(name, n)
	if d == nil {
		return nil
	}
	return tensor.FromData(d, n)
}

// matrix loads a weight stored with ggml shape [in, out].
func (ld *loader) matrix(name string, in, out int) weight {
	ti, ok := ld.info(name, in, out)
	if !ok {
		return weight{}
	}
	w := weight{typ: ti.Type, out: out, in: in}
	switch ti.Type {
	case gguf.TypeQ8_0:
	case gguf.TypeF16:
		raw := ld.raw(name, in*out)
		if raw == nil {
			return weight{}
		}
		w.f16 = &lazyDense{raw: raw, out: out, in: in}
		w.pan = packPanelsF16Bits(raw, out, in)
		ld.bytes += int64(2 * len(w.pan.half))
		return w
	default:
		d := ld.floats(name, in*out)
		if d == nil {
			return weight{}
		}
		w.w = tensor.FromData(d, out, in).Freeze()
		w.pan = packPanels(d, out, in)
		ld.bytes += int64(4 * len(w.pan.data))
		return w
	}
	raw, err := ld.f.TensorBytes(name)
	if err != nil {
		ld.err = fmt.Errorf("llm: %w", err)
		return weight{}
	}
	const qk, bsize = 32, 34
	nb := in / qk
	if in%qk != 0 || len(raw) != out*nb*bsize {
		ld.err = fmt.Errorf("llm: q8_0 tensor %q: %d bytes for %d x %d", name, len(raw), out, in)
		return weight{}
	}
	w.scales = make([]float32, out*nb)
	w.q = make([]int8, out*in)
	w.scT = make([]float32, out*nb)
	for i := range out * nb {
		blk := raw[i*bsize : (i+1)*bsize]
		w.scales[i] = tensor.Float16ToFloat32(uint16(blk[0]) | uint16(blk[1])<<8)
		w.scT[(i%nb)*out+i/nb] = w.scales[i]
		for j, c := range blk[2:] {
			w.q[i*qk+j] = int8(c)
		}
	}
	ld.bytes += int64(out*in + 8*out*nb)
	if useQ8Lanes && out >= q8LaneOuts {
		w.lanes = packQ8Lanes(w.q, out, in)
		ld.bytes += int64(len(w.lanes))
	}
	return w
}
