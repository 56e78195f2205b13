package collide

import "math/bits"

// The kernels count or list the pairs of one tile: rows r0 <= i < r1 against columns
// max(i+1, c0) <= j < c1 of a hash array v of w words per hash. A pair is taken when its
// distance is at most t and, for multi-index hashing, it belongs to the chunk searched (see
// keep): dd holds the masks of chunks 0..c, w words each, and the pair must agree on chunk c
// and on no earlier one. With dd empty (brute force) every pair within t is taken.
// Each has a slow, obvious twin in the tests (naiveCount).

// count64 is the kernel for one-word hashes. Per pair it does one XOR, one popcount and one
// add; the rare pairs within t take the slow path hit64.
func count64(v []uint64, r0, r1, c0, c1, t int, dd []uint64, cnt []uint64) {
	t1 := t + 1
	for i := r0; i < r1; i++ {
		j := max(i+1, c0)
		if j >= c1 {
			continue
		}
		a := v[i]
		row := v[j:c1]
		for len(row) >= 8 {
			d0 := bits.OnesCount64(a^row[0]) - t1
			d1 := bits.OnesCount64(a^row[1]) - t1
			d2 := bits.OnesCount64(a^row[2]) - t1
			d3 := bits.OnesCount64(a^row[3]) - t1
			d4 := bits.OnesCount64(a^row[4]) - t1
			d5 := bits.OnesCount64(a^row[5]) - t1
			d6 := bits.OnesCount64(a^row[6]) - t1
			d7 := bits.OnesCount64(a^row[7]) - t1
			if d0|d1|d2|d3|d4|d5|d6|d7 < 0 { // some distance <= t
				hit64(a, row[:8], t, dd, cnt)
			}
			row = row[8:]
		}
		if len(row) > 0 {
			hit64(a, row, t, dd, cnt)
		}
	}
}

// hit64 counts, for each b in bs, the pair (a, b) if it is within t and kept by dd.
func hit64(a uint64, bs []uint64, t int, dd []uint64, cnt []uint64) {
next:
	for _, b := range bs {
		x := a ^ b
		d := bits.OnesCount64(x)
		if d > t {
			continue
		}
		if len(dd) > 0 {
			if x&dd[len(dd)-1] != 0 {
				continue // not equal on this chunk: a bucket of equal folded keys, not equal bits
			}
			for _, m := range dd[:len(dd)-1] {
				if x&m == 0 {
					continue next // found in an earlier chunk
				}
			}
		}
		cnt[d]++
	}
}

// count4 is the kernel for four-word (256-bit) hashes; dd holds 4 masks per chunk.
func count4(v []uint64, r0, r1, c0, c1, t int, dd []uint64, cnt []uint64) {
	for i := r0; i < r1; i++ {
		j := max(i+1, c0)
		if j >= c1 {
			continue
		}
		a := v[4*i : 4*i+4 : 4*i+4]
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		row := v[4*j : 4*c1]
		for len(row) >= 4 {
			d := bits.OnesCount64(a0^row[0]) + bits.OnesCount64(a1^row[1]) +
				bits.OnesCount64(a2^row[2]) + bits.OnesCount64(a3^row[3])
			if d <= t {
				hitW(a, row[:4], d, dd, cnt)
			}
			row = row[4:]
		}
	}
}

// countW is the kernel for any width of w words.
func countW(v []uint64, w, r0, r1, c0, c1, t int, dd []uint64, cnt []uint64) {
	for i := r0; i < r1; i++ {
		j := max(i+1, c0)
		if j >= c1 {
			continue
		}
		a := v[w*i : w*i+w : w*i+w]
		for ; j < c1; j++ {
			b := v[w*j : w*j+w : w*j+w]
			d := distWords(a, b)
			if d <= t {
				hitW(a, b, d, dd, cnt)
			}
		}
	}
}

// hitW counts the pair (a, b), at distance d, if dd keeps it.
func hitW(a, b []uint64, d int, dd []uint64, cnt []uint64) {
	if keep(a, b, dd) {
		cnt[d]++
	}
}

// keep reports whether the pair (a, b) belongs to the last chunk whose masks (len(a) words
// each) are in dd: the hashes agree on that chunk and on none before it. Every pair within t
// agrees on some chunk, so each is kept for exactly one chunk. With dd empty it returns true.
func keep(a, b []uint64, dd []uint64) bool {
	w := len(a)
	if len(dd) == 0 {
		return true
	}
	last := len(dd) - w
	if !agree(a, b, dd[last:]) {
		return false
	}
	for c := 0; c < last; c += w {
		if agree(a, b, dd[c:c+w]) {
			return false
		}
	}
	return true
}

// agree reports whether a and b are equal on the bits of mask m.
func agree(a, b, m []uint64) bool {
	for k := range m {
		if (a[k]^b[k])&m[k] != 0 {
			return false
		}
	}
	return true
}

// distWords returns the Hamming distance between two hashes of len(a) words.
func distWords(a, b []uint64) int {
	b = b[:len(a)]
	d := 0
	for k := range a {
		d += bits.OnesCount64(a[k] ^ b[k])
	}
	return d
}

// list calls yield for every pair of the tile that the counting kernels would count, in row
// order, with indices mapped through perm (nil: identity). It returns false if yield did.
func list(v []uint64, w, r0, r1, c0, c1, t int, dd []uint64, perm []int32, yield func(Pair) bool) bool {
	for i := r0; i < r1; i++ {
		a := v[w*i : w*i+w : w*i+w]
		for j := max(i+1, c0); j < c1; j++ {
			b := v[w*j : w*j+w : w*j+w]
			d := distWords(a, b)
			if d > t || !keep(a, b, dd) {
				continue
			}
			p := Pair{I: i, J: j, Distance: d}
			if perm != nil {
				p.I, p.J = int(perm[i]), int(perm[j])
				if p.I > p.J {
					p.I, p.J = p.J, p.I
				}
			}
			if !yield(p) {
				return false
			}
		}
	}
	return true
}
