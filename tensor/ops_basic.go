package tensor

import (
	"fmt"
	"maps"
	"slices"
)

// broadcastShape returns the shape a and b broadcast to (NumPy rules: shapes aligned at the
// right, a dim of 1 stretches). It panics when they do not broadcast.
func broadcastShape(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor: shapes %v and %v do not broadcast", a, b))
		}
	}
	return out
}

// bcaster maps flat indices of the broadcast output to flat indices of one input.
type bcaster struct {
	same     bool  // input shape == output shape
	suffix   int   // > 0: input is the trailing part of the output; index is o % suffix
	outShape []int // general case
	inStride []int // input stride per output axis, 0 where broadcast
}

func newBcaster(out, in []int) bcaster {
	if slices.Equal(out, in) {
		return bcaster{same: true}
	}
	n := numel(in)
	if len(in) <= len(out) && slices.Equal(out[len(out)-len(in):], in) && n > 0 {
		return bcaster{suffix: n}
	}
	st := stridesOf(in)
	is := make([]int, len(out))
	for i := range out {
		j := len(in) - len(out) + i
		if j >= 0 && in[j] != 1 {
			is[i] = st[j]
		}
	}
	return bcaster{outShape: out, inStride: is}
}

func (b *bcaster) index(o int) int {
	switch {
	case b.same:
		return o
	case b.suffix > 0:
		return o % b.suffix
	}
	idx := 0
	for d := len(b.outShape) - 1; d >= 0; d-- {
		idx += (o % b.outShape[d]) * b.inStride[d]
		o /= b.outShape[d]
	}
	return idx
}

// reduceTo sums the output-shaped gradient g down to an input of n elements, under the
// profile, in output order.
func (tp *Tape) reduceTo(g []float32, n int, bc *bcaster) []float32 {
	if bc.same {
		return g
	}
	return tp.sumBy(g, n, bc.index)
}

// binary is the common body of Add, Sub and Mul.
func (tp *Tape) binary(a, b *Tensor, f func(x, y float32) float32, da, db func(g, x, y float32) float32) *Tensor {
	shape := broadcastShape(a.Shape, b.Shape)
	out := tp.out(shape, a, b)
	ba, bb := newBcaster(shape, a.Shape), newBcaster(shape, b.Shape)
	for o := range out.Data {
		out.Data[o] = f(a.Data[ba.index(o)], b.Data[bb.index(o)])
	}
	return tp.finish(out, func(g []float32) {
		if needs(a) {
			t := getScratch(len(g)) // every element written
			for o := range g {
				t[o] = da(g[o], a.Data[ba.index(o)], b.Data[bb.index(o)])
			}
			a.addGrad(tp.reduceTo(t, a.Len(), &ba))
			putScratch(t)
		}
		if needs(b) {
			t := getScratch(len(g)) // every element written
			for o := range g {
				t[o] = db(g[o], a.Data[ba.index(o)], b.Data[bb.index(o)])
			}
			b.addGrad(tp.reduceTo(t, b.Len(), &bb))
			putScratch(t)
		}
	})
}

// Add returns a + b with broadcasting. The gradient of a broadcast input is summed under the
// profile.
func (tp *Tape) Add(a, b *Tensor) *Tensor {
	return tp.binary(a, b, func(x, y float32) float32 { return x + y },
		func(g, _, _ float32) float32 { return g }, func(g, _, _ float32) float32 { return g })
}

// Sub returns a - b with broadcasting.
func (tp *Tape) Sub(a, b *Tensor) *Tensor {
	return tp.binary(a, b, func(x, y float32) float32 { return x - y },
		func(g, _, _ float32) float32 { return g }, func(g, _, _ float32) float32 { return -g })
}

// Mul returns a * b element-wise with broadcasting.
func (tp *Tape) Mul(a, b *Tensor) *Tensor {
	return tp.binary(a, b, func(x, y float32) float32 { return float32(x * y) },
		func(g, _, y float32) float32 { return float32(g * y) }, func(g, x, _ float32) float32 { return float32(g * x) })
}

// Scale returns x * s.
func (tp *Tape) Scale(x *Tensor, s float32) *Tensor {
	out := tp.out(x.Shape, x)
	for i, v := range x.Data {
		out.Data[i] = float32(v * s)
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for i, v := range g {
			dx[i] += float32(v * s)
		}
	})
}

