package tensor

import (
	"fmt"
	"math"
	"slices"
)

// MatMul returns the matrix product a @ b over the last two axes: a is [..., M, K]; b is either
// [K, N] (shared by every batch) or [..., K, N] with a's batch dims. Each output element is one
// reduction of length K under the profile, operands rounded to Profile.Input.
func (tp *Tape) MatMul(a, b *Tensor) *Tensor {
	ra, rb := a.Rank(), b.Rank()
	if ra < 2 || rb < 2 {
		panic(fmt.Sprintf("tensor: MatMul of shapes %v and %v", a.Shape, b.Shape))
	}
	m, k := a.Shape[ra-2], a.Shape[ra-1]
	n := b.Shape[rb-1]
	shared := rb == 2
	if b.Shape[rb-2] != k || (!shared && !slices.Equal(a.Shape[:ra-2], b.Shape[:rb-2])) {
		panic(fmt.Sprintf("tensor: MatMul of shapes %v and %v", a.Shape, b.Shape))
	}
	batch := numel(a.Shape[:ra-2])
	out := tp.out(append(slices.Clone(a.Shape[:ra-2]), m, n), a, b)
	p := &tp.p
	if shared {
		if batch*m > 0 && n > 0 {
			ap := packA(p.Input, false, batch*m, k, a.Data, k)
			bp, release := b.packedB(p.Input, false, n, k, n)
			gemmPacked(p, batch*m, n, k, ap, bp, out.Data, n)
			putScratch(ap)
			release()
		}
	} else {
		for i := range batch {
			gemm(p, false, false, m, n, k, a.Data[i*m*k:], k, b.Data[i*k*n:], n, out.Data[i*m*n:], n)
		}
	}
	return tp.finish(out, func(g []float32) {
		if needs(a) {
			da := zeroScratch(a.Len())
			if shared {
				gemm(p, false, true, batch*m, k, n, g, n, b.Data, n, da, k)
			} else {
				for i := range batch {
					gemm(p, false, true, m, k, n, g[i*m*n:], n, b.Data[i*k*n:], n, da[i*m*k:], k)
				}
			}
			a.addGrad(da)
			putScratch(da)
		}
		if needs(b) {
			db := zeroScratch(b.Len())
			if shared {
				gemm(p, true, false, k, n, batch*m, a.Data, k, g, n, db, n)
			} else {
				for i := range batch {
					gemm(p, true, false, k, n, m, a.Data[i*m*k:], k, g[i*m*n:], n, db[i*k*n:], n)
				}
			}
			b.addGrad(db)
			putScratch(db)
		}
	})
}

// Linear returns x @ w^T + bias, the convention of llama.cpp's ggml_mul_mat and of PyTorch's
// nn.Linear: x is [..., in], w is [out, in] (one row per output feature), bias is [out] or nil.
// The bias is added after the product (a second rounding).
func (tp *Tape) Linear(x, w, bias *Tensor) *Tensor {
	if w.Rank() != 2 || x.Rank() < 1 || x.Dim(-1) != w.Shape[1] || (bias != nil && bias.Len() != w.Shape[0]) {
		panic(fmt.Sprintf("tensor: Linear of x %v, w %v", x.Shape, w.Shape))
	}
	in, no := w.Shape[1], w.Shape[0]
	rows := x.Len() / max(in, 1)
	shape := slices.Clone(x.Shape)
	shape[len(shape)-1] = no
	out := tp.out(shape, x, w, bias)
	p := &tp.p
	if rows > 0 && no > 0 {
		ap := packA(p.Input, false, rows, in, x.Data, in)
		bp, release := w.packedB(p.Input, true, no, in, in)
		gemmPacked(p, rows, no, in, ap, bp, out.Data, no)
		putScratch(ap)
		release()
	}
	if bias != nil {
		for r := range rows {
			row := out.Data[r*no : (r+1)*no]
			for j := range row {
				row[j] += bias.Data[j]
			}
		}
	}
	return tp.finish(out, func(g []float32) {
		if needs(x) {
			dx := zeroScratch(x.Len())
			gemm(p, false, false, rows, in, no, g, no, w.Data, in, dx, in)
			x.addGrad(dx)
			putScratch(dx)
		}
		if needs(w) {
			dw := zeroScratch(w.Len())
			gemm(p, true, false, no, in, rows, g, no, x.Data, in, dw, in)
			w.addGrad(dw)
			putScratch(dw)
		}
		if needs(bias) {
			bias.addGrad(tp.sumBy(g, no, func(i int) int { return i % no }))
		}
	})
}

