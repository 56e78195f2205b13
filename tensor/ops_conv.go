package tensor

import "fmt"

// convGeom is the geometry of a 2-D convolution.
type convGeom struct {
	n, c, h, w     int // input
	co, kh, kw     int // filters
	stride, pad    int
	oh, ow         int // output
	ckk, ohw, nohw int
}

// packCols packs the im2col matrix of x (cols [C*KH*KW, N*OH*OW]: row (ci, ki, kj), column
// (b, oy, ox) holds x[b, ci, oy*stride - pad + ki, ox*stride - pad + kj], zero in the
// padding) for a matrix product, exactly as packB would pack it after building it: as the K x N
// operand op(B) = cols (K = C*KH*KW, N = N*OH*OW), or, when trans, op(B) = cols^T (K =
// N*OH*OW, N = C*KH*KW), rounded to f. Building the packed panels straight from x saves the
// im2col matrix (C*KH*KW times the input's size) and one pass over it. The buffer comes from
// getScratch: putScratch it after the product. Panels are independent and filled in parallel.
func (cg *convGeom) packCols(f Format, x []float32, trans bool) []float32 {
	n, k := cg.nohw, cg.ckk
	if trans {
		n, k = k, n
	}
	np := (n + tileN - 1) / tileN
	bp := getScratch(np * k * tileN)
	hw := cg.h * cg.w
	// Element (r, col) of cols: with r = (ci, ki, kj) and col's top-left input position
	// (iy0, ix0) = (oy*stride - pad, ox*stride - pad) and offset o = b*C*H*W + iy0*W + ix0, it
	// is x[o + ci*H*W + ki*W + kj] when (iy0+ki, ix0+kj) is inside the input, else 0.
	parallelFor(np, int64(k)*tileN, func(lo, hi int) {
		var d, ki, kj [tileN]int
		for q := lo; q < hi; q++ {
			panel := bp[q*k*tileN : (q+1)*k*tileN]
			j0, w := q*tileN, min(tileN, n-q*tileN)
			if w < tileN {
				clear(panel)
			}
			if !trans { // panel row t is row t of cols; panel column jj is its column j0+jj
				// Columns in runs along one output row (b, oy): a run reads one input row per
				// panel row, stride apart.
				for jj := 0; jj < w; {
					col := j0 + jj
					b, rem := col/cg.ohw, col%cg.ohw
					oy, ox := rem/cg.ow, rem%cg.ow
					run := min(w-jj, cg.ow-ox)
					y0, x0 := oy*cg.stride-cg.pad, ox*cg.stride-cg.pad
					t := 0
					for ci := range cg.c {
						for ki := range cg.kh {
							iy := y0 + ki
							for kj := range cg.kw {
								dst := panel[t*tileN+jj : t*tileN+jj+run]
								t++
								if uint(iy) >= uint(cg.h) {
									clear(dst)
									continue
								}
								src := x[(b*cg.c+ci)*hw+iy*cg.w:][:cg.w]
								ix := x0 + kj
								if cg.stride == 1 {
									lo, hi := max(0, -ix), min(run, cg.w-ix)
									if lo >= hi {
										clear(dst)
										continue
									}
									clear(dst[:lo])
									copy(dst[lo:hi], src[ix+lo:ix+hi])
									clear(dst[hi:])
									continue
								}
								for u := range dst {
									var v float32
									if uint(ix) < uint(cg.w) {
										v = src[ix]
									}
									dst[u] = v
									ix += cg.stride
								}
							}
						}
					}
					jj += run
				}
				continue
			}
			// trans: panel column jj is row j0+jj of cols; panel row t is its column t.
			for jj := range w {
				r := j0 + jj
				ci := r / (cg.kh * cg.kw)
				ki[jj], kj[jj] = (r/cg.kw)%cg.kh, r%cg.kw
				d[jj] = ci*hw + ki[jj]*cg.w + kj[jj]
			}
			t := 0
			for b := range cg.n {
				for oy := range cg.oh {
					y0 := oy*cg.stride - cg.pad
					for ox := range cg.ow {
						x0 := ox*cg.stride - cg.pad
						o := b*cg.c*hw + y0*cg.w + x0
						row := panel[t*tileN : t*tileN+w]
						t++
						for jj := range row {
							var v float32
							if uint(y0+ki[jj]) < uint(cg.h) && uint(x0+kj[jj]) < uint(cg.w) {
								v = x[o+d[jj]]
							}
							row[jj] = v
						}
					}
				}
			}
		}
		f.RoundSlice(bp[lo*k*tileN : hi*k*tileN])
	})
	return bp
}