// Reshape returns x with a new shape of the same size; one dim may be -1 (inferred). The
// output shares x's Data (its gradient is its own, from the tape's arena when it has one).
func (tp *Tape) Reshape(x *Tensor, shape ...int) *Tensor {
	shape = slices.Clone(shape)
	infer, n := -1, 1
	for i, d := range shape {
		if d == -1 {
			infer = i
		} else {
			n *= d
		}
	}
	if infer >= 0 && n > 0 {
		shape[infer] = x.Len() / n
	}
	if numel(shape) != x.Len() {
		panic(fmt.Sprintf("tensor: Reshape %v to %v", x.Shape, shape))
	}
	out := &Tensor{Data: x.Data, Shape: shape, Strides: stridesOf(shape), requiresGrad: tp.record && x.requiresGrad, arena: tp.arena}
	if out.requiresGrad {
		tp.nodes = append(tp.nodes, func() {
			if out.Grad != nil {
				x.addGrad(out.Grad)
				out.releaseGrad()
			}
		})
	}
	return out
}

// permuteIndex returns, for each flat index of the permuted output, the flat index in x.
func permuteIndex(shape, perm []int) (outShape []int, src []int) {
	outShape = make([]int, len(perm))
	st := stridesOf(shape)
	ps := make([]int, len(perm))
	for i, p := range perm {
		outShape[i] = shape[p]
		ps[i] = st[p]
	}
	src = make([]int, numel(shape))
	idx := make([]int, len(perm))
	off := 0
	for o := range src {
		src[o] = off
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			off += ps[d]
			if idx[d] < outShape[d] {
				break
			}
			off -= ps[d] * idx[d]
			idx[d] = 0
		}
	}
	return outShape, src
}

// Transpose returns x with its axes permuted: output axis i is x's axis perm[i]. The data is
// copied into the new row-major order.
func (tp *Tape) Transpose(x *Tensor, perm ...int) *Tensor {
	if len(perm) != x.Rank() {
		panic(fmt.Sprintf("tensor: Transpose %v by %v", x.Shape, perm))
	}
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			panic(fmt.Sprintf("tensor: Transpose by invalid permutation %v", perm))
		}
		seen[p] = true
	}
	var shape, src []int
	if tp.arena != nil {
		shape, src = tp.arena.permuteIndex(x.Shape, perm)
	} else {
		shape, src = permuteIndex(x.Shape, perm)
	}
	out := tp.out(shape, x)
	for o, s := range src {
		out.Data[o] = x.Data[s]
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for o, s := range src {
			dx[s] += g[o]
		}
	})
}

// Concat joins tensors along axis; their other dims must agree.
func (tp *Tape) Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of nothing")
	}
	r := ts[0].Rank()
	if axis < 0 {
		axis += r
	}
	shape := slices.Clone(ts[0].Shape)
	shape[axis] = 0
	for _, t := range ts {
		if t.Rank() != r || !slices.Equal(t.Shape[:axis], ts[0].Shape[:axis]) || !slices.Equal(t.Shape[axis+1:], ts[0].Shape[axis+1:]) {
			panic(fmt.Sprintf("tensor: Concat shapes %v and %v on axis %d", ts[0].Shape, t.Shape, axis))
		}
		shape[axis] += t.Shape[axis]
	}
	outer := numel(shape[:axis])
	inner := numel(shape[axis+1:])
	out := tp.out(shape, ts...)
	off := 0
	for _, t := range ts {
		w := t.Shape[axis] * inner
		for o := range outer {
			copy(out.Data[o*shape[axis]*inner+off:], t.Data[o*w:(o+1)*w])
		}
		off += w
	}
	return tp.finish(out, func(g []float32) {
		off := 0
		for _, t := range ts {
			w := t.Shape[axis] * inner
			if needs(t) {
				dt := t.grad()
				for o := range outer {
					src := g[o*shape[axis]*inner+off:]
					for i := range w {
						dt[o*w+i] += src[i]
					}
				}
			}
			off += w
		}
	})
}

