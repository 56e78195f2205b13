package tensor

import (
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
	for r := range tileM {
		acc := (*[tileN]float32)(c[r*tileN : (r+1)*tileN])
		ai := r * lda
		bi := 0
		for range n {
			av := a[ai]
			bv := (*[tileN]float32)(b[bi : bi+tileN])
			if fma {
				for j := range tileN {
					acc[j] = fma32(av, bv[j], acc[j])
				}
			} else {
				for j := range tileN {
					acc[j] += float32(av * bv[j])
				}
			}
			ai += astep
			bi += bstep
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
	mp := (m + tileM - 1) / tileM * tileM
	np := (n + tileN - 1) / tileN
	// Pack A into an mp x k row-major buffer (zero rows pad the last tile) and B into panels of
	// tileN columns, panel q holding B[t][q*tileN:(q+1)*tileN] at q*k*tileN + t*tileN.
	ap := make([]float32, mp*k)
	for i := range m {
		row := ap[i*k : (i+1)*k]
		if transA {
			for t := range k {
				row[t] = a[t*lda+i]
			}
		} else {
			copy(row, a[i*lda:i*lda+k])
		}
		p.Input.RoundSlice(row)
	}
	bp := make([]float32, np*k*tileN)
	for q := range np {
		panel := bp[q*k*tileN : (q+1)*k*tileN]
		for j := q * tileN; j < min(n, (q+1)*tileN); j++ {
			jj := j - q*tileN
			for t := range k {
				var v float32
				if transB {
					v = b[j*ldb+t]
				} else {
					v = b[t*ldb+j]
				}
				panel[t*tileN+jj] = p.Input.Round(v)
			}
		}
	}
	parts := p.parts(k)
	tiles := (mp / tileM) * np
	do := func(lo, hi int) {
		var tile [tileM * tileN]float32
		partials := make([][tileM * tileN]float32, len(parts))
		col := make([]float32, len(parts))
		for id := lo; id < hi; id++ {
			// Panel-major order: consecutive tiles share a B panel.
			q, rb := id/(mp/tileM), id%(mp/tileM)
			panel := bp[q*k*tileN : (q+1)*k*tileN]
			arows := ap[rb*tileM*k:]
			for pi, pt := range parts {
				tile = [tileM * tileN]float32{}
				if pt.count > 0 {
					kernel(pt.count, arows[pt.start:], k, pt.step, panel[pt.start*tileN:], pt.step*tileN, &tile, p.FMA)
				}
				if p.Accum != F32 {
					p.Accum.RoundSlice(tile[:])
				}
				partials[pi] = tile
			}
			for r := range tileM {
				i := rb*tileM + r
				if i >= m {
					break
				}
				for jj := range tileN {
					j := q*tileN + jj
					if j >= n {
						break
					}
					if len(parts) == 1 {
						c[i*ldc+j] = partials[0][r*tileN+jj]
						continue
					}
					for pi := range partials {
						col[pi] = partials[pi][r*tileN+jj]
					}
					c[i*ldc+j] = p.combine(col)
				}
			}
		}
	}
	parallelFor(tiles, int64(k)*tileM*tileN, do)
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