// sqrt32 returns the correctly rounded float32 square root (double rounding through float64
// is harmless for square roots).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// RMSNorm returns x / sqrt(mean(x^2) + eps) * w over the last axis, as llama's RMS norm; w is
// [dim] or nil. mean(x^2) is Profile.Dot(x, x) / dim.
func (tp *Tape) RMSNorm(x, w *Tensor, eps float32) *Tensor {
	d := x.Dim(-1)
	if w != nil && w.Len() != d {
		panic(fmt.Sprintf("tensor: RMSNorm of %v with weight %v", x.Shape, w.Shape))
	}
	rows := x.Len() / max(d, 1)
	out := tp.out(x.Shape, x, w)
	rinv := make([]float32, rows)
	parallelFor(rows, int64(d)*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x.Data[r*d : (r+1)*d]
			ms := tp.p.Dot(xs, xs) / float32(d)
			ri := 1 / sqrt32(ms+eps)
			rinv[r] = ri
			ys := out.Data[r*d : (r+1)*d]
			for j, v := range xs {
				ys[j] = float32(v * ri)
				if w != nil {
					ys[j] = float32(ys[j]) * w.Data[j]
				}
			}
		}
	})
	return tp.finish(out, func(g []float32) {
		xn := make([]float32, x.Len())
		for r := range rows {
			for j := range d {
				xn[r*d+j] = float32(x.Data[r*d+j] * rinv[r])
			}
		}
		if needs(x) {
			dx := x.grad()
			dxn := make([]float32, d)
			for r := range rows {
				gs, xr := g[r*d:(r+1)*d], xn[r*d:(r+1)*d]
				for j := range d {
					dxn[j] = gs[j]
					if w != nil {
						dxn[j] = gs[j] * w.Data[j]
					}
				}
				m := tp.p.Dot(dxn, xr) / float32(d)
				for j := range d {
					dx[r*d+j] += float32(rinv[r] * (dxn[j] - float32(xr[j]*m)))
				}
			}
		}
		if needs(w) {
			gx := make([]float32, len(g))
			for i := range g {
				gx[i] = g[i] * xn[i]
			}
			w.addGrad(tp.sumBy(gx, d, func(i int) int { return i % d }))
		}
	})
}

// normalize is the body of LayerNorm and GroupNorm: x is cut into contiguous segments of
// length seg, each normalised to zero mean and unit variance (biased, as PyTorch), then
// scaled and shifted per channel: channel(i) gives the channel of flat index i, of nch.
func (tp *Tape) normalize(x, w, b *Tensor, seg, nch int, channel func(i int) int, eps float32) *Tensor {
	nseg := x.Len() / max(seg, 1)
	out := tp.out(x.Shape, x, w, b)
	rstd := make([]float32, nseg)
	xhat := tp.alloc(x.Len())
	fs := float32(seg)
	parallelFor(nseg, int64(seg)*8, func(lo, hi int) {
		dev := make([]float32, seg)
		for s := lo; s < hi; s++ {
			xs := x.Data[s*seg : (s+1)*seg]
			mean := tp.p.Sum(xs) / fs
			for j, v := range xs {
				dev[j] = v - mean
			}
			vr := tp.p.Dot(dev, dev) / fs
			rs := 1 / sqrt32(vr+eps)
			rstd[s] = rs
			for j := range xs {
				i := s*seg + j
				xh := float32(dev[j] * rs)
				xhat[i] = xh
				y := xh
				if w != nil {
					y = float32(y * w.Data[channel(i)])
				}
				if b != nil {
					y += b.Data[channel(i)]
				}
				out.Data[i] = y
			}
		}
	})
	return tp.finish(out, func(g []float32) {
		if needs(x) {
			dx := x.grad()
			dxh := make([]float32, seg)
			for s := range nseg {
				xh := xhat[s*seg : (s+1)*seg]
				for j := range seg {
					dxh[j] = g[s*seg+j]
					if w != nil {
						dxh[j] *= w.Data[channel(s*seg+j)]
					}
				}
				m1 := tp.p.Sum(dxh) / fs
				m2 := tp.p.Dot(dxh, xh) / fs
				for j := range seg {
					dx[s*seg+j] += float32(rstd[s] * (dxh[j] - m1 - float32(xh[j]*m2)))
				}
			}
		}
		if needs(w) {
			gx := getScratch(len(g)) // every element written
			for i := range g {
				gx[i] = g[i] * xhat[i]
			}
			w.addGrad(tp.sumBy(gx, nch, channel))
			putScratch(gx)
		}
		if needs(b) {
			b.addGrad(tp.sumBy(g, nch, channel))
		}
	})
}

