package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestQ8LanesKernels checks the batched lane kernel (VNNI where available) against its Go
// twin and both against q8MatVecGo row by row (bits), with the extreme quants (-128 weights,
// ±127 activations) and several block counts and row groups.
func TestQ8LanesKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, sz := range []struct{ out, nb, rows int }{{32, 1, 4}, {64, 2, 8}, {96, 4, 12}, {32, 3, 5}, {64, 2, 60}} {
		t.Run(fmt.Sprintf("out=%d/nb=%d/rows=%d", sz.out, sz.nb, sz.rows), func(t *testing.T) {
			in := sz.nb * qk8
			w := make([]int8, sz.out*in)
			for i := range w {
				w[i] = int8(rng.IntN(256) - 128)
			}
			xq := make([]int8, sz.rows*in)
			for i := range xq {
				xq[i] = int8(rng.IntN(255) - 127)
			}
			// The largest block sums: a row of -127 against weights of -128.
			for j := range in {
				xq[j], w[j] = -127, -128
			}
			xd := make([]float32, sz.rows*sz.nb)
			for i := range xd {
				xd[i] = float32(rng.ExpFloat64())
			}
			scT := make([]float32, sz.out*sz.nb)
			for i := range scT {
				scT[i] = float32(rng.NormFloat64() * 0.01)
			}
			scT[0] = float32(math.Copysign(0, -1)) // a -0 term: the sums start from +0
			lanes := packQ8Lanes(w, sz.out, in)
			a := packQ8Acts(xq, xd, sz.rows, sz.nb)
			n32 := sz.out / q8LaneOuts
			got := make([]float32, sz.rows*sz.out)
			twin := make([]float32, sz.rows*sz.out)
			q8Lanes(n32, a, lanes, scT, sz.out, got, sz.out)
			q8LanesGo(n32, a, lanes, scT, sz.out, twin, sz.out)
			want := make([]float32, sz.out)
			for r := range a.nr4 * q8LaneRows {
				q8MatVecGo(sz.nb, xq[r*in:(r+1)*in], xd[r*sz.nb:(r+1)*sz.nb], w, scT, sz.out, want)
				for o := range want {
					i := r*sz.out + o
					if math.Float32bits(got[i]) != math.Float32bits(want[o]) || math.Float32bits(twin[i]) != math.Float32bits(want[o]) {
						t.Fatalf("row %d output %d: kernel %v, twin %v, q8MatVecGo %v", r, o, got[i], twin[i], want[o])
					}
				}
			}
		})
	}
}
