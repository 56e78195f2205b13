package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// BenchmarkGonumSgemm is gonum's float32 GEMM on the same sizes as BenchmarkMatMul, for
// comparison only: its summation order is gonum's, not a Profile's, so the package does not
// use it.
func BenchmarkGonumSgemm(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x := blas32.General{Rows: n, Cols: n, Stride: n, Data: randSlice(r, n*n)}
			y := blas32.General{Rows: n, Cols: n, Stride: n, Data: randSlice(r, n*n)}
			c := blas32.General{Rows: n, Cols: n, Stride: n, Data: make([]float32, n*n)}
			timed(b, 2*float64(n)*float64(n)*float64(n), func() { blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, x, y, 0, c) })
		})
	}
}
