package imghash

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
)

// highfreqFactor is imagehash's default highfreq_factor of phash and phash_simple.
const highfreqFactor = 4

// The xBits functions set the bits of h, an all-zero hash of the right length, and return it.

// averageBits: bit_i = P_i > mean(P), computed exactly as P_i*n > sum(P).
func averageBits(h Hash, p []uint8) Hash {
	sum := 0
	for _, v := range p {
		sum += int(v)
	}
	n := len(p)
	for i, v := range p {
		if int(v)*n > sum {
			h.set(i)
		}
	}
	return h
}

// dhashBits: p is (s+1) wide and s high; bit[r][c] = p[r][c+1] > p[r][c].
func dhashBits(h Hash, p []uint8, s int) Hash {
	for r := range s {
		row := p[r*(s+1) : (r+1)*(s+1)]
		for c := range s {
			if row[c+1] > row[c] {
				h.set(r*s + c)
			}
		}
	}
	return h
}

// dhashVerticalBits: p is s wide and s+1 high; bit[r][c] = p[r+1][c] > p[r][c].
func dhashVerticalBits(h Hash, p []uint8, s int) Hash {
	for r := range s {
		for c := range s {
			if p[(r+1)*s+c] > p[r*s+c] {
				h.set(r*s + c)
			}
		}
	}
	return h
}

// cosTable returns c[k*n+i] = cos(pi*k*(2i+1)/(2n)) for k, i < n: the DCT-II basis.
var cosTables sync.Map // int -> []float64

func cosTable(n int) []float64 {
	if t, ok := cosTables.Load(n); ok {
		return t.([]float64)
	}
	t := make([]float64, n*n)
	for k := range n {
		for i := range n {
			t[k*n+i] = math.Cos(math.Pi * float64(k*(2*i+1)) / float64(2*n))
		}
	}
	cosTables.Store(n, t)
	return t
}

// snapLimit is the float-tie rule: DCT coefficients with |c| <= snapLimit(n) are set to 0
// before thresholding, because scipy (pocketfft) returns exact zeros where the
// coefficient is mathematically zero while a direct sum leaves ~1e-12 noise. The bound is
// far below any non-zero coefficient of integer input (those are at least ~1e-3 apart).
func snapLimit(n int) float64 { return 1e-12 * float64(2*n) * float64(2*n) * 255 }

// phashCoeffs writes D[k][l] for k, l < s of the unnormalised 2-D DCT-II (scipy.fftpack.dct
// along axis 0, then axis 1) of the n x n image p into out (len s*s), row-major, snapped.
// tmp is scratch of at least s*n float64.
func phashCoeffs(out []float64, p []uint8, n, s int, tmp []float64) {
	c := cosTable(n)
	t := tmp[:s*n]
	// Along axis 0 (down each column), rows k < s only.
	for k := range s {
		ck := c[k*n : (k+1)*n]
		tk := t[k*n : (k+1)*n]
		clear(tk)
		for m, cv := range ck {
			row := p[m*n : (m+1)*n]
			for i, v := range row {
				tk[i] += float64(cv * float64(v))
			}
		}
		for i := range tk {
			tk[i] *= 2
		}
	}
	// Along axis 1 (each row), columns l < s.
	lim := snapLimit(n)
	for k := range s {
		tk := t[k*n : (k+1)*n]
		for l := range s {
			cl := c[l*n : (l+1)*n]
			acc := 0.0
			for i, v := range tk {
				acc += float64(v * cl[i])
			}
			acc *= 2
			if math.Abs(acc) <= lim {
				acc = 0
			}
			out[k*s+l] = acc
		}
	}
}

// phashBits: bit = D > median(D) over the s x s low-frequency block including DC.
func phashBits(h Hash, d []float64, sorted []float64) Hash {
	sorted = append(sorted[:0], d...)
	slices.Sort(sorted)
	m := len(sorted)
	med := (sorted[m/2-1] + sorted[m/2]) / 2
	for i, v := range d {
		if v > med {
			h.set(i)
		}
	}
	return h
}

// phashSimpleCoeffs writes the row DCT-II coefficients 1..s of rows 0..s-1 of the n x n
// image p into out (len s*s), snapped.
func phashSimpleCoeffs(out []float64, p []uint8, n, s int) {
	c := cosTable(n)
	lim := snapLimit(n)
	for r := range s {
		row := p[r*n : (r+1)*n]
		for k := 1; k <= s; k++ {
			ck := c[k*n : (k+1)*n]
			acc := 0.0
			for i, v := range row {
				acc += float64(float64(v) * ck[i])
			}
			acc *= 2
			if math.Abs(acc) <= lim {
				acc = 0
			}
			out[r*s+k-1] = acc
		}
	}
}

// phashSimpleBits: bit = D > mean(D).
func phashSimpleBits(h Hash, d []float64) Hash {
	sum := 0.0
	for _, v := range d {
		sum += v
	}
	avg := sum / float64(len(d))
	for i, v := range d {
		if v > avg {
			h.set(i)
		}
	}
	return h
}

// whashScale is imagehash's default image_scale: max(2^floor(log2(min(w, h))), s).
func whashScale(w, h, s int) int {
	m := min(w, h)
	p := 1
	for p*2 <= m {
		p *= 2
	}
	return max(p, s)
}

// whashBits: the exact integer form of haar whash with remove_max_haar_ll: sum each
// (scale/s)^2 block of the scale x scale image p; bit_i = 2*S_i > S_(m/2-1) + S_(m/2).
func whashBits(h Hash, p []uint8, scale, s int, sums, sorted []int64) Hash {
	bs := scale / s
	sums = sums[:s*s]
	clear(sums)
	for y := range scale {
		row := p[y*scale : (y+1)*scale]
		br := sums[(y/bs)*s : (y/bs+1)*s]
		for bx := range s {
			br[bx] += int64(sumBytes(row[bx*bs : (bx+1)*bs]))
		}
	}
	sorted = append(sorted[:0], sums...)
	slices.Sort(sorted)
	m := len(sorted)
	thr := sorted[m/2-1] + sorted[m/2]
	for _, v := range sums {
		if 2*v == thr {
			// A mathematical tie at the median: imagehash decides it by rounding noise.
			return whashFloatBits(h, p, scale, s)
		}
	}
	for i, v := range sums {
		if 2*v > thr {
			h.set(i)
		}
	}
	return h
}

// sumBytes returns the sum of b. It adds 8 bytes at a time in four 16-bit lanes (SWAR),
// flushing the lanes before they can overflow.
func sumBytes(b []uint8) int {
	const lo = 0x00ff00ff00ff00ff
	total := 0
	for len(b) >= 8 {
		n := min(len(b)/8, 128) // 128 words add at most 2*128*255 < 65536 per lane
		var acc uint64
		for i := range n {
			w := binary.LittleEndian.Uint64(b[8*i:])
			acc += w&lo + (w>>8)&lo
		}
		total += int(acc&0xffff + acc>>16&0xffff + acc>>32&0xffff + acc>>48)
		b = b[8*n:]
	}
	for _, v := range b {
		total += int(v)
	}
	return total
}
