package imghash

import "slices"

// PyWavelets' haar filters (db1): dec_lo = [c, c], dec_hi = [-c, c], rec_lo = [c, c],
// rec_hi = [c, -c], with c = 1/sqrt(2) rounded to float64.
const haarC = 0.7071067811865475244008443621048490392848359376884740365883398

// whashFloatBits is whash as imagehash computes it, in float64 with PyWavelets' operation
// order (downsampling convolution: sum = f[0]*x[2o+1] + f[1]*x[2o]; upsampling: each output
// sample = lo term + hi term; 2-D transforms along axis 0 then axis 1, inverses along axis
// 1 then axis 0): pixels/255, full haar decomposition, zeroed final approximation,
// reconstruction, decomposition to the hash size, median threshold. It is only used when
// the exact integer form has a mathematical tie at the median, where imagehash's answer is
// decided by this rounding.
func whashFloatBits(h Hash, p []uint8, scale, s int) Hash {
	x := make([]float64, scale*scale)
	for i, v := range p[:scale*scale] {
		x[i] = float64(v) / 255.0
	}
	// Full decomposition, keeping the details of each level.
	type level struct {
		n              int // size of the bands
		da, ad, dd, aa []float64
	}
	var levels []level
	a, n := x, scale
	for n > 1 {
		aa, da, ad, dd := dwt2(a, n)
		levels = append(levels, level{n / 2, da, ad, dd, aa})
		a, n = aa, n/2
	}
	// Zero the final approximation and reconstruct.
	a = make([]float64, 1)
	for i := len(levels) - 1; i >= 0; i-- {
		l := levels[i]
		a = idwt2(a, l.da, l.ad, l.dd, l.n)
	}
	// Decompose to the hash size.
	n = scale
	for n > s {
		a, _, _, _ = dwt2(a, n)
		n /= 2
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	m := len(sorted)
	med := (sorted[m/2-1] + sorted[m/2]) / 2
	for i, v := range a {
		if v > med {
			h.set(i)
		}
	}
	return h
}

// dwt1 is PyWavelets' haar analysis of x[0], x[st], ..., x[(n-1)*st] into lo and hi
// (n/2 each, stride ost).
func dwt1(lo, hi, x []float64, n, st, ost int) {
	for o := range n / 2 {
		x0, x1 := x[2*o*st], x[(2*o+1)*st]
		lo[o*ost] = float64(haarC*x1) + float64(haarC*x0)
		hi[o*ost] = float64(-haarC*x1) + float64(haarC*x0)
	}
}

// idwt1 is PyWavelets' haar synthesis of lo and hi (m each, stride st) into out (2m,
// stride ost).
func idwt1(out, lo, hi []float64, m, st, ost int) {
	for i := range m {
		l, d := lo[i*st], hi[i*st]
		out[2*i*ost] = float64(haarC*l) + float64(haarC*d)
		out[(2*i+1)*ost] = float64(haarC*l) + float64(-haarC*d)
	}
}

// dwt2 is pywt.dwt2(a, 'haar') of the n x n array a: along axis 0, then axis 1. It returns
// the n/2 x n/2 bands aa, da, ad, dd (first letter: axis 0).
func dwt2(a []float64, n int) (aa, da, ad, dd []float64) {
	m := n / 2
	A := make([]float64, m*n) // axis-0 lo, m rows x n columns
	D := make([]float64, m*n)
	for c := range n {
		dwt1(A[c:], D[c:], a[c:], n, n, n)
	}
	aa, ad = make([]float64, m*m), make([]float64, m*m)
	da, dd = make([]float64, m*m), make([]float64, m*m)
	for r := range m {
		dwt1(aa[r*m:], ad[r*m:], A[r*n:], n, 1, 1)
		dwt1(da[r*m:], dd[r*m:], D[r*n:], n, 1, 1)
	}
	return aa, da, ad, dd
}

// idwt2 is pywt.idwt2 of m x m bands: along axis 1 ('aa' with 'ad' and 'da' with 'dd'),
// then axis 0. It returns the 2m x 2m array.
func idwt2(aa, da, ad, dd []float64, m int) []float64 {
	n := 2 * m
	A := make([]float64, m*n)
	D := make([]float64, m*n)
	for r := range m {
		idwt1(A[r*n:], aa[r*m:], ad[r*m:], m, 1, 1)
		idwt1(D[r*n:], da[r*m:], dd[r*m:], m, 1, 1)
	}
	out := make([]float64, n*n)
	for c := range n {
		idwt1(out[c:], A[c:], D[c:], m, n, n)
	}
	return out
}
