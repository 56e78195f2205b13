package llm

import (
	"fmt"
	"math"
	"runtime"
	"sync"

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
	// logits, when long enough, receives the output product of a pass of several rows
	// instead of a fresh (zeroed) tensor: the verifiers lend a pooled buffer (Model.logitBuf).
	logits []float32
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
		s.m.embedRow(int(id), x.Data[i*d:(i+1)*d])
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
		h := &input{x: tp.RMSNorm(x, l.attnNorm, c.NormEps)} // shared by Q, K and V
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
		x = tp.Add(x, s.linear(&input{x: tp.Reshape(att, t, d)}, &l.o))
		h = &input{x: tp.RMSNorm(x, l.ffnNorm, c.NormEps)} // shared by gate and up
		g := tp.SwiGLU(s.linear(h, &l.gate), s.linear(h, &l.up))
		x = tp.Add(x, s.linear(&input{x: g}, &l.down))
	}
	s.n = total
	last := tensor.FromData(x.Data[(t-rows)*d:], rows, d)
	if rows == 0 {
		return nil, nil
	}
	out := s.linear(&input{x: tp.RMSNorm(last, s.m.norm, c.NormEps)}, &s.m.output)
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
	// A masked key adds float32(0·v) = ±0 to the weighted sum, which leaves it unchanged when
	// v is finite: the sum starts at +0 and is never -0 (a float32 sum is -0 only when both
	// addends are), and x + ±0 = x otherwise. So when every value a query may not see is
	// finite, the sum stops at the last key it sees (in a batched pass that halves the work);
	// an infinite or NaN value there makes 0·v NaN, as in tensor, and the sum runs over all keys.
	seeAll := !allFinite(v[(off+1)*hk*hd : total*hk*hd])
	// The vector kernels compute each score and each weighted sum with the same operations in
	// the same order, lane by lane; they could differ only in which of two NaN operands an
	// operation passes on, so they run only where no operation can meet two NaNs: finite
	// queries and keys for the scores (a product of finite values is finite or infinite, never
	// NaN), finite values and no NaN probability for the sums.
	lanes := t > 1 && hd%8 == 0 && allFinite(q) && allFinite(k[:total*hk*hd])
	finiteV := !seeAll && allFinite(v[:(off+1)*hk*hd])
	var qT, sc []float32
	tp := (t + 7) / 8 * 8
	if lanes {
		qT = s.scratch(3, hd*tp)
		clear(qT) // the lanes beyond t compute scores nobody reads
		sc = s.scratch(4, total*tp)
	}
	for h := range hq {
		kh := h / grp
		if lanes {
			// Scores of every query with every key it sees, eight queries per vector:
			// sc[j*tp + i] for query i and key j. The chunk of queries i0..i0+7 needs the keys
			// up to off+i0+7.
			for i := range t {
				for e, x := range q[(i*hq+h)*hd : (i*hq+h+1)*hd] {
					qT[e*tp+i] = x
				}
			}
			for i0 := 0; i0 < t; i0 += 8 {
				qkLanes(hd, min(total, off+i0+8), qT[i0:], tp, k[kh*hd:], hk*hd, sc[i0:], tp)
			}
		}
		for i := range t {
			valid := off + i + 1
			qv := q[(i*hq+h)*hd : (i*hq+h+1)*hd]
			row := probs[:valid]
			if lanes {
				for j := range row {
					row[j] = s.prof.Accum.Round(sc[j*tp+i]) * scale
				}
			} else {
				for j := range row {
					kv := k[(j*hk+kh)*hd : (j*hk+kh+1)*hd]
					var a float32
					for e, x := range qv {
						a += float32(x * kv[e])
					}
					row[j] = s.prof.Accum.Round(a) * scale
				}
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
			nan := false
			for j := range row {
				row[j] /= sum
				nan = nan || row[j] != row[j]
			}
			lim := valid
			if seeAll {
				clear(probs[valid:total])
				lim = total
			}
			clear(acc)
			if finiteV && !nan {
				pv(probs[:lim], v[kh*hd:], hk*hd, acc)
			} else {
				pvGo(probs[:lim], v[kh*hd:], hk*hd, acc)
			}
			o := out.Data[(i*hq+h)*hd : (i*hq+h+1)*hd]
			copy(o, acc)
			s.prof.Accum.RoundSlice(o)
		}
	}
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// qkLanesGo is the portable score kernel of attend and the specification of the assembly one:
// for the nkeys keys k[j*ldk:] and the eight queries in lanes of qT (qT[e*ldq + lane]),
// s[j*lds + lane] = the sequential float32 sum over e of float32(q[e]·k[e]), from zero.
func qkLanesGo(hd, nkeys int, qT []float32, ldq int, k []float32, ldk int, s []float32, lds int) {
	for j := range nkeys {
		kv := k[j*ldk : j*ldk+hd]
		for lane := range 8 {
			var a float32
			for e, x := range kv {
				a += float32(qT[e*ldq+lane] * x)
			}
			s[j*lds+lane] = a
		}
	}
}

// pvGo is the portable weighted sum of attend and the specification of the assembly kernel:
// acc[e] += float32(p[j]·v[j*ldv+e]) for j in order, for every e < len(acc).
func pvGo(p, v []float32, ldv int, acc []float32) {
	for j, pj := range p {
		vv := v[j*ldv : j*ldv+len(acc)]
		for e, x := range vv {
			acc[e] += float32(pj * x)
		}
	}
}

// input is an activation matrix [rows, in] and the forms of it the products read, made on
// first use and shared by the products of one input (Q, K and V; gate and up): rounded to F16
// for F16 weights, quantised to Q8_0 blocks for Q8_0 weights.
type input struct {
	x    *tensor.Tensor
	half *tensor.Tensor // x rounded to F16
	q    []int8         // x quantised to Q8_0 blocks of 32 (quantizeQ8), and the blocks' scales
	d    []float32
	acts *q8LaneActs // q and d packed for the lane kernel (q8LanesRows)
}

// linear returns x @ W^T for x [rows, in], treating the activations as ggml's CPU backend does
// for the weight's type: rounded to F16 for F16 weights, quantised to Q8_0 blocks for Q8_0
// weights (linearQ8), used as they are otherwise.
func (s *State) linear(x *input, w *weight) *tensor.Tensor {
	switch w.typ {
	case gguf.TypeF16:
		if x.half == nil {
			x.half = x.x.Clone()
			tensor.F16.RoundSlice(x.half.Data)
		}
		return s.product(x.half, w, true)
	case gguf.TypeQ8_0:
		if x.q == nil {
			x.q, x.d = quantizeQ8(x.x.Data, x.x.Len()/w.in, w.in)
		}
		return s.linearQ8(x, w)
	}
	return s.product(x.x, w, false)
}

// product returns x @ W^T under the profile: with panels.mulVec (one row) or panels.mulMat
// (several rows, each as mulVec; panels.mulMatHalf when halfX says that every value of x is
// an F16 value) when the profile allows (same bits as tensor), with tensor.Tape.Linear
// otherwise.
func (s *State) product(x *tensor.Tensor, w *weight, halfX bool) *tensor.Tensor {
	if x.Len()%w.in != 0 || w.pan == nil || !fastProfile(&s.prof, w.in) {
		return s.tp.Linear(x, w.dense(), nil)
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
	case halfX:
		out = s.outTensor(rows, w)
		w.pan.mulMatHalf(x.Data, rows, out.Data)
	default:
		out = s.outTensor(rows, w)
		w.pan.mulMat(x.Data, rows, out.Data)
	}
	s.prof.Accum.RoundSlice(out.Data)
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// outTensor returns the [rows, w.out] result of a product whose every element the caller
// writes: in s.logits for the output matrix when it is long enough, a new tensor otherwise.
func (s *State) outTensor(rows int, w *weight) *tensor.Tensor {
	if w == &s.m.output && len(s.logits) >= rows*w.out {
		return tensor.FromData(s.logits[:rows*w.out], rows, w.out)
	}
	return tensor.New(rows, w.out)
}

// linearQ8 computes x @ W^T for a Q8_0 weight as ggml_vec_dot_q8_0_q8_0 does: each row of x is
// quantised to Q8_0 blocks of 32 (quantizeQ8), each block's integer dot product with the
// weight's int8 quants is exact (q8Dots: int32, and at most 32 products of |q| <= 128·127, below
// 2^24, so it is the value a float32 product would give in any order), and the per-block terms
// d_w*d_x*isum are reduced over the blocks under the State's profile (Profile.Dot), rounded to
// its storage format. x.q and x.d hold x quantised (quantizeQ8). Weight rows are taken in
// chunks of q8Chunk, each chunk against every row of x, so that a batched pass reads the
// weights once.
func (s *State) linearQ8(x *input, w *weight) *tensor.Tensor {
	const q8Chunk = 256
	rows, nb := x.x.Len()/w.in, w.in/qk8
	xq, xd := x.q, x.d
	var out *tensor.Tensor
	if rows == 1 && w == &s.m.output {
		out = tensor.FromData(s.scratch(0, w.out), 1, w.out) // every element is written below
	} else {
		out = s.outTensor(rows, w)
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
	r0 := 0 // rows done by the lane kernel
	if seq && w.lanes != nil && rows >= q8LaneRows {
		if x.acts == nil {
			x.acts = packQ8Acts(xq, xd, rows, nb)
		}
		r0 = s.q8LanesRows(w, x.acts, xq, xd, rows, out.Data)
	}
	for o0 := 0; o0 < w.out && r0 < rows; o0 += q8Chunk {
		o1 := min(o0+q8Chunk, w.out)
		isums := s.isums[:(o1-o0)*nb]
		wq := w.q[o0*w.in : o1*w.in]
		for r := r0; r < rows; r++ {
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

// q8LanesRows computes the outputs of the first rows/4*4 rows of a batched Q8_0 product with
// the lane kernel on the activations xq, xd packed in a (q8Lanes: each weight vector read once for four rows, the same bits as
// q8MatVec), output groups split between goroutines, and returns the number of rows done. The
// outputs beyond the last whole group of 32 go through q8MatVec.
func (s *State) q8LanesRows(w *weight, a *q8LaneActs, xq []int8, xd []float32, rows int, out []float32) int {
	nb := w.in / qk8
	n32 := len(w.lanes) / (q8LaneOuts * w.in)
	work := func(lo, hi int) {
		q8Lanes(hi-lo, a, w.lanes[lo*q8LaneOuts*w.in:], w.scT[lo*q8LaneOuts:], w.out, out[lo*q8LaneOuts:], w.out)
	}
	procs := runtime.GOMAXPROCS(0)
	if procs == 1 || n32 < 8 || rows*w.in*w.out < 1<<16 {
		work(0, n32)
	} else {
		parts := min(procs, n32/4)
		var wg sync.WaitGroup
		for i := range parts {
			lo, hi := i*n32/parts, (i+1)*n32/parts
			wg.Go(func() { work(lo, hi) })
		}
		wg.Wait()
	}
	done := a.nr4 * q8LaneRows
	if o0 := n32 * q8LaneOuts; o0 < w.out {
		for r := range done {
			q8MatVec(nb, xq[r*w.in:(r+1)*w.in], xd[r*nb:(r+1)*nb], w.q[o0*w.in:], w.scT[o0:], w.out, out[r*w.out+o0:(r+1)*w.out])
		}
	}
	return done
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
			blk := (*[qk8]float32)(x[r*in+b*qk8 : r*in+(b+1)*qk8])
			var amax float32
			for _, v := range blk {
				amax = max(amax, math.Float32frombits(math.Float32bits(v)&0x7fffffff)) // |v|; NaN stays NaN
			}
			if amax != amax || amax > math.MaxFloat32 {
				d[r*nb+b] = float32(math.NaN())
				continue
			}
			d[r*nb+b] = tensor.F16.Round(amax / 127)
			var id float32
			if amax != 0 {
				id = 127 / amax
			}
			dst := (*[qk8]int8)(q[r*in+b*qk8 : r*in+(b+1)*qk8])
			for j, v := range blk {
				dst[j] = int8(roundEven(v * id))
			}
		}
	}
	return q, d
}

// roundEven returns x rounded to an integer, ties to even, for |x| < 2^22 (the quants: |x| is
// about 127 at most): adding and subtracting 1.5·2^23 rounds away the fraction in float32's
// round-to-nearest-even, exactly as math.RoundToEven does.
func roundEven(x float32) int32 {
	const magic = 0x1.8p23
	return int32(float32(x+magic) - magic)
}