// im2colSlow is the obvious twin of im2col, for tests.
func (cg *convGeom) im2colSlow(x, cols []float32) {
	for ci := range cg.c {
		for ki := range cg.kh {
			for kj := range cg.kw {
				row := cols[((ci*cg.kh+ki)*cg.kw+kj)*cg.nohw:]
				for b := range cg.n {
					for oy := range cg.oh {
						iy := oy*cg.stride - cg.pad + ki
						for ox := range cg.ow {
							ix := ox*cg.stride - cg.pad + kj
							var v float32
							if iy >= 0 && iy < cg.h && ix >= 0 && ix < cg.w {
								v = x[((b*cg.c+ci)*cg.h+iy)*cg.w+ix]
							}
							row[(b*cg.oh+oy)*cg.ow+ox] = v
						}
					}
				}
			}
		}
	}
}

// col2im writes into dx the gradient of x from the gradient of cols: each input element gets
// the sum, under the profile, of the column entries that read it, in (ki, kj) order.
func (cg *convGeom) col2im(p *Profile, dcols, dx []float32) {
	buf := make([]float32, 0, cg.kh*cg.kw)
	for b := range cg.n {
		for ci := range cg.c {
			for iy := range cg.h {
				for ix := range cg.w {
					buf = buf[:0]
					for ki := range cg.kh {
						ty := iy + cg.pad - ki
						if ty < 0 || ty%cg.stride != 0 || ty/cg.stride >= cg.oh {
							continue
						}
						for kj := range cg.kw {
							tx := ix + cg.pad - kj
							if tx < 0 || tx%cg.stride != 0 || tx/cg.stride >= cg.ow {
								continue
							}
							buf = append(buf, dcols[((ci*cg.kh+ki)*cg.kw+kj)*cg.nohw+(b*cg.oh+ty/cg.stride)*cg.ow+tx/cg.stride])
						}
					}
					dx[((b*cg.c+ci)*cg.h+iy)*cg.w+ix] += p.Sum(buf)
				}
			}
		}
	}
}

// Conv2d returns the 2-D cross-correlation of x [N, C, H, W] with filters w [Co, C, KH, KW],
// plus bias [Co] (or nil), with the given stride and zero padding on every side: output
// [N, Co, OH, OW], OH = (H + 2 pad - KH) / stride + 1. It is one matrix product (filters by
// the im2col matrix) so each output is one reduction of length C*KH*KW under the profile; the
// filter gradient is one reduction over N*OH*OW.
func (tp *Tape) Conv2d(x, w, bias *Tensor, stride, pad int) *Tensor {
	if x.Rank() != 4 || w.Rank() != 4 || x.Shape[1] != w.Shape[1] || stride < 1 || pad < 0 ||
		(bias != nil && bias.Len() != w.Shape[0]) {
		panic(fmt.Sprintf("tensor: Conv2d of x %v with w %v, stride %d, pad %d", x.Shape, w.Shape, stride, pad))
	}
	cg := convGeom{n: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3],
		co: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3], stride: stride, pad: pad}
	cg.oh = (cg.h+2*pad-cg.kh)/stride + 1
	cg.ow = (cg.w+2*pad-cg.kw)/stride + 1
	if cg.oh <= 0 || cg.ow <= 0 {
		panic(fmt.Sprintf("tensor: Conv2d output of x %v with w %v is empty", x.Shape, w.Shape))
	}
	cg.ckk, cg.ohw = cg.c*cg.kh*cg.kw, cg.oh*cg.ow
	cg.nohw = cg.n * cg.ohw
	out := tp.out([]int{cg.n, cg.co, cg.oh, cg.ow}, x, w, bias)
	// The im2col matrix is packed straight from x (packCols) and is scratch: the backward
	// pass packs it again from x rather than keep it (C*KH*KW times the input's size) alive
	// from the forward pass to the backward.
	y := getScratch(cg.co * cg.nohw) // [Co, N*OH*OW]
	p := &tp.p
	// gemm(p, false, false, Co, N*OH*OW, C*KH*KW, w, cols, y), with cols packed from x.
	ap, bp := packA(p.Input, false, cg.co, cg.ckk, w.Data, cg.ckk), cg.packCols(p.Input, x.Data, false)
	gemmPacked(p, cg.co, cg.nohw, cg.ckk, ap, bp, y, cg.nohw)
	putScratch(ap)
	putScratch(bp)
	parallelFor(cg.n*cg.co, int64(cg.ohw), func(lo, hi int) {
		for bo := lo; bo < hi; bo++ {
			b, o := bo/cg.co, bo%cg.co
			dst := out.Data[bo*cg.ohw : (bo+1)*cg.ohw]
			copy(dst, y[o*cg.nohw+b*cg.ohw:])
			if bias != nil {
				for i := range dst {
					dst[i] += bias.Data[o]
				}
			}
		}
	})
	putScratch(y)
	return tp.finish(out, func(g []float32) {
		gy := getScratch(cg.co * cg.nohw) // g as [Co, N*OH*OW], every element written
		for b := range cg.n {
			for o := range cg.co {
				copy(gy[o*cg.nohw+b*cg.ohw:], g[(b*cg.co+o)*cg.ohw:(b*cg.co+o+1)*cg.ohw])
			}
		}
		if needs(w) {
			// gemm(p, false, true, Co, C*KH*KW, N*OH*OW, gy, cols^T, dw), with cols packed from x.
			dw := zeroScratch(w.Len())
			ap, bp := packA(p.Input, false, cg.co, cg.nohw, gy, cg.nohw), cg.packCols(p.Input, x.Data, true)
			gemmPacked(p, cg.co, cg.ckk, cg.nohw, ap, bp, dw, cg.ckk)
			putScratch(ap)
			putScratch(bp)
			w.addGrad(dw)
			putScratch(dw)
		}
		if needs(bias) {
			db := make([]float32, cg.co)
			for o := range cg.co {
				db[o] = p.Sum(gy[o*cg.nohw : (o+1)*cg.nohw])
			}
			bias.addGrad(db)
		}
		if needs(x) {
			dcols := zeroScratch(cg.ckk * cg.nohw)
			gemm(p, true, false, cg.ckk, cg.nohw, cg.co, w.Data, cg.ckk, gy, cg.nohw, dcols, cg.nohw)
			cg.col2im(p, dcols, x.grad())
			putScratch(dcols)
		}
		putScratch(gy)
	})
}