// Split cuts x along axis into pieces of the given sizes, which must add up to the dim.
func (tp *Tape) Split(x *Tensor, axis int, sizes ...int) []*Tensor {
	if axis < 0 {
		axis += x.Rank()
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	if total != x.Shape[axis] {
		panic(fmt.Sprintf("tensor: Split %v on axis %d into %v", x.Shape, axis, sizes))
	}
	outer := numel(x.Shape[:axis])
	inner := numel(x.Shape[axis+1:])
	outs := make([]*Tensor, len(sizes))
	off := 0
	for i, s := range sizes {
		shape := slices.Clone(x.Shape)
		shape[axis] = s
		out := tp.out(shape, x)
		w := s * inner
		start := off
		for o := range outer {
			copy(out.Data[o*w:(o+1)*w], x.Data[o*x.Shape[axis]*inner+start:])
		}
		outs[i] = tp.finish(out, func(g []float32) {
			dx := x.grad()
			for o := range outer {
				dst := dx[o*x.Shape[axis]*inner+start:]
				for j := range w {
					dst[j] += g[o*w+j]
				}
			}
		})
		off += w
	}
	return outs
}

// Sum returns the sum of all elements of x (rank 0), reduced under the profile.
func (tp *Tape) Sum(x *Tensor) *Tensor {
	out := tp.out(nil, x)
	out.Data[0] = tp.p.Sum(x.Data)
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for i := range dx {
			dx[i] += g[0]
		}
	})
}

// Mean returns the mean of all elements of x (rank 0): Sum divided by the count.
func (tp *Tape) Mean(x *Tensor) *Tensor {
	out := tp.out(nil, x)
	n := float32(x.Len())
	out.Data[0] = tp.p.Sum(x.Data) / n
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		d := g[0] / n
		for i := range dx {
			dx[i] += d
		}
	})
}

// SumAxis returns the sums of x along axis (which is removed from the shape), under the
// profile.
func (tp *Tape) SumAxis(x *Tensor, axis int) *Tensor {
	if axis < 0 {
		axis += x.Rank()
	}
	shape := slices.Delete(slices.Clone(x.Shape), axis, axis+1)
	outer, n, inner := numel(x.Shape[:axis]), x.Shape[axis], numel(x.Shape[axis+1:])
	out := tp.out(shape, x)
	buf := make([]float32, n)
	for o := range outer {
		for i := range inner {
			for k := range n {
				buf[k] = x.Data[(o*n+k)*inner+i]
			}
			out.Data[o*inner+i] = tp.p.Sum(buf)
		}
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for o := range outer {
			for k := range n {
				for i := range inner {
					dx[(o*n+k)*inner+i] += g[o*inner+i]
				}
			}
		}
	})
}

// MeanAxis returns the means of x along axis (which is removed): SumAxis divided by the dim.
func (tp *Tape) MeanAxis(x *Tensor, axis int) *Tensor {
	if axis < 0 {
		axis += x.Rank()
	}
	n := x.Shape[axis]
	s := tp.SumAxis(x, axis)
	inv := 1 / float32(n)
	return tp.Scale(s, inv)
}

// Embedding returns the rows of table ([vocab, dim]) at ids, shape [len(ids), dim]. The
// gradient of a row used several times is summed under the profile in order of position.
func (tp *Tape) Embedding(table *Tensor, ids []int) *Tensor {
	if table.Rank() != 2 {
		panic(fmt.Sprintf("tensor: Embedding table of shape %v", table.Shape))
	}
	v, d := table.Shape[0], table.Shape[1]
	out := tp.out([]int{len(ids), d}, table)
	for i, id := range ids {
		if id < 0 || id >= v {
			panic(fmt.Sprintf("tensor: Embedding id %d outside vocabulary of %d", id, v))
		}
		copy(out.Data[i*d:(i+1)*d], table.Data[id*d:(id+1)*d])
	}
	return tp.finish(out, func(g []float32) {
		dt := table.grad()
		pos := make(map[int][]int)
		for i, id := range ids {
			pos[id] = append(pos[id], i)
		}
		for _, id := range slices.Sorted(maps.Keys(pos)) {
			ps := pos[id]
			buf := make([]float32, len(ps))
			for j := range d {
				for k, i := range ps {
					buf[k] = g[i*d+j]
				}
				dt[id*d+j] += tp.p.Sum(buf)
			}
		}
	})
}
