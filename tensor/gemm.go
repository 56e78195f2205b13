package tensor

import (
	"math"
	"math/bits"
	"runtime"
	"sync"
)

// Tile sizes of the matrix-product kernel: each call computes a tileM x tileN block of C.
const (
	tileM = 4
	tileN = 16
)

// kernelGo is the portable twin of the assembly micro-kernel, and its specification. For each
// of the tileM*tileN outputs, in that output's own order t = 0, 1, ..., n-1:
//
//	c[r*tileN+j] = c[r*tileN+j] + float32(a[r*lda+t*astep] * b[t*bstep+j])   (fma false)
//	c[r*tileN+j] = fma32(a[r*lda+t*astep], b[t*bstep+j], c[r*tileN+j])        (fma true)
//
// Outputs are independent, so vectorising across j (what the assembly does) gives the same bits.
func kernelGo(n int, a []float32, lda, astep int, b []float32, bstep int, c *[tileM * tileN]float32, fma bool) {
	if n == 0 {
		return
	}
	_ = a[(tileM-1)*lda+(n-1)*astep]
	_ = b[(n-1)*bstep+tileN-1]
	for r := range tileM {
		for h := 0; h < tileN; h += 8 {
			acc := (*[8]float32)(c[r*tileN+h : r*tileN+h+8])
			if fma {
				ai, bi := r*lda, h
				for range n {
					av, bv := a[ai], (*[8]float32)(b[bi:bi+8])
					for j := range 8 {
						// fma32, inlined.
						f := math.FMA(float64(av), float64(bv[j]), float64(acc[j]))
						if bits := math.Float64bits(f); bits&(1<<29-1) != 1<<28 && bits&0x7ff0000000000000 >= (1023-126)<<52 {
							acc[j] = float32(f)
						} else {
							acc[j] = fma32Slow(av, bv[j], acc[j])
						}
					}
					ai += astep
					bi += bstep
				}
				continue
			}
			// Eight accumulators in locals, so that they can live in registers.
			c0, c1, c2, c3, c4, c5, c6, c7 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
			ai, bi := r*lda, h
			for range n {
				av, bv := a[ai], (*[8]float32)(b[bi:bi+8])
				c0 += float32(av * bv[0])
				c1 += float32(av * bv[1])
				c2 += float32(av * bv[2])
				c3 += float32(av * bv[3])
				c4 += float32(av * bv[4])
				c5 += float32(av * bv[5])
				c6 += float32(av * bv[6])
				c7 += float32(av * bv[7])
				ai += astep
				bi += bstep
			}
			acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = c0, c1, c2, c3, c4, c5, c6, c7
		}
	}
}

// gemm sets C = op(A) op(B) for the M x K matrix op(A) and the K x N matrix op(B), every
// element of C being the reduction over K that p describes, with operands rounded to p.Input:
// C[i][j] == p.Dot(row i of op(A), column j of op(B)) (after rounding both), bit for bit.
// A is row-major with leading dimension lda (op(A) = A, or A^T when transA); likewise B.
// C is row-major with leading dimension ldc. Work is split over tiles of C between goroutines;
// no output's reduction order depends on the split.
func gemm(p *Profile, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ap, bp := packA(p.Input, transA, m, k, a, lda), packB(p.Input, transB, n, k, b, ldb, true)
	gemmPacked(p, m, n, k, ap, bp, c, ldc)
	putScratch(ap)
	putScratch(bp)
}

// scratchPools hold packing buffers by size class (class c holds capacity 1<<c): every product
// packs its operands, and reusing those buffers instead of allocating (and zeroing, and
// collecting) two operand-sized slices per call is what lets a 512 x 512 product scale to two
// cores (BenchmarkMatMul: 1.5x before, see the README for after).
var scratchPools [64]sync.Pool

// getScratch returns a buffer of length n with arbitrary contents, from the pools when one fits.
func getScratch(n int) []float32 {
	c := bits.Len(uint(max(n, 1) - 1))
	if b, ok := scratchPools[c].Get().(*[]float32); ok {
		return (*b)[:n]
	}
	return make([]float32, n, 1<<c)
}

// zeroScratch is getScratch with the buffer zeroed, as make returns it.
func zeroScratch(n int) []float32 {
	b := getScratch(n)
	clear(b)
	return b
}

// putScratch returns a buffer from getScratch to its pool. The caller must not use it again.
func putScratch(b []float32) {
	if c := bits.Len(uint(cap(b))) - 1; c >= 0 && cap(b) == 1<<c {
		scratchPools[c].Put(&b)
	}
}

// packA copies op(A) into a row-major buffer of k columns and a multiple of tileM rows (zero
// rows pad the last tile), rounded to f.
func packA(f Format, transA bool, m, k int, a []float32, lda int) []float32 {
	mp := (m + tileM - 1) / tileM * tileM
	ap := getScratch(mp * k)
	clear(ap[m*k:])
	parallelFor(m, int64(k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := ap[i*k : (i+1)*k]
			if transA {
				for t := range k {
					row[t] = a[t*lda+i]
				}
			} else {
				copy(row, a[i*lda:i*lda+k])
			}
		}
		f.RoundSlice(ap[lo*k : hi*k])
	})
	return ap
}

