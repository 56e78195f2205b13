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
