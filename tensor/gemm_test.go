package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestKernelAsmMatchesGo requires the assembly micro-kernel (where there is one) to give the
// same bits as its portable twin kernelGo, for both multiply-add modes and for strided steps.
func TestKernelAsmMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, fma := range []bool{false, true} {
		for _, tc := range []struct{ n, lda, astep, bstep int }{{1, 1, 1, 16}, {7, 9, 1, 16}, {33, 40, 1, 16}, {10, 200, 16, 256}, {5, 64, 8, 128}} {
			a := randSlice(r, 4*tc.lda+tc.n*tc.astep)
			b := randSlice(r, tc.n*tc.bstep+16)
			var c1, c2 [tileM * tileN]float32
			for i := range c1 {
				c1[i] = float32(r.NormFloat64())
			}
			c2 = c1
			kernel(tc.n, a, tc.lda, tc.astep, b, tc.bstep, &c1, fma)
			kernelGo(tc.n, a, tc.lda, tc.astep, b, tc.bstep, &c2, fma)
			if !sameBits(c1[:], c2[:]) {
				t.Errorf("kernel(%s, fma=%v, %+v) differs from kernelGo", kernelName, fma, tc)
			}
		}
	}
}

// TestFMA32 checks the emulated fused multiply-add against float64 FMA rounded once, on cases
// where double rounding would go wrong, and on random values.
func TestFMA32(t *testing.T) {
	tests := []struct{ a, b, c, want float32 }{
		{1, 1, 1, 2},
		{0.1, 10, -1, float32(math.FMA(float64(float32(0.1)), 10, -1))},
		// a*b = 1 + 2^-11 + 2^-24, a float32 tie; c = 2^-60 breaks it upwards. Rounding a*b+c to
		// float64 first would recreate the tie and round down (double rounding).
		{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-60, 1 + 0x1p-11 + 0x1p-23},
		{3, 0, -0.0, 0},
	}
	for _, tt := range tests {
		if got := fma32(tt.a, tt.b, tt.c); got != tt.want {
			t.Errorf("fma32(%v, %v, %v) = %v, want %v", tt.a, tt.b, tt.c, got, tt.want)
		}
		if got := fma32Slow(tt.a, tt.b, tt.c); got != tt.want {
			t.Errorf("fma32Slow(%v, %v, %v) = %v, want %v", tt.a, tt.b, tt.c, got, tt.want)
		}
	}
	// The fast path and round-to-odd agree, also on near-ties (a*b close to a float32
	// midpoint, built from small integers) and in the subnormal range.
	rr := rand.New(rand.NewPCG(1, 1))
	for i := range 200000 {
		var a, b, c float32
		switch i % 3 {
		case 0:
			a, b, c = float32(rr.NormFloat64()), float32(rr.NormFloat64()), float32(rr.NormFloat64())
		case 1:
			a = float32(rr.IntN(1<<12)+1<<12) * 0x1p-12
			b = float32(rr.IntN(1<<12)+1<<12) * 0x1p-12
			c = float32(rr.IntN(64)-32) * 0x1p-60
		case 2:
			a, b, c = float32(rr.NormFloat64())*0x1p-70, float32(rr.NormFloat64())*0x1p-60, float32(rr.NormFloat64())*0x1p-128
		}
		if f, s := fma32(a, b, c), fma32Slow(a, b, c); math.Float32bits(f) != math.Float32bits(s) {
			t.Fatalf("fma32(%v, %v, %v) = %v, fma32Slow = %v", a, b, c, f, s)
		}
	}
	// Against exact rational arithmetic via big-free check: compare with math.FMA when the
	// float64 result is exactly representable or far from a float32 tie.
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		a, b, c := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		exact := math.FMA(float64(a), float64(b), float64(c))
		got := fma32(a, b, c)
		if math.Abs(float64(got)-exact) > math.Abs(float64(float32(exact))-exact) {
			t.Fatalf("fma32(%v, %v, %v) = %v, not the float32 nearest %v", a, b, c, got, exact)
		}
	}
}

