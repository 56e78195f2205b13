//go:build !noasm

package llm

import "golang.org/x/sys/cpu"

// q8DotsAVX computes dst[i] for i < n4*4 as q8DotsGo does (n4 groups of four blocks), with
// VPMADDUBSW on |w| and x·sign(w) (no saturation: |w| <= 128, |x| <= 127) and VPMADDWD,
// summed in int32: exact, so the order of the additions does not matter.
//
//go:noescape
func q8DotsAVX(n4, nb int, x, w *int8, dst *int32)

// q8DotsAsm computes a prefix of dst with the assembly kernel and returns its length.
func q8DotsAsm(nb int, x, w []int8, dst []int32) int {
	n4 := len(dst) / 4
	if !useAVX || n4 == 0 {
		return 0
	}
	q8DotsAVX(n4, nb, &x[0], &w[0], &dst[0])
	return n4 * 4
}

// q8MatVecAVX computes n8 groups of eight outputs of q8MatVecGo: the eight integer block sums
// as in q8DotsAVX, gathered into one vector by VPHADDD, converted (exact), and combined with
// VMULPS, VMULPS, VADDPS in block order (the same roundings as the Go code, lane by lane).
//
//go:noescape
func q8MatVecAVX(n8, nb, in int, x *int8, xd *float32, w *int8, scT *float32, stride int, dst *float32)

// q8MatVecAsm computes a prefix of dst with the assembly kernel and returns its length.
func q8MatVecAsm(nb int, x []int8, xd []float32, w []int8, scT []float32, stride int, dst []float32) int {
	n8 := len(dst) / 8
	if !useAVX || n8 == 0 {
		return 0
	}
	q8MatVecAVX(n8, nb, nb*qk8, &x[0], &xd[0], &w[0], &scT[0], stride*4, &dst[0])
	return n8 * 8
}

// useQ8Lanes reports whether the VNNI lane kernel is available (AVX-512 VNNI).
var useQ8Lanes = useAVX512 && cpu.X86.HasAVX512VNNI

// q8Lanes4VNNI computes what q8LanesGo does for n32 output groups and nr4 groups of four rows
// (strides lds, ldd in bytes): VPDPBUSD on the lane layout (exact int32 sums from the
// correction -128·Σx), then per block VCVTDQ2PS and VMULPS, VMULPS, VADDPS with
// q8MatVecAVX's operand order (the same roundings, lane by lane).
//
//go:noescape
func q8Lanes4VNNI(n32, nr4, nb int, x *int8, xd *float32, corr *int32, w *uint8, sc *float32, lds int, dst *float32, ldd int)

// q8Lanes is q8LanesGo with the assembly kernel when useQ8Lanes.
func q8Lanes(n32 int, a *q8LaneActs, lanes []uint8, sc []float32, lds int, dst []float32, ldd int) {
	if !useQ8Lanes || n32 == 0 || a.nr4 == 0 {
		q8LanesGo(n32, a, lanes, sc, lds, dst, ldd)
		return
	}
	nb := a.nb
	_ = lanes[n32*nb*1024-1]
	_ = sc[(nb-1)*lds+n32*q8LaneOuts-1]
	_ = dst[(a.nr4*q8LaneRows-1)*ldd+n32*q8LaneOuts-1]
	_ = a.x[a.nr4*nb*128-1]
	_ = a.d[a.nr4*nb*4-1]
	_ = a.corr[a.nr4*nb*4-1]
	q8Lanes4VNNI(n32, a.nr4, nb, &a.x[0], &a.d[0], &a.corr[0], &lanes[0], &sc[0], lds*4, &dst[0], ldd*4)
}
