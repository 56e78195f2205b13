//go:build !noasm

package llm

import "golang.org/x/sys/cpu"

var useAVX = cpu.X86.HasAVX && cpu.X86.HasAVX2

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
