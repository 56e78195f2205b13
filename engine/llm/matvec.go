package llm

import (
	"math"
	"runtime"
	"sync"

	"github.com/genquorum/genquorum/tensor"
)

// panelWidth is the number of outputs one call of the matrix-vector kernel computes.
const panelWidth = 64

// panels is a weight matrix W ([n, k], one row per output) repacked for the one-row products
// of decoding: panel q holds W[q*64+j][t] at q*k*64 + t*64 + j (zero beyond row n).
//
// Why: tensor's matrix product computes tiles of 4 rows of x, so a decoding step (one row)
// wastes three quarters of its work; the output projection (vocabulary x width) dominates the
// cost of a token of a small model. mulVec computes each output exactly as tensor does under a
// profile whose reduction is one sequential partial without FMA and with float32 operands
// (Exact): y[o] = (((0 + float32(x0*w0)) + float32(x1*w1)) + ...), then rounded to Accum and
// Storage; TestMatVecMatchesTensor checks the bits against tensor.Tape.Linear. Other
// profiles use tensor.
//
// Weights stored as F16 in the file are packed as F16 bits (half, data nil) and widened to
// float32 in the kernel (exact), which halves the bytes read per product.
type panels struct {
	n, k int
	data []float32
	half []uint16
	// finite reports that every weight is finite (F16 panels; see mulMatHalf).
	finite bool
}

// packPanelsF16 is packPanels for weights whose values are all F16 values (exact round trip),
// stored as F16 bits.
func packPanelsF16(w []float32, n, k int) *panels {
	np := (n + panelWidth - 1) / panelWidth
	p := &panels{n: n, k: k, half: make([]uint16, np*k*panelWidth), finite: true}
	for _, v := range w[:n*k] {
		p.finite = p.finite && !math.IsInf(float64(v), 0) && v == v
	}
	for o := range n {
		q, j := o/panelWidth, o%panelWidth
		base := q * k * panelWidth
		for t := range k {
			p.half[base+t*panelWidth+j] = tensor.Float32ToFloat16(w[o*k+t])
		}
	}
	return p
}

// packPanelsF16Bits is packPanelsF16 for a matrix given as its F16 bytes (little-endian, [n, k]
// row-major), without widening: the same panels bit for bit (NaNs become 0x7e00 with their
// sign, as the round trip through float32 gives).
func packPanelsF16Bits(raw []byte, n, k int) *panels {
	np := (n + panelWidth - 1) / panelWidth
	p := &panels{n: n, k: k, half: make([]uint16, np*k*panelWidth), finite: true}
	for o := range n {
		q, j := o/panelWidth, o%panelWidth
		base := q * k * panelWidth
		row := raw[2*o*k : 2*(o+1)*k]
		for t := range k {
			h := uint16(row[2*t]) | uint16(row[2*t+1])<<8
			if h&0x7c00 == 0x7c00 { // Inf or NaN
				p.finite = false
				if h&0x3ff != 0 {
					h = h&0x8000 | 0x7e00
				}
			}
			p.half[base+t*panelWidth+j] = h
		}
	}
	return p
}

// count returns the number of panels.
func (p *panels) count() int { return (p.n + panelWidth - 1) / panelWidth }

// panel computes panel q for one row x into y, with the kernel of the panel's storage.
func (p *panels) panel(q int, x []float32, y *[panelWidth]float32) {
	sz := p.k * panelWidth
	if p.half != nil {
		matvecPanelF16(p.k, x, p.half[q*sz:(q+1)*sz], y)
		return
	}
	matvecPanel(p.k, x, p.data[q*sz:(q+1)*sz], y)
}

// panel4 computes panel q for the four rows x[r*p.k:] into y[r*ldy:], reporting false when
// no four-row kernel is available.
func (p *panels) panel4(q int, x []float32, y []float32, ldy int) bool {
	sz := p.k * panelWidth
	if p.half != nil {
		return matvecPanel4F16(p.k, x, p.k, p.half[q*sz:(q+1)*sz], y, ldy)
	}
	return matvecPanel4(p.k, x, p.k, p.data[q*sz:(q+1)*sz], y, ldy)
}

