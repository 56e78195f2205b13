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
