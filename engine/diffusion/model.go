package diffusion

import (
	"fmt"
	"math"
	"slices"

	"github.com/genquorum/genquorum/tensor"
)

// Config is the architecture of a denoiser. The zero value is not valid; start from
// DefaultConfig (the shipped base model) or TinyConfig (tests).
type Config struct {
	// Channels are the feature channels of each resolution level, finest first; level l works
	// at ImageSize >> l. The number of levels is len(Channels).
	Channels []int
	// AttnFrom is the first level with cross-attention blocks (coarser levels have them too).
	AttnFrom int
	// Groups is the number of GroupNorm groups; it divides every entry of Channels.
	Groups int
	// TimeDim is the width of the timestep embedding after its MLP.
	TimeDim int
	// TextDim is the width of the text encoder's token embeddings.
	TextDim int
	// Heads is the number of cross-attention heads; it divides every channel count with
	// attention.
	Heads int
	// ContextLen is the number of tokens a prompt is encoded into (<bos>, words, padding).
	ContextLen int
	// ImageSize is the side of the training images (Fashion-MNIST's 28 padded to 32).
	ImageSize int
	// Timesteps is T, the number of noise levels of the DDPM schedule.
	Timesteps int
	// BetaStart and BetaEnd are the ends of the linear beta schedule.
	BetaStart, BetaEnd float64
}

// DefaultConfig is the architecture of the shipped base model.
func DefaultConfig() Config {
	return Config{Channels: []int{16, 32, 64}, AttnFrom: 1, Groups: 8, TimeDim: 128, TextDim: 64,
		Heads: 4, ContextLen: 8, ImageSize: 32, Timesteps: 1000, BetaStart: 1e-4, BetaEnd: 0.02}
}

// TinyConfig is a very small architecture with the same structure, for tests.
func TinyConfig() Config {
	return Config{Channels: []int{8, 16}, AttnFrom: 1, Groups: 4, TimeDim: 16, TextDim: 8,
		Heads: 2, ContextLen: 8, ImageSize: 32, Timesteps: 1000, BetaStart: 1e-4, BetaEnd: 0.02}
}

// Limits on a Config read from a file, so that a hostile file cannot ask for unbounded memory.
const (
	maxChannels = 1024
	maxLevels   = 6
)

// Validate reports whether c is a well-formed architecture.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("diffusion: config: "+format, args...)
	}
	switch {
	case len(c.Channels) == 0 || len(c.Channels) > maxLevels:
		return bad("%d levels, want 1 to %d", len(c.Channels), maxLevels)
	case c.Groups <= 0 || c.Heads <= 0 || c.TimeDim <= 0 || c.TextDim <= 0 || c.TimeDim > 4*maxChannels || c.TextDim > maxChannels:
		return bad("groups %d, heads %d, time dim %d, text dim %d out of range", c.Groups, c.Heads, c.TimeDim, c.TextDim)
	case c.AttnFrom < 0:
		return bad("attention from level %d", c.AttnFrom)
	case c.ContextLen < 2 || c.ContextLen > 77:
		return bad("context length %d, want 2 to 77", c.ContextLen)
	case c.ImageSize <= 0 || c.ImageSize%(1<<(len(c.Channels)-1)) != 0 || c.ImageSize > MaxImageSize:
		return bad("image size %d not a multiple of %d up to %d", c.ImageSize, 1<<(len(c.Channels)-1), MaxImageSize)
	case c.Timesteps < 2 || c.Timesteps > 10000:
		return bad("%d timesteps, want 2 to 10000", c.Timesteps)
	case !(c.BetaStart > 0 && c.BetaStart <= c.BetaEnd && c.BetaEnd < 1):
		return bad("betas %g to %g, want 0 < start <= end < 1", c.BetaStart, c.BetaEnd)
	}
	for l, ch := range c.Channels {
		if ch <= 0 || ch > maxChannels || ch%c.Groups != 0 || ((l >= c.AttnFrom || l == len(c.Channels)-1) && ch%c.Heads != 0) {
			return bad("level %d has %d channels: want 1 to %d, divisible by %d groups and (with attention) %d heads",
				l, ch, maxChannels, c.Groups, c.Heads)
		}
	}
	if c.Channels[0]%2 != 0 {
		return bad("level 0 channels %d must be even (sinusoidal timestep features)", c.Channels[0])
	}
	return nil
}