// TestGemmEqualsDot is the property that ties every matrix product to the profile's
// definition: each element of gemm's output equals Profile.Dot of a row and a column (after
// input rounding), for every preset, both transposes and shapes that leave partial tiles.
func TestGemmEqualsDot(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range Profiles() {
		for _, sh := range [][3]int{{1, 1, 1}, {5, 17, 3}, {9, 33, 70}, {4, 16, 300}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				a := randSlice(r, m*k)
				b := randSlice(r, k*n)
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				c := make([]float32, m*n)
				gemm(&p, tr[0], tr[1], m, n, k, a, lda, b, ldb, c, n)
				row, colv := make([]float32, k), make([]float32, k)
				for i := range m {
					for j := range n {
						for t := range k {
							if tr[0] {
								row[t] = p.Input.Round(a[t*lda+i])
							} else {
								row[t] = p.Input.Round(a[i*lda+t])
							}
							if tr[1] {
								colv[t] = p.Input.Round(b[j*ldb+t])
							} else {
								colv[t] = p.Input.Round(b[t*ldb+j])
							}
						}
						if want := p.Dot(row, colv); math.Float32bits(c[i*n+j]) != math.Float32bits(want) {
							t.Fatalf("%s: gemm %v %v [%d,%d] = %v, want Dot %v", p.Name, sh, tr, i, j, c[i*n+j], want)
						}
					}
				}
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		b.Run(fmt.Sprintf("%s/%d", kernelName, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y := randSlice(r, n*n), randSlice(r, n*n)
			c := make([]float32, n*n)
			timed(b, 2*float64(n)*float64(n)*float64(n), func() { gemm(&Exact, false, false, n, n, n, x, n, y, n, c, n) })
		})
	}
}

// TestFrozenWeightsSameBits checks that the packed copy a frozen weight keeps gives the same
// bits as packing on every call, for each profile (each has its own packed copy when its
// input format differs).
func TestFrozenWeightsSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := randTensor(r, 3, 40)
	w := randTensor(r, 33, 40)
	b := randTensor(r, 40, 20)
	wf, bf := w.Clone().Freeze(), b.Clone().Freeze()
	for _, p := range Profiles() {
		tp := NoGrad(p)
		for range 2 {
			if !sameBits(tp.Linear(x, w, nil).Data, tp.Linear(x, wf, nil).Data) {
				t.Errorf("%s: Linear with a frozen weight differs", p.Name)
			}
			if !sameBits(tp.MatMul(x, b).Data, tp.MatMul(x, bf).Data) {
				t.Errorf("%s: MatMul with a frozen operand differs", p.Name)
			}
		}
	}
}

// TestPackColsMatchesSlow compares the im2col matrix packed straight from x (packCols, as
// Conv2d's products read it, and transposed, as its filter gradient reads it) with packB of
// the obvious im2col (im2colSlow), over strides, pads and kernel sizes, including kernels
// wider than the padded input allows at the edges, and over operand formats. The packed
// buffer is filled with garbage first, as scratch comes.
func TestPackColsMatchesSlow(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, g := range []struct{ n, c, h, w, kh, kw, stride, pad int }{
		{1, 1, 5, 5, 3, 3, 1, 1}, {2, 3, 6, 7, 3, 3, 2, 1}, {1, 2, 4, 4, 1, 1, 1, 0},
		{1, 2, 5, 3, 3, 2, 3, 2}, {2, 1, 8, 8, 4, 4, 2, 0}, {1, 1, 2, 2, 3, 3, 1, 2},
		{2, 8, 9, 9, 3, 3, 1, 1}, {3, 5, 16, 16, 3, 3, 1, 1},
	} {
		cg := convGeom{n: g.n, c: g.c, h: g.h, w: g.w, kh: g.kh, kw: g.kw, stride: g.stride, pad: g.pad}
		cg.oh = (cg.h+2*cg.pad-cg.kh)/cg.stride + 1
		cg.ow = (cg.w+2*cg.pad-cg.kw)/cg.stride + 1
		cg.ckk, cg.ohw = cg.c*cg.kh*cg.kw, cg.oh*cg.ow
		cg.nohw = cg.n * cg.ohw
		x := randSlice(r, g.n*g.c*g.h*g.w)
		cols := make([]float32, cg.ckk*cg.nohw)
		cg.im2colSlow(x, cols)
		for _, f := range []Format{F32, TF32, F16, BF16} {
			for _, trans := range []bool{false, true} {
				n, k := cg.nohw, cg.ckk
				if trans {
					n, k = k, n
				}
				want := packB(f, trans, n, k, cols, cg.nohw, false)
				for i := range 3 { // reused scratch holds garbage
					junk := getScratch(len(want))
					copy(junk, randSlice(r, len(junk)))
					putScratch(junk)
					got := cg.packCols(f, x, trans)
					if !sameBits(got, want) {
						t.Errorf("packCols(%+v, format %v, trans %v) try %d differs from packB(im2colSlow)", g, f, trans, i)
					}
					putScratch(got)
				}
			}
		}
	}
}
