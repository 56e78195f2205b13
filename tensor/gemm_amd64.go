//go:build amd64 && !noasm

package tensor

import "golang.org/x/sys/cpu"

// useAVX2 is true when the CPU has AVX2 and FMA3 (the assembly kernels use both).
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernelName names the micro-kernel in use, for benchmarks and reports.
var kernelName = map[bool]string{true: "avx2", false: "go"}[useAVX2]

// kernelMulAdd is kernelGo with fma false, vectorised across j with VMULPS then VADDPS (two
// roundings, exactly float32(a*b) + c). Implemented in gemm_amd64.s.
//
//go:noescape
func kernelMulAdd(n int, a *float32, lda, astep int, b *float32, bstep int, c *float32)

// kernelFMA is kernelGo with fma true, using VFMADD231PS (one rounding).
// Implemented in gemm_amd64.s.
//
//go:noescape
func kernelFMA(n int, a *float32, lda, astep int, b *float32, bstep int, c *float32)

// kernel is the matrix-product micro-kernel: assembly when the CPU allows it, else kernelGo.
// Both give identical bits (TestKernelAsmMatchesGo).
func kernel(n int, a []float32, lda, astep int, b []float32, bstep int, c *[tileM * tileN]float32, fma bool) {
	if !useAVX2 || n == 0 {
		kernelGo(n, a, lda, astep, b, bstep, c, fma)
		return
	}
	// Bounds the assembly relies on.
	_ = a[(tileM-1)*lda+(n-1)*astep]
	_ = b[(n-1)*bstep+tileN-1]
	if fma {
		kernelFMA(n, &a[0], lda, astep, &b[0], bstep, &c[0])
	} else {
		kernelMulAdd(n, &a[0], lda, astep, &b[0], bstep, &c[0])
	}
}