// packB copies op(B) (K x N) into panels of tileN columns, rounded to f: panel q holds
// op(B)[t][q*tileN+jj] at q*k*tileN + t*tileN + jj, zero beyond column n. The buffer comes
// from getScratch when scratch is true (for putScratch after the product), else it is
// allocated to size (to be kept).
func packB(f Format, transB bool, n, k int, b []float32, ldb int, scratch bool) []float32 {
	np := (n + tileN - 1) / tileN
	var bp []float32
	if scratch {
		bp = getScratch(np * k * tileN)
	} else {
		bp = make([]float32, np*k*tileN)
	}
	parallelFor(np, int64(k)*tileN, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			packPanel(bp, q, transB, n, k, b, ldb)
		}
		f.RoundSlice(bp[lo*k*tileN : hi*k*tileN])
	})
	return bp
}

// packPanel fills panel q of bp (see packB).
func packPanel(bp []float32, q int, transB bool, n, k int, b []float32, ldb int) {
	panel := bp[q*k*tileN : (q+1)*k*tileN]
	j0, w := q*tileN, min(tileN, n-q*tileN)
	if w < tileN {
		clear(panel)
	}
	if transB {
		for jj := range w {
			src := b[(j0+jj)*ldb : (j0+jj)*ldb+k]
			for t, v := range src {
				panel[t*tileN+jj] = v
			}
		}
		return
	}
	for t := range k {
		copy(panel[t*tileN:t*tileN+w], b[t*ldb+j0:t*ldb+j0+w])
	}
}

// gemmPacked computes C (m x n, leading dimension ldc) from A packed by packA and B packed by
// packB.
func gemmPacked(p *Profile, m, n, k int, ap, bp []float32, c []float32, ldc int) {
	mp := (m + tileM - 1) / tileM * tileM
	np := (n + tileN - 1) / tileN
	rbs := mp / tileM
	// Tiles are visited in groups of row blocks whose A rows fit in about 256 KiB (L2), and
	// within a group panel by panel, so that both operands are reused from cache.
	group := max(1, min(rbs, (256<<10)/(4*tileM*max(k, 1))))
	parts := p.parts(k)
	tiles := rbs * np
	do := func(lo, hi int) {
		partials := make([][tileM * tileN]float32, len(parts))
		var res [tileM * tileN]float32
		for id := lo; id < hi; id++ {
			g, rest := id/(group*np), id%(group*np)
			gsize := min(group, rbs-g*group)
			q, rb := rest/gsize, g*group+rest%gsize
			panel := bp[q*k*tileN : (q+1)*k*tileN]
			arows := ap[rb*tileM*k:]
			for pi, pt := range parts {
				tile := &partials[pi]
				*tile = [tileM * tileN]float32{}
				if pt.count > 0 {
					kernel(pt.count, arows[pt.start:], k, pt.step, panel[pt.start*tileN:], pt.step*tileN, tile, p.FMA)
				}
				p.Accum.RoundSlice(tile[:])
			}
			p.combineTiles(partials, &res)
			for r := range min(tileM, m-rb*tileM) {
				i := rb*tileM + r
				w := min(tileN, n-q*tileN)
				copy(c[i*ldc+q*tileN:i*ldc+q*tileN+w], res[r*tileN:r*tileN+w])
			}
		}
	}
	parallelFor(tiles, int64(k)*tileM*tileN, do)
}

// combineTiles combines partial-sum tiles element-wise exactly as combine does for each
// element: dst[e] == p.combine(ts[0][e], ts[1][e], ...). ts is clobbered.
func (p *Profile) combineTiles(ts [][tileM * tileN]float32, dst *[tileM * tileN]float32) {
	if len(ts) == 0 {
		*dst = [tileM * tileN]float32{}
		return
	}
	switch p.Combine {
	case Pairwise:
		*dst = p.pairwiseTiles(ts)
		return
	case Folded:
		for n := len(ts); n > 1; {
			h := (n + 1) / 2
			for i := range n - h {
				addTiles(p.Accum, &ts[i], &ts[i+h])
			}
			n = h
		}
		*dst = ts[0]
		return
	}
	*dst = ts[0]
	for i := 1; i < len(ts); i++ {
		addTiles(p.Accum, dst, &ts[i])
	}
}

func (p *Profile) pairwiseTiles(ts [][tileM * tileN]float32) [tileM * tileN]float32 {
	if len(ts) == 1 {
		return ts[0]
	}
	h := (len(ts) + 1) / 2
	l, r := p.pairwiseTiles(ts[:h]), p.pairwiseTiles(ts[h:])
	addTiles(p.Accum, &l, &r)
	return l
}

// addTiles sets a[e] = f.Round(a[e] + b[e]).
func addTiles(f Format, a, b *[tileM * tileN]float32) {
	for e := range a {
		a[e] += b[e]
	}
	f.RoundSlice(a[:])
}

// parallelFor calls do on contiguous sub-ranges of [0, n) from up to GOMAXPROCS goroutines
// and waits for them. cost is the rough work per index; small jobs run on the caller's
// goroutine. Callers must make each index's result independent of the split.
func parallelFor(n int, cost int64, do func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if int64(n)*cost < 1<<16 || w == 1 || n == 1 {
		do(0, n)
		return
	}
	w = min(w, n)
	var wg sync.WaitGroup
	for g := range w {
		lo, hi := n*g/w, n*(g+1)/w
		wg.Go(func() { do(lo, hi) })
	}
	wg.Wait()
}
