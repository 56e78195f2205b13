//go:build !amd64 || noasm

package tensor

// kernel is the matrix-product micro-kernel; on this build it is the portable kernelGo.
func kernel(n int, a []float32, lda, astep int, b []float32, bstep int, c *[tileM * tileN]float32, fma bool) {
	kernelGo(n, a, lda, astep, b, bstep, c, fma)
}

// kernelName names the micro-kernel in use, for benchmarks and reports.
const kernelName = "go"