// Model is a denoiser: a U-Net predicting the noise in an image at a timestep, conditioned on a
// prompt through cross-attention over a small text encoder. Its parameters are named tensors
// (Names gives them in canonical order); it is read-only once loaded, so safe for concurrent
// sampling.
type Model struct {
	Config Config
	// Vocab is the text encoder's vocabulary; row i of "text.tok_emb" embeds Vocab[i].
	Vocab []string

	names  []string
	params map[string]*tensor.Tensor
	lora   *LoRA    // optional low-rank adapters (their tensors are in params)
	only   []string // when not nil, the only parameters a Trainer updates (a variant's own)
	sched  *Schedule
}

// Names returns the parameter names in canonical order (the order of creation and of files).
func (m *Model) Names() []string { return slices.Clone(m.names) }

// Param returns the named parameter, or nil.
func (m *Model) Param(name string) *tensor.Tensor { return m.params[name] }

// Params returns the parameters in canonical order.
func (m *Model) Params() []*tensor.Tensor {
	ps := make([]*tensor.Tensor, len(m.names))
	for i, n := range m.names {
		ps[i] = m.params[n]
	}
	return ps
}

// NumParams returns the number of scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Len()
	}
	return n
}

// Schedule returns the model's noise schedule.
func (m *Model) Schedule() *Schedule { return m.sched }

// paramSpec is one parameter to create: name, shape, and its initial standard deviation
// (0: zeros; negative: ones, for norm weights).
type paramSpec struct {
	name  string
	shape []int
	std   float64
}

// specs lists the parameters of c with vocabulary size v in canonical order.
func (c *Config) specs(v int) []paramSpec {
	var ps []paramSpec
	add := func(name string, std float64, shape ...int) {
		ps = append(ps, paramSpec{name, shape, std})
	}
	lin := func(name string, out, in int, gain float64) {
		add(name+".w", gain/math.Sqrt(float64(in)), out, in)
		add(name+".b", 0, out)
	}
	conv := func(name string, out, in, k int, gain float64) {
		add(name+".w", gain/math.Sqrt(float64(in*k*k)), out, in, k, k)
		add(name+".b", 0, out)
	}
	norm := func(name string, ch int) {
		add(name+".w", -1, ch)
		add(name+".b", 0, ch)
	}
	res := func(name string, in, out int) {
		norm(name+".norm1", in)
		conv(name+".conv1", out, in, 3, math.Sqrt2)
		lin(name+".time", out, c.TimeDim, 1)
		norm(name+".norm2", out)
		conv(name+".conv2", out, out, 3, 0.1)
		if in != out {
			conv(name+".skip", out, in, 1, 1)
		}
	}
	attn := func(name string, ch int) {
		norm(name+".norm", ch)
		lin(name+".q", ch, ch, 1)
		lin(name+".k", ch, c.TextDim, 1)
		lin(name+".v", ch, c.TextDim, 1)
		lin(name+".o", ch, ch, 0.1)
	}
	d := c.TextDim
	add("text.tok_emb", 1, v, d)
	add("text.pos_emb", 0.1, c.ContextLen, d)
	norm("text.norm1", d)
	lin("text.mlp1", 2*d, d, math.Sqrt2)
	lin("text.mlp2", d, 2*d, 0.1)
	norm("text.norm2", d)
	lin("time.mlp1", c.TimeDim, c.Channels[0], math.Sqrt2)
	lin("time.mlp2", c.TimeDim, c.TimeDim, 1)
	conv("in", c.Channels[0], 1, 3, 1)
	nl := len(c.Channels)
	for l, ch := range c.Channels {
		in := ch
		if l > 0 {
			in = c.Channels[l-1]
		}
		res(fmt.Sprintf("down.%d.res", l), in, ch)
		if l >= c.AttnFrom {
			attn(fmt.Sprintf("down.%d.attn", l), ch)
		}
		if l < nl-1 {
			conv(fmt.Sprintf("down.%d.ds", l), ch, ch, 3, 1)
		}
	}
	top := c.Channels[nl-1]
	res("mid.res", top, top)
	attn("mid.attn", top)
	for l := nl - 1; l >= 0; l-- {
		ch := c.Channels[l]
		res(fmt.Sprintf("up.%d.res", l), 2*ch, ch)
		if l >= c.AttnFrom {
			attn(fmt.Sprintf("up.%d.attn", l), ch)
		}
		if l > 0 {
			conv(fmt.Sprintf("up.%d.us", l), c.Channels[l-1], ch, 3, 1)
		}
	}
	norm("out.norm", c.Channels[0])
	conv("out", 1, c.Channels[0], 3, 0.1)
	return ps
}

