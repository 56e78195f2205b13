package tensor

import "math"

// fma32 returns a*b+c rounded once to float32, as a fused multiply-add unit (VFMADD231PS,
// CUDA's fmaf) computes it. math.FMA gives a*b+c rounded once to float64; rounding that to
// float32 is correct unless it landed exactly on a float32 midpoint (or in float32's
// subnormal range), where double rounding could go wrong: those rare cases take fma32Slow.
func fma32(a, b, c float32) float32 {
	r := math.FMA(float64(a), float64(b), float64(c))
	bits := math.Float64bits(r)
	if bits&(1<<29-1) != 1<<28 && bits&0x7ff0000000000000 >= (1023-126)<<52 {
		return float32(r)
	}
	return fma32Slow(a, b, c)
}

// fma32Slow is fma32 by round-to-odd: the product of two float32 values is exact in float64;
// the sum is rounded to odd in float64 (via its exact error term) so that the final rounding
// to float32 is correct (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums",
// 2008).
func fma32Slow(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact: 48 significant bits; never fused with the sum
	q := float64(c)
	s := p + q
	// TwoSum: s + e == p + q exactly.
	bv := float64(s - p)
	av := float64(s - bv)
	e := float64(p-av) + float64(q-bv)
	if e != 0 && !math.IsInf(s, 0) && math.Float64bits(s)&1 == 0 {
		// Round to odd: move to the neighbour of s on the side of the exact value.
		if (e > 0) == (s > 0) || s == 0 {
			s = math.Float64frombits(math.Float64bits(s) + 1)
		} else {
			s = math.Float64frombits(math.Float64bits(s) - 1)
		}
	}
	return float32(s)
}

// part is one partial sum of a reduction of length n: the terms start, start+step, ...,
// count of them, accumulated in that order from zero.
type part struct{ start, step, count int }

// parts splits a reduction of length n into partial sums as p says. The result depends only
// on n and p. Lanes and Chunk are exclusive (see Profile.Validate); neither means one part.
func (p *Profile) parts(n int) []part {
	switch {
	case p.Lanes > 1:
		ps := make([]part, p.Lanes)
		for l := range ps {
			c := 0
			if l < n {
				c = (n - l + p.Lanes - 1) / p.Lanes
			}
			ps[l] = part{l, p.Lanes, c}
		}
		return ps
	case p.Chunk > 0 && p.Chunk < n:
		np := (n + p.Chunk - 1) / p.Chunk
		ps := make([]part, np)
		for c := range ps {
			ps[c] = part{c * p.Chunk, 1, min(p.Chunk, n-c*p.Chunk)}
		}
		return ps
	}
	return []part{{0, 1, n}}
}

// single reports whether a reduction of length n is one sequential partial sum.
func (p *Profile) single(n int) bool {
	return p.Lanes <= 1 && (p.Chunk == 0 || p.Chunk >= n)
}

// combine adds the finished partial sums in the order p.Combine says, rounding every
// intermediate to p.Accum. partials is clobbered.
func (p *Profile) combine(partials []float32) float32 {
	if len(partials) == 0 {
		return 0
	}
	switch p.Combine {
	case Pairwise:
		return p.pairwise(partials)
	case Folded:
		for n := len(partials); n > 1; {
			h := (n + 1) / 2
			for i := range n - h {
				partials[i] = p.Accum.Round(partials[i] + partials[i+h])
			}
			n = h
		}
		return partials[0]
	}
	r := partials[0]
	for _, x := range partials[1:] {
		r = p.Accum.Round(r + x)
	}
	return r
}

func (p *Profile) pairwise(xs []float32) float32 {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return p.Accum.Round(xs[0] + xs[1])
	}
	h := (len(xs) + 1) / 2
	return p.Accum.Round(p.pairwise(xs[:h]) + p.pairwise(xs[h:]))
}

// Sum returns the sum of xs reduced the way p says: split into partial sums (p.Lanes or
// p.Chunk), each accumulated sequentially in float32 from zero and rounded to p.Accum when
// complete, then combined (p.Combine). With Exact this is ((x0 + x1) + x2) + ... in float32.
func (p *Profile) Sum(xs []float32) float32 {
	if p.single(len(xs)) {
		var acc float32
		for _, x := range xs {
			acc += x
		}
		return p.Accum.Round(acc)
	}
	ps := p.parts(len(xs))
	var buf [64]float32
	partials := buf[:0]
	for _, pt := range ps {
		var acc float32
		for i, k := 0, pt.start; i < pt.count; i, k = i+1, k+pt.step {
			acc += xs[k]
		}
		partials = append(partials, p.Accum.Round(acc))
	}
	return p.combine(partials)
}

// Dot returns the sum of a[k]*b[k] reduced like Sum, with each product added either after
// rounding it to float32 (float32(a*b) + acc) or, when p.FMA, fused (one rounding). a and b
// must have the same length. Operands are used as given: rounding inputs to p.Input is the
// caller's business (matrix products do it, norms do not).
func (p *Profile) Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("tensor: Dot of slices of different lengths")
	}
	if p.single(len(a)) && !p.FMA {
		var acc float32
		for k := range a {
			acc += float32(a[k] * b[k])
		}
		return p.Accum.Round(acc)
	}
	ps := p.parts(len(a))
	var buf [64]float32
	partials := buf[:0]
	for _, pt := range ps {
		var acc float32
		if p.FMA {
			for i, k := 0, pt.start; i < pt.count; i, k = i+1, k+pt.step {
				acc = fma32(a[k], b[k], acc)
			}
		} else {
			for i, k := 0, pt.start; i < pt.count; i, k = i+1, k+pt.step {
				acc += float32(a[k] * b[k])
			}
		}
		partials = append(partials, p.Accum.Round(acc))
	}
	return p.combine(partials)
}
