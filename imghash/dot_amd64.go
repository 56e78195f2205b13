//go:build !noasm

package imghash

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 dot product; tests flip it to compare both paths.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotAVX2(src *uint8, k *int32, n int) int32

// dot returns sum(src[i]*k[i]) in int32 arithmetic; len(k) must be at least len(src).
// With AVX2 the first len(src)&^7 products are summed in vector lanes, the rest here;
// int32 addition wraps, so the result equals dotGeneric's bit for bit.
func dot(src []uint8, k []int32) int32 {
	n := len(src)
	if !useAVX2 || n < 16 {
		return dotGeneric(src, k)
	}
	k = k[:n]
	m := n &^ 7
	acc := dotAVX2(&src[0], &k[0], m)
	for i := m; i < n; i++ {
		acc += int32(src[i]) * k[i]
	}
	return acc
}

//go:noescape
func lumaAVX2(dst *uint8, rgb *uint8, n int)

// luma converts interleaved RGB (3 bytes per pixel) to Pillow's L:
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16, for len(dst) pixels. With AVX2, groups of
// 8 pixels that leave 4 readable bytes after them go through lumaAVX2 (integer arithmetic,
// identical bits), the rest through lumaGeneric.
func luma(dst, rgb []uint8) {
	n := len(dst)
	rgb = rgb[:3*n]
	if !useAVX2 || n < 10 {
		lumaGeneric(dst, rgb)
		return
	}
	m := (n - 2) &^ 7
	lumaAVX2(&dst[0], &rgb[0], m)
	lumaGeneric(dst[m:], rgb[3*m:])
}

//go:noescape
func colorPrepAVX2(l *uint8, idx *uint32, rgb *uint8, n int)

// colorPrep computes luma l and the colour index idx (see colorPrepGeneric) of len(l)
// pixels of rgb; with AVX2 in vector lanes for the bulk, bit for bit as colorPrepGeneric.
func colorPrep(l []uint8, idx []uint32, rgb []uint8) {
	n := len(l)
	rgb = rgb[:3*n]
	idx = idx[:n]
	if !useAVX2 || n < 10 {
		colorPrepGeneric(l, idx, rgb)
		return
	}
	m := (n - 2) &^ 7
	colorPrepAVX2(&l[0], &idx[0], &rgb[0], m)
	colorPrepGeneric(l[m:], idx[m:], rgb[3*m:])
}

// useMadd selects the 16-bit multiply-add kernel for whole rows (tests flip it).
var useMadd = true

//go:noescape
func dotRowsMaddAVX2(sums *int32, src *uint8, starts *int32, kh *int16, kl *int16, out int, vlen int)

//go:noescape
func dotRowsAVX2(sums *int32, src *uint8, starts *int32, k *int32, out int, vlen int)

// hpassRowFast is hpassRow's vector path: all outputs of the row in one assembly call (in
// chunks of 64) over the zero-padded weights. It reports false when it does not apply.
func hpassRowFast(dst, src []uint8, c *coeffs) bool {
	if !useAVX2 || c.vlen == 0 || len(src) < c.in {
		return false
	}
	var sums [64]int32
	for j0 := 0; j0 < c.out; j0 += len(sums) {
		n := min(len(sums), c.out-j0)
		if useMadd {
			dotRowsMaddAVX2(&sums[0], &src[0], &c.vstart[j0], &c.vkh[j0*c.vlen], &c.vkl[j0*c.vlen], n, c.vlen)
		} else {
			dotRowsAVX2(&sums[0], &src[0], &c.vstart[j0], &c.vk[j0*c.vlen], n, c.vlen)
		}
		for j, s := range sums[:n] {
			dst[j0+j] = clip8(1<<(precisionBits-1) + s)
		}
	}
	return true
}
