package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// driftCase is one operation whose result under each profile is compared with the Exact
// profile and with a float64 reference.
type driftCase struct {
	name string
	k    int // reduction length
	// run returns the op's output under tp and its float64 reference, and rho, the ratio
	// ||(|A||B|)|| / ||AB|| of the products involved (1 for ops without products).
	run func(tp *Tape) (got []float32, ref []float64, rho float64)
}

func norm2(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

func relDiff32(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

func relErr64(a []float32, ref []float64) float64 {
	var num float64
	for i := range a {
		d := float64(a[i]) - ref[i]
		num += d * d
	}
	return math.Sqrt(num) / norm2(ref)
}

// matmul64 returns A @ B in float64 and ||(|A||B|)||_F.
func matmul64(a, b []float32, m, k, n int) (c []float64, absNorm float64) {
	c = make([]float64, m*n)
	abs := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, t float64
			for l := range k {
				p := float64(a[i*k+l]) * float64(b[l*n+j])
				s += p
				t += math.Abs(p)
			}
			c[i*n+j], abs[i*n+j] = s, t
		}
	}
	return c, norm2(abs)
}

func driftCases() []driftCase {
	r := rand.New(rand.NewPCG(21, 22))
	a, b := randSlice(r, 64*512), randSlice(r, 512*64)
	x := randTensor(r, 1, 32, 16, 16)
	cw := randTensor(r, 32, 32, 3, 3)
	q, k, v := randTensor(r, 1, 64, 4, 32), randTensor(r, 1, 64, 2, 32), randTensor(r, 1, 64, 2, 32)
	sm := randTensor(r, 16, 256)
	for i := range sm.Data {
		sm.Data[i] *= 3
	}
	rn := randTensor(r, 16, 512)
	gn := randTensor(r, 2, 32, 8, 8)
	s := randTensor(r, 4096)
	for i := range s.Data {
		s.Data[i] += 0.5 // a sum that does not cancel to nothing
	}
	return []driftCase{
		{"MatMul 64x512x64", 512, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.MatMul(FromData(a, 64, 512), FromData(b, 512, 64))
			ref, abs := matmul64(a, b, 64, 512, 64)
			return out.Data, ref, abs / norm2(ref)
		}},
		{"Conv2d 32x16x16 3x3", 288, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.Conv2d(x, cw, nil, 1, 1)
			cg := convGeom{n: 1, c: 32, h: 16, w: 16, co: 32, kh: 3, kw: 3, stride: 1, pad: 1, oh: 16, ow: 16, ckk: 288, ohw: 256, nohw: 256}
			cols := make([]float32, 288*256)
			cg.im2colSlow(x.Data, cols)
			ref, abs := matmul64(cw.Data, cols, 32, 288, 256)
			return out.Data, ref, abs / norm2(ref)
		}},
		{"Attention T=64 causal GQA", 64, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.Attention(q, k, v, float32(1/math.Sqrt(32)), true)
			ref := make([]float64, out.Len())
			for h := range 4 {
				kh := h / 2
				for i := range 64 {
					sc := make([]float64, i+1)
					mx := math.Inf(-1)
					for j := range i + 1 {
						var d float64
						for c := range 32 {
							d += float64(q.Data[(i*4+h)*32+c]) * float64(k.Data[(j*2+kh)*32+c])
						}
						sc[j] = d / math.Sqrt(32)
						mx = math.Max(mx, sc[j])
					}
					var z float64
					for j := range sc {
						sc[j] = math.Exp(sc[j] - mx)
						z += sc[j]
					}
					for c := range 32 {
						var o float64
						for j := range sc {
							o += sc[j] / z * float64(v.Data[(j*2+kh)*32+c])
						}
						ref[(i*4+h)*32+c] = o
					}
				}
			}
			return out.Data, ref, 1
		}},
		{"Softmax 16x256", 256, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.Softmax(sm)
			ref := make([]float64, sm.Len())
			for rr := range 16 {
				row := sm.Data[rr*256 : (rr+1)*256]
				mx := math.Inf(-1)
				for _, v := range row {
					mx = math.Max(mx, float64(v))
				}
				var z float64
				for j, v := range row {
					ref[rr*256+j] = math.Exp(float64(v) - mx)
					z += ref[rr*256+j]
				}
				for j := range row {
					ref[rr*256+j] /= z
				}
			}
			return out.Data, ref, 1
		}},
		{"RMSNorm 16x512", 512, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.RMSNorm(rn, nil, 1e-5)
			ref := make([]float64, rn.Len())
			for rr := range 16 {
				row := rn.Data[rr*512 : (rr+1)*512]
				var ss float64
				for _, v := range row {
					ss += float64(v) * float64(v)
				}
				sc := 1 / math.Sqrt(ss/512+1e-5)
				for j, v := range row {
					ref[rr*512+j] = float64(v) * sc
				}
			}
			return out.Data, ref, 1
		}},
		{"LayerNorm 16x512", 512, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.LayerNorm(rn, nil, nil, 1e-5)
			return out.Data, normRef64(rn.Data, 512, 1e-5), 1
		}},
		{"GroupNorm 2x32x8x8 g8", 256, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.GroupNorm(gn, 8, nil, nil, 1e-5)
			return out.Data, normRef64(gn.Data, 256, 1e-5), 1
		}},
		{"Sum 4096", 4096, func(tp *Tape) ([]float32, []float64, float64) {
			out := tp.Sum(s)
			var ref, abs float64
			for _, v := range s.Data {
				ref += float64(v)
				abs += math.Abs(float64(v))
			}
			return out.Data, []float64{ref}, abs / math.Abs(ref)
		}},
	}
}