// NewModel returns a model of architecture c with vocabulary vocab and parameters initialised
// from seed (normal with the fan-in scaling of each layer; the layers that end a residual
// branch start at a tenth of it), the same bits on every machine.
func NewModel(c Config, vocab []string, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := checkVocab(vocab); err != nil {
		return nil, err
	}
	m := &Model{Config: c, Vocab: slices.Clone(vocab), params: map[string]*tensor.Tensor{}}
	r := newRNG(seed, 0x1a17)
	for _, s := range c.specs(len(vocab)) {
		t := tensor.New(s.shape...)
		switch {
		case s.std < 0:
			for i := range t.Data {
				t.Data[i] = 1
			}
		case s.std > 0:
			r.normals(t.Data)
			sd := float32(s.std)
			for i := range t.Data {
				t.Data[i] = float32(t.Data[i] * sd)
			}
		}
		m.add(s.name, t)
	}
	m.sched = NewSchedule(c.Timesteps, c.BetaStart, c.BetaEnd)
	return m, nil
}

func (m *Model) add(name string, t *tensor.Tensor) {
	m.names = append(m.names, name)
	m.params[name] = t
}

// p returns the named parameter; a missing name is a programmer error.
func (m *Model) p(name string) *tensor.Tensor {
	t := m.params[name]
	if t == nil {
		panic("diffusion: no parameter " + name)
	}
	return t
}

const normEps = 1e-5

// linear applies the layer name (weights [out, in], bias [out]) to x [..., in], plus its LoRA
// adapter when the model has one for name.
func (m *Model) linear(tp *tensor.Tape, name string, x *tensor.Tensor) *tensor.Tensor {
	y := tp.Linear(x, m.p(name+".w"), m.p(name+".b"))
	if m.lora != nil {
		if a, ok := m.params[name+".lora_a"]; ok {
			y = tp.Add(y, tp.Scale(tp.Linear(tp.Linear(x, a, nil), m.params[name+".lora_b"], nil), m.lora.scale()))
		}
	}
	return y
}

func (m *Model) conv(tp *tensor.Tape, name string, x *tensor.Tensor, stride, pad int) *tensor.Tensor {
	return tp.Conv2d(x, m.p(name+".w"), m.p(name+".b"), stride, pad)
}

func (m *Model) groupNorm(tp *tensor.Tape, name string, x *tensor.Tensor) *tensor.Tensor {
	return tp.GroupNorm(x, m.Config.Groups, m.p(name+".w"), m.p(name+".b"), normEps)
}

// resBlock is h = conv1(silu(norm1 x)) + time(temb); h = conv2(silu(norm2 h)); h + skip(x).
func (m *Model) resBlock(tp *tensor.Tape, name string, x, temb *tensor.Tensor) *tensor.Tensor {
	h := m.conv(tp, name+".conv1", tp.SiLU(m.groupNorm(tp, name+".norm1", x)), 1, 1)
	te := m.linear(tp, name+".time", temb) // [B, out]
	h = tp.Add(h, tp.Reshape(te, te.Shape[0], te.Shape[1], 1, 1))
	h = m.conv(tp, name+".conv2", tp.SiLU(m.groupNorm(tp, name+".norm2", h)), 1, 1)
	if _, ok := m.params[name+".skip.w"]; ok {
		x = m.conv(tp, name+".skip", x, 1, 0)
	}
	return tp.Add(x, h)
}

// attnBlock is cross-attention from every pixel to the prompt's tokens, with a residual:
// x + o(attention(q(norm x), k(ctx), v(ctx))).
func (m *Model) attnBlock(tp *tensor.Tape, name string, x, ctx *tensor.Tensor) *tensor.Tensor {
	b, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	nh := m.Config.Heads
	hn := m.groupNorm(tp, name+".norm", x)
	seq := tp.Transpose(tp.Reshape(hn, b, c, h*w), 0, 2, 1) // [B, HW, C]
	q := tp.Reshape(m.linear(tp, name+".q", seq), b, h*w, nh, c/nh)
	k := tp.Reshape(m.linear(tp, name+".k", ctx), b, ctx.Shape[1], nh, c/nh)
	v := tp.Reshape(m.linear(tp, name+".v", ctx), b, ctx.Shape[1], nh, c/nh)
	scale := float32(1 / math.Sqrt(float64(c/nh)))
	a := tp.Reshape(tp.Attention(q, k, v, scale, false), b, h*w, c)
	o := tp.Transpose(m.linear(tp, name+".o", a), 0, 2, 1) // [B, C, HW]
	return tp.Add(x, tp.Reshape(o, b, c, h, w))
}

