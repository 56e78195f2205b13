//go:build !amd64 || noasm

package imghash

// useAVX2 is false where there is no assembly.
var useAVX2 = false

// dot returns sum(src[i]*k[i]) in int32 arithmetic; len(k) must be at least len(src).
func dot(src []uint8, k []int32) int32 { return dotGeneric(src, k) }

// luma converts interleaved RGB (3 bytes per pixel) to Pillow's L; see lumaGeneric.
func luma(dst, rgb []uint8) { lumaGeneric(dst, rgb) }

// colorPrep computes luma and the colour index of len(l) pixels; see colorPrepGeneric.
func colorPrep(l []uint8, idx []uint32, rgb []uint8) { colorPrepGeneric(l, idx, rgb) }

// hpassRowFast has no vector path here.
func hpassRowFast(dst, src []uint8, c *coeffs) bool { return false }

var useMadd = false