// normRef64 normalises contiguous segments of length seg in float64.
func normRef64(x []float32, seg int, eps float64) []float64 {
	ref := make([]float64, len(x))
	for s := 0; s < len(x); s += seg {
		var mean, vr float64
		for _, v := range x[s : s+seg] {
			mean += float64(v)
		}
		mean /= float64(seg)
		for _, v := range x[s : s+seg] {
			vr += (float64(v) - mean) * (float64(v) - mean)
		}
		rs := 1 / math.Sqrt(vr/float64(seg)+eps)
		for j, v := range x[s : s+seg] {
			ref[s+j] = (float64(v) - mean) * rs
		}
	}
	return ref
}

// driftBound is the documented bound on the normwise relative error, against a float64
// reference, of an operation whose reductions have length k under profile p, where rho is
// ||(|A||B|)|| / ||AB|| for the products involved (1 for ops without products):
//
//	bound = 2 * (rho * (k*u32 + 2*uIn + levels*uAcc) + 2*uStorage) + 64*u32
//
// k*u32 is the classical bound of any order of float32 summation (Higham, Accuracy and
// Stability, 2nd ed., eq. 3.5); 2*uIn the rounding of both factors of a product; levels*uAcc
// the roundings of partial sums (one per level of the combine); 2*uStorage the rounding of
// inputs produced by earlier ops and of the output; 64*u32 covers exp, division and square
// root in softmax and the norms; the factor 2 covers second-order terms and chained products
// (attention: two products and a softmax).
func driftBound(p Profile, k int, rho float64) float64 {
	const u32 = 0x1p-24
	levels := 1.0
	if np := len(p.parts(k)); np > 1 {
		if p.Combine == Pairwise {
			levels += math.Ceil(math.Log2(float64(np)))
		} else {
			levels += float64(np)
		}
	}
	uIn, uAcc := p.Input.UnitRoundoff(), p.Accum.UnitRoundoff()
	if p.Input == F32 {
		uIn = 0
	}
	if p.Accum == F32 {
		uAcc = 0
	}
	return 2*(rho*(float64(k)*u32+2*uIn+levels*uAcc)+2*p.Storage.UnitRoundoff()) + 64*u32
}

// TestProfileDrift measures, for each op and preset, the normwise relative difference from the
// Exact profile and the error against float64, and requires that error to stay within
// driftBound, and every non-exact preset to change the bits of every product-based op.
func TestProfileDrift(t *testing.T) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-26s %-15s %12s %12s %12s %9s\n", "op", "profile", "vs exact", "vs float64", "bound", "changed")
	for _, dc := range driftCases() {
		exact, _, _ := dc.run(NoGrad(Exact))
		for _, p := range Profiles() {
			got, ref, rho := dc.run(NoGrad(p))
			changed := 0
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(exact[i]) {
					changed++
				}
			}
			vsExact, vs64, bound := relDiff32(got, exact), relErr64(got, ref), driftBound(p, dc.k, rho)
			fmt.Fprintf(&sb, "%-26s %-15s %12.3e %12.3e %12.3e %8.1f%%\n", dc.name, p.Name, vsExact, vs64, bound, 100*float64(changed)/float64(len(got)))
			if vs64 > bound {
				t.Errorf("%s under %s: error %.3e against float64 above the bound %.3e", dc.name, p.Name, vs64, bound)
			}
			if p.Name != Exact.Name && changed == 0 && (strings.HasPrefix(dc.name, "MatMul") || strings.HasPrefix(dc.name, "Conv2d") || strings.HasPrefix(dc.name, "Attention")) {
				t.Errorf("%s under %s gives the same bits as exact", dc.name, p.Name)
			}
		}
	}
	t.Log("\n" + sb.String())
}