// LayerNorm normalises x over its last axis and applies the per-feature weight w and bias b
// ([dim] each, or nil).
func (tp *Tape) LayerNorm(x, w, b *Tensor, eps float32) *Tensor {
	d := x.Dim(-1)
	if (w != nil && w.Len() != d) || (b != nil && b.Len() != d) {
		panic(fmt.Sprintf("tensor: LayerNorm of %v with weight or bias of the wrong size", x.Shape))
	}
	return tp.normalize(x, w, b, d, d, func(i int) int { return i % d }, eps)
}

// GroupNorm normalises x ([N, C, ...]) over groups of C/groups channels and all trailing
// positions, then applies the per-channel weight w and bias b ([C] each, or nil).
func (tp *Tape) GroupNorm(x *Tensor, groups int, w, b *Tensor, eps float32) *Tensor {
	if x.Rank() < 2 || groups <= 0 || x.Shape[1]%groups != 0 {
		panic(fmt.Sprintf("tensor: GroupNorm of %v in %d groups", x.Shape, groups))
	}
	c := x.Shape[1]
	hw := numel(x.Shape[2:])
	if (w != nil && w.Len() != c) || (b != nil && b.Len() != c) {
		panic(fmt.Sprintf("tensor: GroupNorm of %v with weight or bias of the wrong size", x.Shape))
	}
	return tp.normalize(x, w, b, c/groups*hw, c, func(i int) int { return (i / hw) % c }, eps)
}

// rowMax returns the largest element of xs (NaN if any is NaN), -Inf when empty.
func rowMax(xs []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range xs {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

// Softmax returns exp(x - max) / sum(exp(x - max)) over the last axis; the sum is reduced
// under the profile and exp is this package's deterministic Exp.
func (tp *Tape) Softmax(x *Tensor) *Tensor {
	d := x.Dim(-1)
	rows := x.Len() / max(d, 1)
	out := tp.out(x.Shape, x)
	parallelFor(rows, int64(d)*20, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(&tp.p, x.Data[r*d:(r+1)*d], out.Data[r*d:(r+1)*d])
		}
	})
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for r := range rows {
			y, gs := out.Data[r*d:(r+1)*d], g[r*d:(r+1)*d]
			dot := tp.p.Dot(gs, y)
			for j := range d {
				dx[r*d+j] += float32(y[j] * (gs[j] - dot))
			}
		}
	})
}

// softmaxRow writes the softmax of xs into ys.
func softmaxRow(p *Profile, xs, ys []float32) {
	m := rowMax(xs)
	for j, v := range xs {
		ys[j] = Exp(v - m)
	}
	s := p.Sum(ys)
	for j := range ys {
		ys[j] /= s
	}
}

// LogSoftmax returns (x - max) - log(sum(exp(x - max))) over the last axis.
func (tp *Tape) LogSoftmax(x *Tensor) *Tensor {
	d := x.Dim(-1)
	rows := x.Len() / max(d, 1)
	out := tp.out(x.Shape, x)
	parallelFor(rows, int64(d)*20, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			logSoftmaxRow(&tp.p, x.Data[r*d:(r+1)*d], out.Data[r*d:(r+1)*d])
		}
	})
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for r := range rows {
			y, gs := out.Data[r*d:(r+1)*d], g[r*d:(r+1)*d]
			s := tp.p.Sum(gs)
			for j := range d {
				dx[r*d+j] += gs[j] - float32(Exp(y[j])*s)
			}
		}
	})
}

func logSoftmaxRow(p *Profile, xs, ys []float32) {
	m := rowMax(xs)
	for j, v := range xs {
		ys[j] = Exp(v - m)
	}
	lse := Log(p.Sum(ys))
	for j, v := range xs {
		ys[j] = (v - m) - lse
	}
}

