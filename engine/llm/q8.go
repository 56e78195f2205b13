package llm

// Q8_0 block dot products on int8 quants.
//
// A Q8_0 weight is held as its int8 quants, row-major [out, in] (block b of row o at
// (o*nb+b)*32), with one float32 scale per block; activations are quantised to int8 blocks by
// quantizeQ8. The integer dot product of two blocks (at most 32 products of |q| <= 128·127,
// below 2^24) is exact in int32 and in float32 alike, so computing it in integers gives the
// same per-block sums as a float32 product of the quants in any order; the per-block terms are
// then combined in float32 exactly as before (see State.linearQ8).

const qk8 = 32 // inputs per Q8_0 block

// q8Dots sets dst[i] = Σ_j x[(i%nb)*32+j] · w[i*32+j] for every i < len(dst): the integer dot
// products of consecutive weight blocks w with the activation blocks x (one row of nb blocks,
// repeated per weight row). w must hold len(dst) blocks and len(dst) must be a multiple of nb.
func q8Dots(nb int, x, w []int8, dst []int32) {
	n := len(dst)
	if n == 0 {
		return
	}
	_ = x[nb*qk8-1]
	_ = w[n*qk8-1]
	done := q8DotsAsm(nb, x, w, dst)
	for i := done; i < n; i++ {
		dst[i] = q8Dot(x[(i%nb)*qk8:], w[i*qk8:])
	}
}

// q8DotsGo is the portable q8Dots and the specification of the assembly kernel.
func q8DotsGo(nb int, x, w []int8, dst []int32) {
	for i := range dst {
		dst[i] = q8Dot(x[(i%nb)*qk8:], w[i*qk8:])
	}
}

// q8Dot is the integer dot product of the 32-element blocks at the start of x and w.
func q8Dot(x, w []int8) int32 {
	x, w = x[:qk8], w[:qk8]
	var s int32
	for j := range qk8 {
		s += int32(x[j]) * int32(w[j])
	}
	return s
}

// q8MatVec sets dst[o] = Σ_b float32(float32(scT[b*stride+o]·xd[b]) · isum(o, b)), summed in
// float32 from zero in block order (the sequential combine of linearQ8), for o < len(dst),
// where isum(o, b) is the integer dot product of activation block b of x with block b of
// weight row o (w[o*in+32b:]), in = nb*32, and scT holds the weight scales block-major.
func q8MatVec(nb int, x []int8, xd []float32, w []int8, scT []float32, stride int, dst []float32) {
	n, in := len(dst), nb*qk8
	if n == 0 {
		return
	}
	_ = x[in-1]
	_ = xd[nb-1]
	_ = w[n*in-1]
	_ = scT[(nb-1)*stride+n-1]
	done := q8MatVecAsm(nb, x, xd, w, scT, stride, dst)
	q8MatVecGo(nb, x, xd, w[done*in:], scT[done:], stride, dst[done:])
}

// q8MatVecGo is the portable q8MatVec and the specification of the assembly kernel.
func q8MatVecGo(nb int, x []int8, xd []float32, w []int8, scT []float32, stride int, dst []float32) {
	in := nb * qk8
	for o := range dst {
		var acc float32
		for b := range nb {
			is := q8Dot(x[b*qk8:], w[o*in+b*qk8:])
			acc += float32(float32(scT[b*stride+o]*xd[b]) * float32(is))
		}
		dst[o] = acc
	}
}

// Batched Q8_0 products with VNNI (q8Lanes).
//
// For passes of several rows (prompts, Score) the weights are also held in a lane layout:
// outputs in groups of 32, and for each group, block b and dword d (four inputs) the 32
// outputs' four quants side by side, stored as w+128 (uint8):
// lanes[g*nb*1024 + b*1024 + d*128 + j*4 + e] = uint8(q[(g*32+j)*in + b*32 + d*4 + e] + 128).
// A vector of them times a broadcast dword of four activations (VPDPBUSD: unsigned times
// signed bytes, summed in int32) adds four products to each of 16 outputs, so one weight load
// serves every row of a group of four, with no horizontal sums. The integer block sum of
// output o and row r is then Σ (w+128)·x - 128·Σx, exact in int32 (|Σ| < 2^21), and the block
// terms are combined in float32 in block order exactly as q8MatVecGo does.

