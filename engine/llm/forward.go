package llm

import (
	"fmt"
	"math"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// State is one sequence being evaluated: the model, the profile every reduction follows, and
// the key/value cache of the tokens seen so far. A State is not safe for concurrent use;
// different States of one Model may run concurrently.
type State struct {
	m     *Model
	prof  tensor.Profile
	tp    *tensor.Tape // inference tape under prof
	k, v  [][]float32  // per layer: [n, KVHeads*HeadDim] keys (after RoPE) and values
	n     int          // tokens in the cache
	bufs  [][]float32  // reused buffers of one-row products (see scratch)
	isums []int32      // reused integer block sums of linearQ8
}

// scratch returns reusable buffer i of n floats (contents undefined). Buffer 0 holds the
// logits of a one-row output product, which Eval returns: valid until the next Eval.
func (s *State) scratch(i, n int) []float32 {
	for len(s.bufs) <= i {
		s.bufs = append(s.bufs, nil)
	}
	if len(s.bufs[i]) < n {
		s.bufs[i] = make([]float32, n)
	}
	return s.bufs[i][:n]
}

// NewState returns an empty sequence of m evaluated under profile p.
func (m *Model) NewState(p tensor.Profile) *State {
	return &State{
		m: m, prof: p, tp: tensor.NoGrad(p),
		k: make([][]float32, len(m.layers)), v: make([][]float32, len(m.layers)),
	}
}

// Len returns the number of tokens in the cache.
func (s *State) Len() int { return s.n }

// Clone returns an independent copy of s (its own cache), for beam search.
func (s *State) Clone() *State {
	c := s.m.NewState(s.prof)
	c.n = s.n
	for i := range s.k {
		c.k[i] = append(make([]float32, 0, cap(s.k[i])), s.k[i]...)
		c.v[i] = append(make([]float32, 0, cap(s.v[i])), s.v[i]...)
	}
	return c
}

// Truncate drops every cached token from position n on.
func (s *State) Truncate(n int) {
	if n < 0 || n > s.n {
		panic(fmt.Sprintf("llm: Truncate(%d) of a state of %d tokens", n, s.n))
	}
	kv := s.m.Config.KVHeads * s.m.Config.HeadDim
	for i := range s.k {
		s.k[i], s.v[i] = s.k[i][:n*kv], s.v[i][:n*kv]
	}
	s.n = n
}

// Eval appends ids to the sequence (one forward pass over all of them, batched) and returns
// the logits ([Vocab] per row, row-major) of the last rows positions: rows = 1 gives the
// next-token logits after ids, rows = len(ids) those after every prefix. The returned slice is
// valid until the next Eval on s. It fails with ErrContext when the cache would exceed the model's
// context and ErrToken for an id outside the vocabulary; the state is unchanged then.
func (s *State) Eval(ids []int32, rows int) ([]float32, error) {
	c := &s.m.Config
	if len(ids) == 0 || rows < 0 || rows > len(ids) {
		panic(fmt.Sprintf("llm: Eval of %d ids for %d rows", len(ids), rows))
	}
	if s.n+len(ids) > c.Context {
		return nil, fmt.Errorf("%w: %d cached + %d new tokens exceed the context of %d", ErrContext, s.n, len(ids), c.Context)
	}
	for _, id := range ids {
		if id < 0 || int(id) >= c.Vocab {
			return nil, fmt.Errorf("%w: %d (vocabulary of %d)", ErrToken, id, c.Vocab)
		}
	}
	tp := s.tp
	t, d, kvd := len(ids), c.Dim, c.KVHeads*c.HeadDim
	x := tensor.New(t, d)
	for i, id := range ids {
		copy(x.Data[i*d:(i+1)*d], s.m.embd[int(id)*d:int(id+1)*d])
	}
	s.prof.Storage.RoundSlice(x.Data)
	pos := make([]int, t)
	for i := range pos {
		pos[i] = s.n + i
	}
	scale := 1 / float32(math.Sqrt(float64(c.HeadDim)))
	total := s.n + t
	for li := range s.m.layers {
		l := &s.m.layers[li]
		h := tp.RMSNorm(x, l.attnNorm, c.NormEps)
		q := tp.RoPE(tp.Reshape(s.linear(h, &l.q), t, c.Heads, c.HeadDim), pos, c.RopeBase, false)
		k := tp.RoPE(tp.Reshape(s.linear(h, &l.k), t, c.KVHeads, c.HeadDim), pos, c.RopeBase, false)
		v := s.linear(h, &l.v)
		s.k[li] = append(s.k[li], k.Data...)
		s.v[li] = append(s.v[li], v.Data...)
		kc := tensor.FromData(s.k[li][:total*kvd], total, c.KVHeads, c.HeadDim)
		vc := tensor.FromData(s.v[li][:total*kvd], total, c.KVHeads, c.HeadDim)
		var att *tensor.Tensor
		if attendProfile(&s.prof) {
			att = s.attend(q.Data, t, s.k[li][:total*kvd], s.v[li][:total*kvd], total, scale)
		} else {
			att = tp.Attention(q, kc, vc, scale, true)
		}
		x = tp.Add(x, s.linear(tp.Reshape(att, t, d), &l.o))
		h = tp.RMSNorm(x, l.ffnNorm, c.NormEps)
		g := tp.SwiGLU(s.linear(h, &l.gate), s.linear(h, &l.up))
		x = tp.Add(x, s.linear(g, &l.down))
	}
	s.n = total
	last := tensor.FromData(x.Data[(t-rows)*d:], rows, d)
	if rows == 0 {
		return nil, nil
	}
	out := s.linear(tp.RMSNorm(last, s.m.norm, c.NormEps), &s.m.output)
	return out.Data, nil
}

// attendProfile reports whether attend gives tensor.Tape.Attention's bits under p: one
// sequential partial, no FMA, float32 operands (Exact among the presets).
func attendProfile(p *tensor.Profile) bool {
	return p.Lanes <= 1 && p.Chunk == 0 && !p.FMA && p.Input == tensor.F32
}

// attend returns tensor.Tape.Attention(q, k, v, scale, true) for the t new queries q
// ([t, Heads, HeadDim]) against the total cached keys and values k, v ([total, KVHeads,
// HeadDim]) under a profile accepted by attendProfile, computed as tensor does but without
// packing the cache into matrix panels for every token: each score is the sequential float32
// sum of the products rounded to Accum, times scale; the softmax is tensor's (row max, Exp,
// Profile.Sum, division); each output is the sequential sum over all total keys of
// probability times value (masked probabilities are zeros, as in tensor), rounded to Accum,
// then to Storage. TestAttendMatchesTensor checks the bits.
func (s *State) attend(q []float32, t int, k, v []float32, total int, scale float32) *tensor.Tensor {
	c := &s.m.Config
	hd, hq, hk := c.HeadDim, c.Heads, c.KVHeads
	grp, off := hq/hk, total-t
	out := tensor.New(t, hq, hd)
	probs := s.scratch(1, total)
	acc := s.scratch(2, hd)
	for i := range t {
		valid := off + i + 1
		for h := range hq {
			qv := q[(i*hq+h)*hd : (i*hq+h+1)*hd]
			kh := h / grp
			row := probs[:valid]
			for j := range row {
				kv := k[(j*hk+kh)*hd : (j*hk+kh+1)*hd]
				var a float32
				for e, x := range qv {
					a += float32(x * kv[e])
				}
				row[j] = s.prof.Accum.Round(a) * scale
			}
			m := float32(math.Inf(-1))
			for _, x := range row {
				if x > m || x != x {
					m = x
				}
			}
			for j, x := range row {
				row[j] = tensor.Exp(x - m)
			}
			sum := s.prof.Sum(row)
			for j := range row {
				row[j] /= sum
			}
			clear(probs[valid:total])
			clear(acc)
			for j, p := range probs[:total] {
				vv := v[(j*hk+kh)*hd : (j*hk+kh+1)*hd]
				for e, x := range vv {
					acc[e] += float32(p * x)
				}
			}
			o := out.Data[(i*hq+h)*hd : (i*hq+h+1)*hd]
			copy(o, acc)
			s.prof.Accum.RoundSlice(o)
		}
	}
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// linear returns x @ W^T for x [rows, in], treating the activations as ggml's CPU backend does
// for the weight's type: rounded to F16 for F16 weights, quantised to Q8_0 blocks for Q8_0
// weights (linearQ8), used as they are otherwise.
func (s *State) linear(x *tensor.Tensor, w *weight) *tensor.Tensor {
	switch w.typ {
	case gguf.TypeF16:
		xr := x.Clone()
		tensor.F16.RoundSlice(xr.Data)
		return s.product(xr, w)
	case gguf.TypeQ8_0:
		return s.linearQ8(x, w)
	}
	return s.product(x, w)
}

// product returns x @ W^T under the profile: with panels.mulVec (one row) or panels.mulMat
// (several rows, each as mulVec) when the profile allows (same bits as tensor), with
// tensor.Tape.Linear otherwise.
func (s *State) product(x *tensor.Tensor, w *weight) *tensor.Tensor {
	if x.Len()%w.in != 0 || w.pan == nil || !fastProfile(&s.prof, w.in) {
		return s.tp.Linear(x, w.w, nil)
	}
	rows := x.Len() / w.in
	var out *tensor.Tensor
	switch {
	case rows == 1 && w == &s.m.output:
		// The logits: the largest product of a step, its buffer reused (no zeroing needed,
		// mulVec writes every element).
		out = tensor.FromData(s.scratch(0, w.out), 1, w.out)
		w.pan.mulVec(x.Data, out.Data)
	case rows == 1:
		out = tensor.New(1, w.out)
		w.pan.mulVec(x.Data, out.Data)
	default:
		out = tensor.New(rows, w.out)
		w.pan.mulMat(x.Data, rows, out.Data)
	}
	s.prof.Accum.RoundSlice(out.Data)
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// linearQ8 computes x @ W^T for a Q8_0 weight as ggml_vec_dot_q8_0_q8_0 does: each row of x is
// quantised to Q8_0 blocks of 32 (quantizeQ8), each block's integer dot product with the
// weight's int8 quants is exact (q8Dots: int32, and at most 32 products of |q| <= 128·127, below
// 2^24, so it is the value a float32 product would give in any order), and the per-block terms
// d_w*d_x*isum are reduced over the blocks under the State's profile (Profile.Dot), rounded to
// its storage format. Weight rows are taken in chunks of q8Chunk, each chunk against every row
// of x, so that a batched pass reads the weights once.
func (s *State) linearQ8(x *tensor.Tensor, w *weight) *tensor.Tensor {
	const q8Chunk = 256
	rows, nb := x.Len()/w.in, w.in/qk8
	xq, xd := quantizeQ8(x.Data, rows, w.in)
	var out *tensor.Tensor
	if rows == 1 && w == &s.m.output {
		out = tensor.FromData(s.scratch(0, w.out), 1, w.out) // every element is written below
	} else {
		out = tensor.New(rows, w.out)
	}
	if len(s.isums) < q8Chunk*nb {
		s.isums = make([]int32, q8Chunk*nb)
	}
	sc := make([]float32, nb)
	is := make([]float32, nb)
	// With a single sequential partial and no FMA, Profile.Dot is ((0 + float32(s0*i0)) +
	// float32(s1*i1)) + ..., rounded to Accum: q8MatVec computes that (same bits,
	// TestQ8DotMatchesProfile).
	seq := s.prof.Lanes <= 1 && (s.prof.Chunk == 0 || s.prof.Chunk >= nb) && !s.prof.FMA
	for o0 := 0; o0 < w.out; o0 += q8Chunk {
		o1 := min(o0+q8Chunk, w.out)
		isums := s.isums[:(o1-o0)*nb]
		wq := w.q[o0*w.in : o1*w.in]
		for r := range rows {
			xq := xq[r*w.in : (r+1)*w.in]
			dst := out.Data[r*w.out+o0 : r*w.out+o1]
			xr := xd[r*nb : (r+1)*nb]
			if seq {
				q8MatVec(nb, xq, xr, wq, w.scT[o0:], w.out, dst)
				continue
			}
			q8Dots(nb, xq, wq, isums)
			for o := range dst {
				for b := range nb {
					sc[b] = w.scales[(o0+o)*nb+b] * xr[b]
					is[b] = float32(isums[o*nb+b])
				}
				dst[o] = s.prof.Dot(sc, is)
			}
		}
	}
	if seq {
		s.prof.Accum.RoundSlice(out.Data)
	}
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// quantizeQ8 quantises each row of x ([rows, in], in a multiple of 32) to Q8_0 blocks as
// ggml's quantize_row_q8_0 (x86 AVX2 path) does: amax = max |x|, d = amax/127 stored as F16,
// q = round-half-even(x * (127/amax)), so |q| <= 127. It returns the quants and the F16 scales
// (as float32), one per block. A block with an infinite or NaN value gets the scale NaN (its
// products are NaN, as a float32 product of its quants would be) and quants 0.
func quantizeQ8(x []float32, rows, in int) (q []int8, d []float32) {
	nb := in / qk8
	q, d = make([]int8, rows*in), make([]float32, rows*nb)
	for r := range rows {
		for b := range nb {
			blk := x[r*in+b*qk8 : r*in+(b+1)*qk8]
			var amax float32
			for _, v := range blk {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			if amax != amax || math.IsInf(float64(amax), 0) {
				d[r*nb+b] = float32(math.NaN())
				continue
			}
			d[r*nb+b] = tensor.F16.Round(amax / 127)
			var id float32
			if amax != 0 {
				id = 127 / amax
			}
			dst := q[r*in+b*qk8 : r*in+(b+1)*qk8]
			for j, v := range blk {
				dst[j] = int8(math.RoundToEven(float64(v * id)))
			}
		}
	}
	return q, d
}
