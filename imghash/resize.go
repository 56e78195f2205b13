package imghash

import (
	"fmt"
	"math"
)

// precisionBits is Pillow's fixed-point precision for 8-bit resampling (Resample.c).
const precisionBits = 22

// lanczos is Pillow's lanczos_filter: sinc(x)*sinc(x/3) on [-3, 3), in float64.
func lanczos(x float64) float64 {
	if -3.0 <= x && x < 3.0 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x = float64(x * math.Pi)
	return math.Sin(x) / x
}

// coeffs is one axis of a Pillow LANCZOS resize (precompute_coeffs + normalize_coeffs_8bpc):
// output index j reads the n[j] input samples starting at xmin[j] with the fixed-point
// weights k[j*stride : j*stride+n[j]].
type coeffs struct {
	in, out int
	stride  int
	xmin    []int
	n       []int
	k       []int32

	// jlo[y] and jhi[y] bound the outputs whose window holds input y: jlo[y] <= j < jhi[y].
	jlo, jhi []int32

	// The same weights for the vector path: output j reads vlen (a multiple of 16) samples
	// from vstart[j], with weights vk[j*vlen:(j+1)*vlen] (zero outside the n[j] real
	// taps). vlen is 0 when a padded window does not fit in the input.
	vlen   int
	vstart []int32
	vk     []int32
	// vkh, vkl split each weight of vk as k = vkh*2048 + vkl with 0 <= vkl < 2048, for
	// 16-bit multiply-adds.
	vkh, vkl []int16
}

// newCoeffs computes the coefficients of a LANCZOS resize of one axis from in to out samples,
// exactly as Pillow 7-12 does (see the package doc for the recipe).
func newCoeffs(in, out int) *coeffs {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("imghash: resize %d -> %d", in, out))
	}
	const support0 = 3.0
	scale := float64(in) / float64(out)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := support0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := &coeffs{in: in, out: out, stride: ksize, xmin: make([]int, out), n: make([]int, out), k: make([]int32, out*ksize)}
	ss := 1.0 / filterscale
	w := make([]float64, ksize)
	for xx := range out {
		center := float64(float64(xx)+0.5) * scale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		n := xmax - xmin
		ww := 0.0
		for x := range n {
			v := lanczos(float64(float64(x+xmin)-center+0.5) * ss)
			w[x] = v
			ww += v
		}
		k := c.k[xx*ksize : xx*ksize+n]
		for x := range n {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				k[x] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		c.xmin[xx] = xmin
		c.n[xx] = n
	}
	return c
}

// ranges fills jlo and jhi (once; they are needed by vertical streams only).
func (c *coeffs) ranges() {
	if c.jlo != nil {
		return
	}
	in, out := c.in, c.out
	c.jlo, c.jhi = make([]int32, in), make([]int32, in)
	for j := out - 1; j >= 0; j-- {
		for y := c.xmin[j]; y < c.xmin[j]+c.n[j]; y++ {
			c.jlo[y] = int32(j)
		}
	}
	for j := range out {
		for y := c.xmin[j]; y < c.xmin[j]+c.n[j]; y++ {
			c.jhi[y] = int32(j + 1)
		}
	}
}

// accumulate adds input row y (len w) to the accumulators of the outputs whose window holds
// y: acc[j*w+x] += row[x] * k_j(y). acc excludes the rounding term.
func (c *coeffs) accumulate(acc []int32, row []uint8, y int) {
	w := len(row)
	for j := int(c.jlo[y]); j < int(c.jhi[y]); j++ {
		kv := c.k[j*c.stride+y-c.xmin[j]]
		a := acc[j*w : (j+1)*w]
		for x, p := range row {
			a[x] += int32(p) * kv
		}
	}
}