// encodeText returns the context [B, ContextLen, TextDim] of token ids (B rows of
// ContextLen): embeddings plus positions, normalised, a residual MLP, normalised.
func (m *Model) encodeText(tp *tensor.Tape, ids [][]int) *tensor.Tensor {
	n, d := m.Config.ContextLen, m.Config.TextDim
	flat := make([]int, 0, len(ids)*n)
	for _, row := range ids {
		if len(row) != n {
			panic(fmt.Sprintf("diffusion: %d token ids, want %d", len(row), n))
		}
		flat = append(flat, row...)
	}
	e := tp.Reshape(m.embed(tp, flat), len(ids), n, d)
	e = tp.Add(e, m.p("text.pos_emb"))
	h := tp.LayerNorm(e, m.p("text.norm1.w"), m.p("text.norm1.b"), normEps)
	h = tp.Add(h, m.linear(tp, "text.mlp2", tp.GELU(m.linear(tp, "text.mlp1", h))))
	return tp.LayerNorm(h, m.p("text.norm2.w"), m.p("text.norm2.b"), normEps)
}

// embed looks up token ids in the embedding table, which is "text.tok_emb" followed by the
// rows of a textual-inversion embedding when the model has one.
func (m *Model) embed(tp *tensor.Tape, ids []int) *tensor.Tensor {
	table := m.p("text.tok_emb")
	if extra, ok := m.params["text.ti_emb"]; ok {
		table = tp.Concat(0, table, extra)
	}
	return tp.Embedding(table, ids)
}

// timeFeatures returns the sinusoidal features [len(ts), dim] of integer timesteps: for
// i < dim/2, sin(t f_i) and cos(t f_i) with f_i = 10000^(-i/(dim/2)), as in DDPM.
func timeFeatures(ts []int, dim int) *tensor.Tensor {
	half := dim / 2
	out := tensor.New(len(ts), dim)
	for i := range half {
		f := tensor.Exp(float32(-math.Log(10000) * float64(i) / float64(half)))
		for r, t := range ts {
			s, c := tensor.SinCos(float64(t) * float64(f))
			out.Data[r*dim+i] = s
			out.Data[r*dim+half+i] = c
		}
	}
	return out
}

// Eps returns the model's prediction of the noise in x ([B, 1, H, W], H and W multiples of
// 2^(levels-1)) at timesteps ts (one per image) given prompt token ids (one row of ContextLen
// per image). Gradients flow to the parameters when tp records.
func (m *Model) Eps(tp *tensor.Tape, x *tensor.Tensor, ts []int, ids [][]int) *tensor.Tensor {
	c := &m.Config
	if x.Rank() != 4 || x.Shape[1] != 1 || len(ts) != x.Shape[0] || len(ids) != x.Shape[0] {
		panic(fmt.Sprintf("diffusion: Eps of x %v with %d timesteps and %d prompts", x.Shape, len(ts), len(ids)))
	}
	ctx := m.encodeText(tp, ids)
	temb := m.linear(tp, "time.mlp2", tp.SiLU(m.linear(tp, "time.mlp1", timeFeatures(ts, c.Channels[0]))))
	temb = tp.SiLU(temb)
	h := m.conv(tp, "in", x, 1, 1)
	nl := len(c.Channels)
	skips := make([]*tensor.Tensor, nl)
	for l := range nl {
		h = m.resBlock(tp, fmt.Sprintf("down.%d.res", l), h, temb)
		if l >= c.AttnFrom {
			h = m.attnBlock(tp, fmt.Sprintf("down.%d.attn", l), h, ctx)
		}
		skips[l] = h
		if l < nl-1 {
			h = m.conv(tp, fmt.Sprintf("down.%d.ds", l), h, 2, 1)
		}
	}
	h = m.resBlock(tp, "mid.res", h, temb)
	h = m.attnBlock(tp, "mid.attn", h, ctx)
	for l := nl - 1; l >= 0; l-- {
		h = m.resBlock(tp, fmt.Sprintf("up.%d.res", l), tp.Concat(1, h, skips[l]), temb)
		if l >= c.AttnFrom {
			h = m.attnBlock(tp, fmt.Sprintf("up.%d.attn", l), h, ctx)
		}
		if l > 0 {
			h = m.conv(tp, fmt.Sprintf("up.%d.us", l), tp.Upsample(h, 2), 1, 1)
		}
	}
	return m.conv(tp, "out", tp.SiLU(m.groupNorm(tp, "out.norm", h)), 1, 1)
}

// TokenIDs returns the ids of prompt under the model's vocabulary (see Tokenize).
func (m *Model) TokenIDs(prompt string) []int {
	return Tokenize(m.Vocab, prompt, m.Config.ContextLen)
}
