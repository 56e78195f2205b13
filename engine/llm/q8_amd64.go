//go:build !noasm

package llm

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
