package imghash

import "slices"

// PyWavelets' haar filters (db1): dec_lo = [c, c], dec_hi = [-c, c], rec_lo = [c, c],
// rec_hi = [c, -c], with c = 1/sqrt(2) rounded to float64.
const haarC = 0.7071067811865475244008443621048490392848359376884740365883398

// whashFloatBits is whash as imagehash computes it, in float64 with PyWavelets' operation
// order (analysis: lo = c*x[2o+1] + c*x[2o], hi = -c*x[2o+1] + c*x[2o]; synthesis: each
// output sample = lo term + hi term; 2-D analysis along axis 0 then axis 1, synthesis along
// axis 1 then axis 0): pixels/255, full haar decomposition, zeroed final approximation,
// reconstruction, decomposition to the hash size, median threshold. It is used only when
// the exact integer form has a mathematical tie at the median, where imagehash's answer is
// decided by this rounding. The transforms work in place on one scale x scale array
// (bands in the usual Mallat layout), so the memory is 8 bytes per resized pixel.
func whashFloatBits(h Hash, p []uint8, scale, s int) Hash {
	n := scale
	x := make([]float64, n*n)
	for i, v := range p[:n*n] {
		x[i] = float64(v) / 255.0
	}
	tmp := make([]float64, n)
	for k := n; k > 1; k /= 2 {
		dwt2InPlace(x, n, k, tmp)
	}
	x[0] = 0 // coeffs[0] *= 0
	for k := 2; k <= n; k *= 2 {
		idwt2InPlace(x, n, k, tmp)
	}
	for k := n; k > s; k /= 2 {
		dwt2InPlace(x, n, k, tmp)
	}
	ll := make([]float64, 0, s*s)
	for r := range s {
		ll = append(ll, x[r*n:r*n+s]...)
	}
	sorted := slices.Clone(ll)
	slices.Sort(sorted)
	m := len(sorted)
	med := (sorted[m/2-1] + sorted[m/2]) / 2
	for i, v := range ll {
		if v > med {
			h.set(i)
		}
	}
	return h
}

// dwt2InPlace is pywt.dwt2(a, 'haar') of the k x k top-left block of x (row stride n):
// afterwards the block holds aa (top left), ad (top right), da (bottom left) and dd, each
// k/2 x k/2, the first letter naming axis 0.
func dwt2InPlace(x []float64, n, k int, tmp []float64) {
	m := k / 2
	for c := range k { // axis 0
		for i := range k {
			tmp[i] = x[i*n+c]
		}
		for o := range m {
			x0, x1 := tmp[2*o], tmp[2*o+1]
			x[o*n+c] = float64(haarC*x1) + float64(haarC*x0)
			x[(m+o)*n+c] = float64(-haarC*x1) + float64(haarC*x0)
		}
	}
	for r := range k { // axis 1
		row := x[r*n : r*n+k]
		copy(tmp, row)
		for o := range m {
			x0, x1 := tmp[2*o], tmp[2*o+1]
			row[o] = float64(haarC*x1) + float64(haarC*x0)
			row[m+o] = float64(-haarC*x1) + float64(haarC*x0)
		}
	}
}

// idwt2InPlace is pywt.idwt2 of the bands in the k x k top-left block of x (layout of
// dwt2InPlace): along axis 1, then axis 0.
func idwt2InPlace(x []float64, n, k int, tmp []float64) {
	m := k / 2
	for r := range k { // axis 1: rows r < m are aa|ad, rows r >= m are da|dd
		row := x[r*n : r*n+k]
		copy(tmp, row)
		for i := range m {
			l, d := tmp[i], tmp[m+i]
			row[2*i] = float64(haarC*l) + float64(haarC*d)
			row[2*i+1] = float64(haarC*l) + float64(-haarC*d)
		}
	}
	for c := range k { // axis 0
		for i := range k {
			tmp[i] = x[i*n+c]
		}
		for i := range m {
			l, d := tmp[i], tmp[m+i]
			x[2*i*n+c] = float64(haarC*l) + float64(haarC*d)
			x[(2*i+1)*n+c] = float64(haarC*l) + float64(-haarC*d)
		}
	}
}