// unary applies f element-wise; df(x, y) is the derivative at input x with output y, computed
// in float64 and rounded once.
func (tp *Tape) unary(x *Tensor, f func(x float64) float64, df func(x float64) float64) *Tensor {
	out := tp.out(x.Shape, x)
	for i, v := range x.Data {
		out.Data[i] = float32(f(float64(v)))
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for i, v := range x.Data {
			dx[i] += float32(float64(g[i]) * df(float64(v)))
		}
	})
}

func silu64(x float64) float64 { return float64(x * sigmoid64(x)) }

func dsilu64(x float64) float64 {
	s := sigmoid64(x)
	return float64(s * (1 + float64(x*(1-s))))
}

// SiLU returns x * sigmoid(x), computed in float64 and rounded once.
func (tp *Tape) SiLU(x *Tensor) *Tensor { return tp.unary(x, silu64, dsilu64) }

const (
	geluC = 0.7978845608028654 // sqrt(2/pi)
	geluA = 0.044715
)

func gelu64(x float64) float64 {
	u := float64(geluC * (x + float64(geluA*float64(float64(x*x)*x))))
	return float64(float64(0.5*x) * (1 + tanh64(u)))
}

func dgelu64(x float64) float64 {
	x2 := float64(x * x)
	u := float64(geluC * (x + float64(geluA*float64(x2*x))))
	t := tanh64(u)
	du := float64(geluC * (1 + float64(3*geluA*x2)))
	return float64(0.5*(1+t)) + float64(float64(float64(0.5*x)*(1-float64(t*t)))*du)
}

// GELU returns the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's
// and ggml's gelu), computed in float64 and rounded once.
func (tp *Tape) GELU(x *Tensor) *Tensor { return tp.unary(x, gelu64, dgelu64) }

// SwiGLU returns SiLU(gate) * up element-wise (llama's feed-forward gate), with SiLU rounded
// to float32 before the product as ggml does.
func (tp *Tape) SwiGLU(gate, up *Tensor) *Tensor {
	if !slices.Equal(gate.Shape, up.Shape) {
		panic(fmt.Sprintf("tensor: SwiGLU of shapes %v and %v", gate.Shape, up.Shape))
	}
	out := tp.out(gate.Shape, gate, up)
	for i, v := range gate.Data {
		out.Data[i] = float32(silu64(float64(v))) * up.Data[i]
	}
	return tp.finish(out, func(g []float32) {
		if needs(gate) {
			dg := gate.grad()
			for i, v := range gate.Data {
				dg[i] += float32(float64(g[i]*up.Data[i]) * dsilu64(float64(v)))
			}
		}
		if needs(up) {
			du := up.grad()
			for i, v := range gate.Data {
				du[i] += float32(g[i] * float32(silu64(float64(v))))
			}
		}
	})
}

// ropeTable returns cos and sin of the RoPE angles for each position and pair, [len(pos)][d/2],
// computed as llama.cpp's ggml_rope_cache_init does: theta_scale = base^(-2/d) in float32, and
// theta = float32(pos), multiplied by theta_scale in float32 for each next pair.
func ropeTable(pos []int, d int, base float32) (cos, sin []float32) {
	half := d / 2
	scale := float32(exp64(log64(float64(base)) * float64(float32(-2)/float32(d))))
	cos, sin = make([]float32, len(pos)*half), make([]float32, len(pos)*half)
	for t, p := range pos {
		theta := float32(p)
		for i := range half {
			s, c := sincos64(float64(theta))
			sin[t*half+i], cos[t*half+i] = float32(s), float32(c)
			theta *= scale
		}
	}
	return cos, sin
}

// RoPE rotates pairs of features of x ([..., T, heads, dim], dim even) by angles
// pos[t] * base^(-2i/dim): with neox false the pairs are (2i, 2i+1), llama.cpp's "normal" mode
// used for the llama architecture; with neox true they are (i, i+dim/2).
func (tp *Tape) RoPE(x *Tensor, pos []int, base float32, neox bool) *Tensor {
	r := x.Rank()
	if r < 3 || x.Shape[r-3] != len(pos) || x.Shape[r-1]%2 != 0 {
		panic(fmt.Sprintf("tensor: RoPE of %v at %d positions", x.Shape, len(pos)))
	}
	t, h, d := x.Shape[r-3], x.Shape[r-2], x.Shape[r-1]
	half := d / 2
	cos, sin := ropeTable(pos, d, base)
	pair := func(i int) (int, int) {
		if neox {
			return i, i + half
		}
		return 2 * i, 2*i + 1
	}
	rotate := func(src, dst []float32, sign float32) {
		for row := range len(src) / d {
			ti := (row / h) % t
			for i := range half {
				a, b := pair(i)
				c, s := cos[ti*half+i], sign*sin[ti*half+i]
				x0, x1 := src[row*d+a], src[row*d+b]
				dst[row*d+a] = float32(x0*c) - float32(x1*s)
				dst[row*d+b] = float32(x0*s) + float32(x1*c)
			}
		}
	}
	out := tp.out(x.Shape, x)
	rotate(x.Data, out.Data, 1)
	return tp.finish(out, func(g []float32) {
		dx := make([]float32, len(g))
		rotate(g, dx, -1)
		x.addGrad(dx)
	})
}

