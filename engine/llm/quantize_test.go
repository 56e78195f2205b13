package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// quantizeQ8Ref is quantizeQ8 written with float64 math.Abs and math.RoundToEven: the
// reference of TestQuantizeQ8.
func quantizeQ8Ref(x []float32, rows, in int) (q []int8, d []float32) {
	nb := in / qk8
	q, d = make([]int8, rows*in), make([]float32, rows*nb)
	for r := range rows {
		for b := range nb {
			blk := x[r*in+b*qk8 : r*in+(b+1)*qk8]
			var amax float32
			for _, v := range blk {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			if amax != amax || math.IsInf(float64(amax), 0) {
				d[r*nb+b] = float32(math.NaN())
				continue
			}
			d[r*nb+b] = tensor.F16.Round(amax / 127)
			var id float32
			if amax != 0 {
				id = 127 / amax
			}
			dst := q[r*in+b*qk8 : r*in+(b+1)*qk8]
			for j, v := range blk {
				dst[j] = int8(math.RoundToEven(float64(v * id)))
			}
		}
	}
	return q, d
}

// TestQuantizeQ8 checks quantizeQ8 against the float64 reference, bit for bit, on random
// blocks and on blocks with halfway quants (ties to even), zeros, subnormals, infinities and
// NaNs.
func TestQuantizeQ8(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	const rows, in = 40, 128
	x := make([]float32, rows*in)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
	}
	// Row 1: amax 127, so the quants are the values themselves: halves tie to even.
	for j := range in {
		x[in+j] = float32(j%64)/2 - 16
	}
	x[in] = 127
	x[in+qk8] = -127
	x[in+2*qk8] = 127
	x[in+3*qk8] = 127
	clear(x[2*in : 2*in+qk8])                         // a zero block
	x[3*in] = math.Float32frombits(1)                 // a subnormal block
	x[4*in+5] = float32(math.Inf(-1))                 // an infinite block
	x[5*in+7] = float32(math.NaN())                   // a NaN block
	x[6*in+3] = math.MaxFloat32                       // the largest finite value
	x[7*in+1] = float32(math.Copysign(0, -1)) * 1e-45 // -0
	q, d := quantizeQ8(x, rows, in)
	wq, wd := quantizeQ8Ref(x, rows, in)
	if !slices.Equal(q, wq) {
		for i := range q {
			if q[i] != wq[i] {
				t.Fatalf("quant %d (x %v): %d, reference %d", i, x[i], q[i], wq[i])
			}
		}
	}
	for i := range d {
		if math.Float32bits(d[i]) != math.Float32bits(wd[i]) {
			t.Fatalf("scale %d: %v, reference %v", i, d[i], wd[i])
		}
	}
}
