package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQ8DotsKernels checks the integer block dot products of the assembly kernel against the
// portable one, including the extreme quants (-128 weights, ±127 activations) and block
// counts whose total is not a multiple of the kernel's group of four.
func TestQ8DotsKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ rows, nb int }{{1, 1}, {1, 2}, {3, 1}, {5, 3}, {64, 2}, {33, 4}, {7, 7}} {
		t.Run(fmt.Sprintf("rows=%d/nb=%d", sz.rows, sz.nb), func(t *testing.T) {
			x := make([]int8, sz.nb*qk8)
			w := make([]int8, sz.rows*sz.nb*qk8)
			for i := range x {
				x[i] = int8(rng.IntN(255) - 127)
			}
			for i := range w {
				w[i] = int8(rng.IntN(256) - 128)
			}
			x[0], w[0], w[1] = -127, -128, -128 // the largest products
			if len(x) > 1 {
				x[1] = -127
			}
			want := make([]int32, sz.rows*sz.nb)
			got := make([]int32, len(want))
			q8DotsGo(sz.nb, x, w, want)
			q8Dots(sz.nb, x, w, got)
			if !slices.Equal(got, want) {
				t.Fatalf("kernel %v, portable %v", got, want)
			}
			for i := range x {
				x[i] = -127
			}
			for i := range w {
				w[i] = -128
			}
			q8DotsGo(sz.nb, x, w, want)
			q8Dots(sz.nb, x, w, got)
			if !slices.Equal(got, want) || want[0] != 32*127*128 {
				t.Fatalf("extremes: kernel %v, portable %v", got[:1], want[:1])
			}
		})
	}
}

// TestQ8MatVecKernels checks the fused block-sum kernel against the portable one (bits), with
// output counts that are and are not multiples of the kernel's eight.
func TestQ8MatVecKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sz := range []struct{ out, nb int }{{1, 1}, {8, 1}, {8, 2}, {17, 3}, {64, 2}, {40, 4}} {
		t.Run(fmt.Sprintf("out=%d/nb=%d", sz.out, sz.nb), func(t *testing.T) {
			x := make([]int8, sz.nb*qk8)
			xd := make([]float32, sz.nb)
			w := make([]int8, sz.out*sz.nb*qk8)
			scT := make([]float32, sz.out*sz.nb)
			for i := range x {
				x[i] = int8(rng.IntN(255) - 127)
			}
			for i := range w {
				w[i] = int8(rng.IntN(256) - 128)
			}
			for i := range xd {
				xd[i] = float32(rng.ExpFloat64())
			}
			for i := range scT {
				scT[i] = float32(rng.NormFloat64() * 0.01)
			}
			want := make([]float32, sz.out)
			got := make([]float32, sz.out)
			q8MatVecGo(sz.nb, x, xd, w, scT, sz.out, want)
			q8MatVec(sz.nb, x, xd, w, scT, sz.out, got)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("output %d: kernel %v, portable %v", i, got[i], want[i])
				}
			}
		})
	}
}