// dims4 returns (batch, time, heads, dim) of a [B, T, H, D] or [T, H, D] tensor.
func dims4(x *Tensor) (b, t, h, d int) {
	switch x.Rank() {
	case 3:
		return 1, x.Shape[0], x.Shape[1], x.Shape[2]
	case 4:
		return x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	}
	panic(fmt.Sprintf("tensor: attention input of shape %v, want [B, T, H, D] or [T, H, D]", x.Shape))
}

// Attention returns softmax(scale * q k^T + mask) v per head, for q [B, Tq, Hq, D] and k, v
// [B, Tk, Hkv, D] (or the same without B), with grouped-query heads: query head h reads
// key/value head h / (Hq/Hkv). When causal, query i sits at position Tk-Tq+i and sees keys
// 0..Tk-Tq+i, so a KV cache of past keys works by passing Tk > Tq. The products are matrix
// products under the profile; masked probabilities are exact zeros, and the softmax sums only
// the visible keys. Under profiles whose partial sums do not depend on the number of masked
// keys (one partial, lanes, or chunks combined sequentially: all presets but ampere-fp16 and
// turing-fp16acc), decoding one query at a time against a cache gives the same bits as the
// whole sequence at once (TestAttentionCacheMatchesFullSequence). q, k and v may be the same
// tensor.
func (tp *Tape) Attention(q, k, v *Tensor, scale float32, causal bool) *Tensor {
	bq, tq, hq, d := dims4(q)
	bk, tk, hk, dk := dims4(k)
	if bk != bq || dk != d || !slices.Equal(k.Shape, v.Shape) || hk == 0 || hq%hk != 0 || (causal && tk < tq) {
		panic(fmt.Sprintf("tensor: Attention of q %v, k %v, v %v", q.Shape, k.Shape, v.Shape))
	}
	grp, off := hq/hk, tk-tq
	p := &tp.p
	out := tp.out(q.Shape, q, k, v)
	probs := make([]float32, bq*hq*tq*tk)
	qoff := func(b, h int) int { return b*tq*hq*d + h*d }
	koff := func(b, h int) int { return b*tk*hk*d + h*d }
	parallelFor(bq*hq, int64(tq*tk*d), func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/hq, bh%hq
			pr := probs[bh*tq*tk : (bh+1)*tq*tk]
			gemm(p, false, true, tq, tk, d, q.Data[qoff(b, h):], hq*d, k.Data[koff(b, h/grp):], hk*d, pr, tk)
			for i := range tq {
				row := pr[i*tk : (i+1)*tk]
				valid := tk
				if causal {
					valid = off + i + 1
				}
				for j := range valid {
					row[j] *= scale
				}
				softmaxRow(p, row[:valid], row[:valid])
				clear(row[valid:])
			}
			gemm(p, false, false, tq, d, tk, pr, tk, v.Data[koff(b, h/grp):], hk*d, out.Data[qoff(b, h):], hq*d)
		}
	})
	return tp.finish(out, func(g []float32) {
		var dq, dkk, dv []float32
		if needs(q) {
			dq = q.grad()
		}
		if needs(k) {
			dkk = k.grad()
		}
		if needs(v) {
			dv = v.grad()
		}
		parallelFor(bq*hk, int64(grp*tq*tk*d*4), func(lo, hi int) {
			ds := make([]float32, grp*tq*tk) // stacked dS of the group's query heads
			pa := make([]float32, grp*tq*tk) // stacked probabilities
			qa := make([]float32, grp*tq*d)  // stacked queries
			ga := make([]float32, grp*tq*d)  // stacked output gradients
			tmp := make([]float32, max(tq, tk)*d)
			for bh := lo; bh < hi; bh++ {
				b, hkv := bh/hk, bh%hk
				for gi := range grp {
					h := hkv*grp + gi
					pr := probs[(b*hq+h)*tq*tk : (b*hq+h+1)*tq*tk]
					dsh := ds[gi*tq*tk : (gi+1)*tq*tk]
					copy(pa[gi*tq*tk:], pr)
					for i := range tq {
						copy(qa[(gi*tq+i)*d:(gi*tq+i+1)*d], q.Data[qoff(b, h)+i*hq*d:])
						copy(ga[(gi*tq+i)*d:(gi*tq+i+1)*d], g[qoff(b, h)+i*hq*d:])
					}
					gemm(p, false, true, tq, tk, d, ga[gi*tq*d:], d, v.Data[koff(b, hkv):], hk*d, dsh, tk)
					for i := range tq {
						prow, drow := pr[i*tk:(i+1)*tk], dsh[i*tk:(i+1)*tk]
						dot := p.Dot(prow, drow)
						for j := range tk {
							drow[j] = float32(float32(prow[j]*(drow[j]-dot)) * scale)
						}
					}
					if dq != nil {
						gemm(p, false, false, tq, d, tk, dsh, tk, k.Data[koff(b, hkv):], hk*d, tmp, d)
						for i := range tq {
							row := dq[qoff(b, h)+i*hq*d:]
							for j := range d {
								row[j] += tmp[i*d+j]
							}
						}
					}
				}
				if dkk != nil {
					gemm(p, true, false, tk, d, grp*tq, ds, tk, qa, d, tmp, d)
					for i := range tk {
						row := dkk[koff(b, hkv)+i*hk*d:]
						for j := range d {
							row[j] += tmp[i*d+j]
						}
					}
				}
				if dv != nil {
					gemm(p, true, false, tk, d, grp*tq, pa, tk, ga, d, tmp, d)
					for i := range tk {
						row := dv[koff(b, hkv)+i*hk*d:]
						for j := range d {
							row[j] += tmp[i*d+j]
						}
					}
				}
			}
		})
	})
}