const (
	q8LaneOuts = 32 // outputs per lane group
	q8LaneRows = 4  // activation rows per kernel step
)

// packQ8Lanes returns the lane layout of the first out/32*32 rows of the row-major quants q
// ([out, in]).
func packQ8Lanes(q []int8, out, in int) []uint8 {
	nb, n32 := in/qk8, out/q8LaneOuts
	l := make([]uint8, n32*q8LaneOuts*in)
	for g := range n32 {
		for b := range nb {
			for d := range qk8 / 4 {
				dst := l[g*nb*1024+b*1024+d*128:]
				for j := range q8LaneOuts {
					src := q[(g*q8LaneOuts+j)*in+b*qk8+d*4:]
					for e := range 4 {
						dst[j*4+e] = uint8(src[e]) ^ 0x80
					}
				}
			}
		}
	}
	return l
}

// q8LaneActs holds nr4 groups of four quantised activation rows packed for the lane kernel:
// x[rg*nb*128 + b*128 + d*16 + r*4 + e] = xq[row][b*32+d*4+e] (row = rg*4+r), the scales
// d[rg*nb*4 + b*4 + r] and the corrections corr[rg*nb*4 + b*4 + r] = -128·Σ_j xq[row][b*32+j].
type q8LaneActs struct {
	nr4, nb int
	x       []int8
	d       []float32
	corr    []int32
}

// packQ8Acts packs the first rows/4*4 rows of the quants xq ([rows, nb*32]) and their scales xd.
func packQ8Acts(xq []int8, xd []float32, rows, nb int) *q8LaneActs {
	in := nb * qk8
	a := &q8LaneActs{nr4: rows / q8LaneRows, nb: nb}
	a.x = make([]int8, a.nr4*q8LaneRows*in)
	a.d = make([]float32, a.nr4*q8LaneRows*nb)
	a.corr = make([]int32, len(a.d))
	for rg := range a.nr4 {
		for r := range q8LaneRows {
			row := rg*q8LaneRows + r
			for b := range nb {
				blk := (*[qk8]int8)(xq[row*in+b*qk8:])
				dst := a.x[rg*nb*128+b*128+r*4:]
				var s int32
				for d := range qk8 / 4 {
					x4 := (*[4]int8)(blk[d*4:])
					s += int32(x4[0]) + int32(x4[1]) + int32(x4[2]) + int32(x4[3])
					copy(dst[d*16:d*16+4], x4[:])
				}
				a.d[rg*nb*4+b*4+r] = xd[row*nb+b]
				a.corr[rg*nb*4+b*4+r] = -128 * s
			}
		}
	}
	return a
}

// q8LanesGo is the portable lane kernel and the specification of the assembly one: for the
// output groups g < n32 of lanes (scales sc[b*lds + g*32 + j], block-major) and every packed
// row, dst[row*ldd + g*32 + j] = Σ_b float32(float32(sc·xd) · float32(isum)), summed in
// float32 from zero in block order: q8MatVecGo's value.
func q8LanesGo(n32 int, a *q8LaneActs, lanes []uint8, sc []float32, lds int, dst []float32, ldd int) {
	nb := a.nb
	for g := range n32 {
		for rg := range a.nr4 {
			for r := range q8LaneRows {
				row := rg*q8LaneRows + r
				for j := range q8LaneOuts {
					o := g*q8LaneOuts + j
					var acc float32
					for b := range nb {
						is := a.corr[rg*nb*4+b*4+r]
						for d := range qk8 / 4 {
							for e := range 4 {
								is += int32(lanes[g*nb*1024+b*1024+d*128+j*4+e]) * int32(a.x[rg*nb*128+b*128+d*16+r*4+e])
							}
						}
						acc += float32(float32(sc[b*lds+o]*a.d[rg*nb*4+b*4+r]) * float32(is))
					}
					dst[row*ldd+o] = acc
				}
			}
		}
	}
}