func packPanels(w []float32, n, k int) *panels {
	np := (n + panelWidth - 1) / panelWidth
	p := &panels{n: n, k: k, data: make([]float32, np*k*panelWidth)}
	for o := range n {
		q, j := o/panelWidth, o%panelWidth
		dst := p.data[q*k*panelWidth+j:]
		for t, v := range w[o*k : (o+1)*k] {
			dst[t*panelWidth] = v
		}
	}
	return p
}

// fastProfile reports whether products of length k under p can use mulVec.
func fastProfile(p *tensor.Profile, k int) bool {
	return p.Lanes <= 1 && (p.Chunk == 0 || p.Chunk >= k) && !p.FMA && p.Input == tensor.F32
}

// mulVec sets y[o] = sum_t float32(x[t]*W[o][t]) (sequential float32 sum from zero), for one
// row x of length k; y must have room for n values. Panels are split between goroutines;
// each output's sum is computed by one call, so GOMAXPROCS changes no bit.
func (p *panels) mulVec(x, y []float32) {
	p.parallel(1, func(lo, hi int) {
		var tmp [panelWidth]float32
		for q := lo; q < hi; q++ {
			w := min(panelWidth, p.n-q*panelWidth)
			if w == panelWidth {
				p.panel(q, x, (*[panelWidth]float32)(y[q*panelWidth:]))
			} else {
				p.panel(q, x, &tmp)
				copy(y[q*panelWidth:q*panelWidth+w], tmp[:w])
			}
		}
	})
}

// matvecGo is the portable kernel and the specification of the assembly one: for each of the
// 64 outputs j, in order t = 0..k-1: y[j] = y[j] + float32(x[t]*b[t*64+j]), from y[j] = 0.
func matvecGo(k int, x, b []float32, y *[panelWidth]float32) {
	*y = [panelWidth]float32{}
	for t := range k {
		xv := x[t]
		row := (*[panelWidth]float32)(b[t*panelWidth : (t+1)*panelWidth])
		for j := range panelWidth {
			y[j] += float32(xv * row[j])
		}
	}
}

// mulMat sets y[r*n+o] as mulVec does for each of the rows rows of x ([rows, k]), reading each
// panel once for all rows. Each output is computed by one call of the panel kernel, so the bits
// are those of mulVec on the row, whatever GOMAXPROCS.
func (p *panels) mulMat(x []float32, rows int, y []float32) {
	p.parallel(rows, func(lo, hi int) {
		var tmp [panelWidth]float32
		for q := lo; q < hi; q++ {
			p.panelRows(q, x, 0, rows, y, &tmp)
		}
	})
}

// parallel calls work on ranges of panels that together cover them all, split between
// goroutines when GOMAXPROCS and the size of the product (rows rows) make it worth it.
func (p *panels) parallel(rows int, work func(lo, hi int)) {
	np := p.count()
	procs := runtime.GOMAXPROCS(0)
	if procs == 1 || np < 8 || rows*p.k*p.n < 1<<16 {
		work(0, np)
		return
	}
	parts := min(procs, np/4)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := i*np/parts, (i+1)*np/parts
		wg.Go(func() { work(lo, hi) })
	}
	wg.Wait()
}

// panelRows computes panel q for rows r0..r1-1 of x into y (row stride n), four rows at a
// time where a four-row kernel is available, one at a time otherwise.
func (p *panels) panelRows(q int, x []float32, r0, r1 int, y []float32, tmp *[panelWidth]float32) {
	w := min(panelWidth, p.n-q*panelWidth)
	if w == panelWidth {
		for ; r0+4 <= r1; r0 += 4 {
			if !p.panel4(q, x[r0*p.k:], y[r0*p.n+q*panelWidth:], p.n) {
				break
			}
		}
	}
	for r := r0; r < r1; r++ {
		xr := x[r*p.k : (r+1)*p.k]
		yr := y[r*p.n+q*panelWidth:]
		if w == panelWidth {
			p.panel(q, xr, (*[panelWidth]float32)(yr))
		} else {
			p.panel(q, xr, tmp)
			copy(yr[:w], tmp[:w])
		}
	}
}

// halfRows is the number of rows the kernel of mulMatHalf computes at once.
const halfRows = 12

