package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// TestMulMatHalf checks the twelve-row F16 kernel (fused multiply-adds on exact products)
// against mulMat (separate multiply and add) and tensor.Tape.Linear, bit for bit, on F16
// activations: random values, subnormal and largest halves, partial panels and row counts
// around multiples of twelve; and the kernel in use against its Go twin.
func TestMulMatHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	half := func(v float64) float32 { return tensor.F16.Round(float32(v)) }
	for _, sz := range []struct{ n, k, rows int }{
		{64, 64, 12}, {32, 64, 13}, {65, 32, 24}, {100, 128, 25}, {130, 64, 36}, {3000, 64, 60}, {64, 1, 12}, {40, 7, 85},
	} {
		t.Run(fmt.Sprintf("n=%d/k=%d/rows=%d", sz.n, sz.k, sz.rows), func(t *testing.T) {
			w := make([]float32, sz.n*sz.k)
			for i := range w {
				w[i] = half(rng.NormFloat64())
			}
			x := make([]float32, sz.rows*sz.k)
			for i := range x {
				x[i] = half(rng.NormFloat64() * 3)
			}
			// Extremes: subnormal and largest halves on both sides, whose products span
			// 2^-48 .. 2^32.
			w[0], x[0] = tensor.Float16ToFloat32(0x0001), tensor.Float16ToFloat32(0x8001)
			if len(w) > 2 && len(x) > 2 {
				w[1], x[1] = 65504, -65504
				w[2], x[2] = tensor.Float16ToFloat32(0x03ff), 65504
			}
			p := packPanelsF16(w, sz.n, sz.k)
			want := make([]float32, sz.rows*sz.n)
			got := make([]float32, sz.rows*sz.n)
			p.mulMat(x, sz.rows, want)
			p.mulMatHalf(x, sz.rows, got)
			ref := tensor.NoGrad(tensor.Exact).Linear(tensor.FromData(x, sz.rows, sz.k), tensor.FromData(w, sz.n, sz.k), nil).Data
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(ref[i]) != math.Float32bits(want[i]) {
					t.Fatalf("output %d (row %d): mulMatHalf %v, mulMat %v, tensor %v", i, i/sz.n, got[i], want[i], ref[i])
				}
			}
			// The kernel against its twin on the first twelve rows and panel columns.
			if sz.rows >= halfRows && sz.n >= halfCols {
				xp := make([]float32, halfRows*sz.k)
				for r := range halfRows {
					for j := range sz.k {
						xp[j*halfRows+r] = x[r*sz.k+j]
					}
				}
				a := make([]float32, halfRows*halfCols)
				b := make([]float32, halfRows*halfCols)
				matvec12GoF16(sz.k, xp, p.half, a, halfCols)
				matvecPanel12F16(sz.k, xp, p.half, b, halfCols)
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("kernel output %d = %v, Go twin %v", i, b[i], a[i])
					}
				}
			}
		})
	}
}

// TestMulMatHalfSpecial checks that infinities and NaNs (which make products inexact or
// invalid) give the same bits in the fused kernel as in mulMat's multiply-then-add.
func TestMulMatHalfSpecial(t *testing.T) {
	const n, k, rows = 64, 8, 12
	inf := float32(math.Inf(1))
	nan := tensor.Float16ToFloat32(0x7e01) // a quiet NaN with a payload
	for ci, c := range []struct{ x, w []float32 }{
		{[]float32{inf, 0}, []float32{0, 1}},      // Inf·0: invalid
		{[]float32{inf, -inf}, []float32{1, 1}},   // Inf + -Inf
		{[]float32{nan, 1}, []float32{-nan, 2}},   // NaN activation and NaN weight
		{[]float32{1, nan}, []float32{-nan, inf}}, // NaN weight, then NaN activation
		{[]float32{65504, 65504}, []float32{65504, -65504}},
	} {
		w := make([]float32, n*k)
		x := make([]float32, rows*k)
		for i := range w {
			w[i] = c.w[i%len(c.w)]
		}
		for i := range x {
			x[i] = c.x[(i/k+i)%len(c.x)]
		}
		p := packPanelsF16(w, n, k)
		want := make([]float32, rows*n)
		got := make([]float32, rows*n)
		p.mulMat(x, rows, want)
		p.mulMatHalf(x, rows, got)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("case %d output %d: mulMatHalf %#x, mulMat %#x", ci, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}

// TestPackPanelsF16Bits checks that packing F16 bits directly gives the panels of widening
// them to float32 and packing those, for every F16 value (NaNs, infinities and subnormals
// included) and for partial panels.
func TestPackPanelsF16Bits(t *testing.T) {
	for _, sz := range []struct{ n, k int }{{1024, 64}, {70, 3}, {64, 1}, {1, 1}} {
		raw := make([]byte, 2*sz.n*sz.k)
		w := make([]float32, sz.n*sz.k)
		for i := range w {
			h := uint16(i*2654435761>>7) ^ uint16(i) // spread over all bit patterns
			if i < 1<<16 && len(w) >= 1<<16 {
				h = uint16(i)
			}
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
			w[i] = tensor.Float16ToFloat32(h)
		}
		got, want := packPanelsF16Bits(raw, sz.n, sz.k), packPanelsF16(w, sz.n, sz.k)
		if got.finite != want.finite || !slices.Equal(got.half, want.half) {
			t.Fatalf("%dx%d: packed bits differ (finite %v vs %v)", sz.n, sz.k, got.finite, want.finite)
		}
	}
}