// MSE returns the mean of (pred - target)^2 (rank 0); the sum of squares is Profile.Dot.
func (tp *Tape) MSE(pred, target *Tensor) *Tensor {
	if !slices.Equal(pred.Shape, target.Shape) {
		panic(fmt.Sprintf("tensor: MSE of shapes %v and %v", pred.Shape, target.Shape))
	}
	n := float32(pred.Len())
	diff := make([]float32, pred.Len())
	for i := range diff {
		diff[i] = pred.Data[i] - target.Data[i]
	}
	out := tp.out(nil, pred, target)
	out.Data[0] = tp.p.Dot(diff, diff) / n
	return tp.finish(out, func(g []float32) {
		c := 2 * g[0] / n
		if needs(pred) {
			dp := pred.grad()
			for i, d := range diff {
				dp[i] += float32(c * d)
			}
		}
		if needs(target) {
			dt := target.grad()
			for i, d := range diff {
				dt[i] -= float32(c * d)
			}
		}
	})
}

// CrossEntropy returns the mean over rows of -log softmax(logits)[target] for logits [N, V]
// and one target class per row (rank 0 result).
func (tp *Tape) CrossEntropy(logits *Tensor, targets []int) *Tensor {
	if logits.Rank() != 2 || logits.Shape[0] != len(targets) {
		panic(fmt.Sprintf("tensor: CrossEntropy of logits %v with %d targets", logits.Shape, len(targets)))
	}
	n, v := logits.Shape[0], logits.Shape[1]
	ls := make([]float32, n*v)
	losses := make([]float32, n)
	for r, t := range targets {
		if t < 0 || t >= v {
			panic(fmt.Sprintf("tensor: CrossEntropy target %d outside %d classes", t, v))
		}
		logSoftmaxRow(&tp.p, logits.Data[r*v:(r+1)*v], ls[r*v:(r+1)*v])
		losses[r] = -ls[r*v+t]
	}
	out := tp.out(nil, logits)
	out.Data[0] = tp.p.Sum(losses) / float32(n)
	return tp.finish(out, func(g []float32) {
		dl := logits.grad()
		c := g[0] / float32(n)
		for r, t := range targets {
			for j := range v {
				sm := Exp(ls[r*v+j])
				if j == t {
					sm -= 1
				}
				dl[r*v+j] += float32(sm * c)
			}
		}
	})
}