// mulMatHalf is mulMat for F16 panels and activations x that are all F16 values (linear rounds
// them so for F16 weights, as ggml does), with the same bits. Then every product x·w of two F16
// values is exact in float32 (two 11-bit significands make at most 22 bits, and the exponents
// stay within float32's normal range), so a fused multiply-add rounds once, exactly where
// matvecGoF16 rounds the sum, and the batched kernel uses one per product instead of a multiply
// and an add: twelve rows at a time, each F16 weight converted once for the twelve rows.
// Other rows go through mulMat's kernels. With an infinite or NaN weight or activation the two
// could differ (an invalid product, or which NaN a fused multiply-add passes on), so then the
// whole product goes through mulMat. TestMulMatHalf and TestMulMatHalfSpecial check the bits
// against mulMat and tensor. Activations that are not F16 values would round differently: use
// mulMat.
func (p *panels) mulMatHalf(x []float32, rows int, y []float32) {
	ng := rows / halfRows
	if p.half == nil || ng == 0 || !useHalf12 || !p.finite || !allFinite(x[:rows*p.k]) {
		p.mulMat(x, rows, y)
		return
	}
	// The rows of each group packed step-major ([k][12]), so that the kernel broadcasts the
	// twelve values of one step from consecutive addresses.
	gsz := halfRows * p.k
	xp := make([]float32, ng*gsz)
	for g := range ng {
		for r := range halfRows {
			xr := x[(g*halfRows+r)*p.k : (g*halfRows+r+1)*p.k]
			for t, v := range xr {
				xp[g*gsz+t*halfRows+r] = v
			}
		}
	}
	sz := p.k * panelWidth
	p.parallel(rows, func(lo, hi int) {
		var tmp [panelWidth]float32
		var part [halfRows * halfCols]float32
		for q := lo; q < hi; q++ {
			w := min(panelWidth, p.n-q*panelWidth)
			pan := p.half[q*sz : (q+1)*sz]
			for g := range ng {
				xg := xp[g*gsz : (g+1)*gsz]
				yg := y[g*halfRows*p.n+q*panelWidth:]
				for h := 0; h < w; h += halfCols {
					if h+halfCols <= w {
						matvecPanel12F16(p.k, xg, pan[h:], yg[h:], p.n)
						continue
					}
					matvecPanel12F16(p.k, xg, pan[h:], part[:], halfCols)
					for r := range halfRows {
						copy(yg[r*p.n+h:r*p.n+w], part[r*halfCols:])
					}
				}
			}
			p.panelRows(q, x, ng*halfRows, rows, y, &tmp)
		}
	})
}

// allFinite reports whether no value of x is infinite or NaN.
func allFinite(x []float32) bool {
	for _, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return false
		}
	}
	return true
}

// halfCols is the number of outputs (columns of a panel) the kernel of mulMatHalf computes.
const halfCols = 32

// matvec12GoF16 is the portable kernel of mulMatHalf and the specification of the assembly
// one: for the twelve rows packed in xp (xp[t*12+r]) and the 32 panel columns at the start of
// b (panel row stride 64), y[r*ldy+j] = the sequential float32 sum over t of
// float32(xp[t*12+r]·w[t][j]), from zero: matvecGoF16 on each row.
func matvec12GoF16(k int, xp []float32, b []uint16, y []float32, ldy int) {
	for r := range halfRows {
		for j := range halfCols {
			var acc float32
			for t := range k {
				acc += float32(xp[t*halfRows+r] * tensor.Float16ToFloat32(b[t*panelWidth+j]))
			}
			y[r*ldy+j] = acc
		}
	}
}

// matvecGoF16 is matvecGo on F16 weight bits, each widened to float32 (exact) before the
// product: the specification of the F16 assembly kernels.
func matvecGoF16(k int, x []float32, b []uint16, y *[panelWidth]float32) {
	*y = [panelWidth]float32{}
	for t := range k {
		xv := x[t]
		row := (*[panelWidth]uint16)(b[t*panelWidth : (t+1)*panelWidth])
		for j := range panelWidth {
			y[j] += float32(xv * tensor.Float16ToFloat32(row[j]))
		}
	}
}
