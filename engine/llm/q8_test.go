package llm

import (
	"fmt"
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