// padded fills the vector-path fields of c (once; they are needed by horizontal passes
// only).
func (c *coeffs) padded() {
	if c.vstart != nil {
		return
	}
	maxN := 0
	for _, n := range c.n {
		maxN = max(maxN, n)
	}
	vlen := (maxN + 15) &^ 15
	if vlen == 0 || vlen > c.in {
		c.vstart = []int32{} // not applicable; marks the work as done
		return
	}
	c.vlen = vlen
	c.vstart = make([]int32, c.out)
	c.vk = make([]int32, c.out*vlen)
	for j := range c.out {
		start := min(c.xmin[j], c.in-vlen)
		c.vstart[j] = int32(start)
		off := c.xmin[j] - start
		copy(c.vk[j*vlen+off:], c.k[j*c.stride:j*c.stride+c.n[j]])
	}
	c.vkh = make([]int16, len(c.vk))
	c.vkl = make([]int16, len(c.vk))
	for i, k := range c.vk {
		c.vkh[i] = int16(k >> 11) // |k| <= 2^22, so k>>11 fits in 16 bits
		c.vkl[i] = int16(k & 2047)
	}
}

// clip8 is Pillow's clip8 for an accumulator that already holds the rounding term.
func clip8(acc int32) uint8 {
	v := acc >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// hpassRow resizes one row: dst[j] for j < c.out from src (len c.in).
func hpassRow(dst, src []uint8, c *coeffs) {
	_ = dst[c.out-1]
	if hpassRowFast(dst, src, c) {
		return
	}
	for j := range c.out {
		x0, n := c.xmin[j], c.n[j]
		k := c.k[j*c.stride : j*c.stride+n]
		dst[j] = clip8(1<<(precisionBits-1) + dot(src[x0:x0+n], k))
	}
}

// dotGeneric returns sum(src[i]*k[i]) in int32 arithmetic. len(k) must equal len(src).
//
// It is the obvious twin of the assembly dot.
func dotGeneric(src []uint8, k []int32) int32 {
	k = k[:len(src)]
	var a0, a1, a2, a3 int32
	i := 0
	for ; i+4 <= len(src); i += 4 {
		s := src[i : i+4 : i+4]
		kk := k[i : i+4 : i+4]
		a0 += int32(s[0]) * kk[0]
		a1 += int32(s[1]) * kk[1]
		a2 += int32(s[2]) * kk[2]
		a3 += int32(s[3]) * kk[3]
	}
	for ; i < len(src); i++ {
		a0 += int32(src[i]) * k[i]
	}
	return a0 + a1 + a2 + a3
}

// vpass resizes the columns of src (width w, c.in rows, row-major) to c.out rows into dst
// (width w, c.out rows). acc is scratch of at least w elements.
func vpass(dst, src []uint8, w int, c *coeffs, acc []int32) {
	acc = acc[:w]
	for j := range c.out {
		y0, n := c.xmin[j], c.n[j]
		k := c.k[j*c.stride : j*c.stride+n]
		for x := range acc {
			acc[x] = 1 << (precisionBits - 1)
		}
		for t, kv := range k {
			row := src[(y0+t)*w : (y0+t+1)*w]
			for x, p := range row {
				acc[x] += int32(p) * kv
			}
		}
		out := dst[j*w : (j+1)*w]
		for x, a := range acc {
			out[x] = clip8(a)
		}
	}
}

// Resize resizes the 8-bit grey image src (width sw, height sh, row-major) to dw x dh with
// Pillow's LANCZOS filter, bit for bit as Pillow's Image.resize((dw, dh), Image.LANCZOS)
// on a mode "L" image. It writes dst (len dw*dh) and returns it; dst is allocated when
// nil or too short. It panics if the sizes are not positive or src is too short.
func Resize(dst, src []uint8, sw, sh, dw, dh int) []uint8 {
	if sw < 1 || sh < 1 || dw < 1 || dh < 1 || len(src) < sw*sh {
		panic(fmt.Sprintf("imghash: Resize %dx%d (len %d) -> %dx%d", sw, sh, len(src), dw, dh))
	}
	if len(dst) < dw*dh {
		dst = make([]uint8, dw*dh)
	}
	dst = dst[:dw*dh]
	if sw == dw && sh == dh {
		copy(dst, src)
		return dst
	}
	tmp, tw := src[:sw*sh], sw
	if dw != sw {
		ch := newCoeffs(sw, dw)
		ch.padded()
		tmp, tw = make([]uint8, dw*sh), dw
		for y := range sh {
			hpassRow(tmp[y*dw:(y+1)*dw], src[y*sw:(y+1)*sw], ch)
		}
	}
	if dh == sh {
		copy(dst, tmp)
		return dst
	}
	vpass(dst, tmp, tw, newCoeffs(sh, dh), make([]int32, tw))
	return dst
}