// Upsample returns x [N, C, H, W] enlarged by an integer factor with nearest-neighbour
// sampling: [N, C, H*factor, W*factor]. Each input's gradient sums its factor^2 copies under
// the profile.
func (tp *Tape) Upsample(x *Tensor, factor int) *Tensor {
	if x.Rank() != 4 || factor < 1 {
		panic(fmt.Sprintf("tensor: Upsample of %v by %d", x.Shape, factor))
	}
	nc, h, w := x.Shape[0]*x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := h*factor, w*factor
	out := tp.out([]int{x.Shape[0], x.Shape[1], oh, ow}, x)
	for c := range nc {
		for y := range oh {
			for xx := range ow {
				out.Data[(c*oh+y)*ow+xx] = x.Data[(c*h+y/factor)*w+xx/factor]
			}
		}
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		buf := make([]float32, factor*factor)
		for c := range nc {
			for y := range h {
				for xx := range w {
					for i := range factor {
						for j := range factor {
							buf[i*factor+j] = g[(c*oh+y*factor+i)*ow+xx*factor+j]
						}
					}
					dx[(c*h+y)*w+xx] += tp.p.Sum(buf)
				}
			}
		}
	})
}

// AvgPool returns the means of non-overlapping k x k windows of x [N, C, H, W] (H and W
// divisible by k): [N, C, H/k, W/k]. Each window's sum is reduced under the profile, in
// row-major order, then divided by k*k.
func (tp *Tape) AvgPool(x *Tensor, k int) *Tensor {
	if x.Rank() != 4 || k < 1 || x.Shape[2]%k != 0 || x.Shape[3]%k != 0 {
		panic(fmt.Sprintf("tensor: AvgPool of %v by %d", x.Shape, k))
	}
	nc, h, w := x.Shape[0]*x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := h/k, w/k
	kk := float32(k * k)
	out := tp.out([]int{x.Shape[0], x.Shape[1], oh, ow}, x)
	buf := make([]float32, k*k)
	for c := range nc {
		for y := range oh {
			for xx := range ow {
				for i := range k {
					for j := range k {
						buf[i*k+j] = x.Data[(c*h+y*k+i)*w+xx*k+j]
					}
				}
				out.Data[(c*oh+y)*ow+xx] = tp.p.Sum(buf) / kk
			}
		}
	}
	return tp.finish(out, func(g []float32) {
		dx := x.grad()
		for c := range nc {
			for y := range h {
				for xx := range w {
					dx[(c*h+y)*w+xx] += g[(c*oh+y/k)*ow+xx/k] / kk
				}
			}
		}
	})
}
