//go:build !noasm

package llm

import "golang.org/x/sys/cpu"

var (
	useAVX = cpu.X86.HasAVX && cpu.X86.HasAVX2
	// F16C (VCVTPH2PS) predates AVX2 on every x86 line (Ivy Bridge, Piledriver), and
	// x/sys/cpu has no flag for it.
	useAVXF16 = useAVX
)

// matvecAVX computes one panel as matvecGo does, with VMULPS then VADDPS (two roundings)
// across 64 outputs in eight registers.
//
//go:noescape
func matvecAVX(k int, x *float32, b *float32, y *float32)

func matvecPanel(k int, x, b []float32, y *[panelWidth]float32) {
	if !useAVX || k == 0 {
		matvecGo(k, x, b, y)
		return
	}
	_ = x[k-1]
	_ = b[k*panelWidth-1]
	matvecAVX(k, &x[0], &b[0], &y[0])
}

var useAVX512 = cpu.X86.HasAVX512F

// matvec4AVX512 computes one full panel for four rows of x (x[r*ldx/4 + t], y[r*ldy/4 + j],
// strides in bytes) as four calls of matvecGo do, with 16-lane VMULPS then VADDPS: the same
// two roundings per product, lane by lane.
//
//go:noescape
func matvec4AVX512(k int, x *float32, ldx int, b *float32, y *float32, ldy int)

// matvecPanel4 computes one full panel for the four rows x[r*ldx:], writing y[r*ldy:] (64
// values each), as matvecPanel does row by row; it reports false (computing nothing) when the
// four-row kernel is not available.
func matvecPanel4(k int, x []float32, ldx int, b []float32, y []float32, ldy int) bool {
	if !useAVX512 || k == 0 {
		return false
	}
	_ = x[3*ldx+k-1]
	_ = b[k*panelWidth-1]
	_ = y[3*ldy+panelWidth-1]
	matvec4AVX512(k, &x[0], ldx*4, &b[0], &y[0], ldy*4)
	return true
}

// matvecF16AVX is matvecAVX on F16 weights, widened by VCVTPH2PS (exact).
//
//go:noescape
func matvecF16AVX(k int, x *float32, b *uint16, y *float32)

func matvecPanelF16(k int, x []float32, b []uint16, y *[panelWidth]float32) {
	if !useAVXF16 || k == 0 {
		matvecGoF16(k, x, b, y)
		return
	}
	_ = x[k-1]
	_ = b[k*panelWidth-1]
	matvecF16AVX(k, &x[0], &b[0], &y[0])
}

// matvec4F16AVX512 is matvec4AVX512 on F16 weights, widened by VCVTPH2PS (exact).
//
//go:noescape
func matvec4F16AVX512(k int, x *float32, ldx int, b *uint16, y *float32, ldy int)

func matvecPanel4F16(k int, x []float32, ldx int, b []uint16, y []float32, ldy int) bool {
	if !useAVX512 || k == 0 {
		return false
	}
	_ = x[3*ldx+k-1]
	_ = b[k*panelWidth-1]
	_ = y[3*ldy+panelWidth-1]
	matvec4F16AVX512(k, &x[0], ldx*4, &b[0], &y[0], ldy*4)
	return true
}

// useHalf12 reports whether mulMatHalf has its twelve-row kernel (AVX-512 and FMA).
var useHalf12 = useAVX512 && cpu.X86.HasFMA

// matvec12F16FMA computes 32 outputs for twelve rows as matvec12GoF16 does, with one
// VFMADD231PS per product (x the second source, w the third, as the first and second sources
// of matvec4F16AVX512's VMULPS): exact products, so the same bits.
//
//go:noescape
func matvec12F16FMA(k int, x *float32, b *uint16, y *float32, ldy int)

// matvecPanel12F16 is matvec12GoF16 with the assembly kernel; only for useHalf12.
func matvecPanel12F16(k int, xp []float32, b []uint16, y []float32, ldy int) {
	if k == 0 {
		matvec12GoF16(k, xp, b, y, ldy)
		return
	}
	_ = xp[halfRows*k-1]
	_ = b[(k-1)*panelWidth+halfCols-1]
	_ = y[(halfRows-1)*ldy+halfCols-1]
	matvec12F16FMA(k, &xp[0], &b[0], &y[0], ldy*4)
}
