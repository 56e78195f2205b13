package ljpeg

// This file ports the parts of libjpeg-turbo 2.1 that turn component
// planes into output pixels with the default decompression settings:
// jdapimin.c default_decompress_parms (colour-space guess), jdsample.c
// (fancy and box upsampling, context rows as jdmainct.c provides them) and
// jdcolor.c (ycc_rgb_convert, ycck_cmyk_convert, null conversion).
// Original code Copyright (C) 1991-1997, Thomas G. Lane; libjpeg-turbo
// modifications Copyright (C) 2009-2022, D. R. Commander and others; IJG
// licence (README.ijg in libjpeg-turbo).

// ColorSpace is libjpeg's J_COLOR_SPACE for the stored components.
type ColorSpace int

// Colour spaces of the stored components.
const (
	Gray  ColorSpace = iota // one component
	YCbCr                   // three components, converted to RGB
	RGB                     // three components stored as RGB (Adobe transform 0 or 'R','G','B' ids)
	CMYK                    // four components, output as stored
	YCCK                    // four components, YCC converted to inverted RGB, K as stored
)

func (d *decoder) colorSpace() ColorSpace {
	switch d.nComp {
	case 1:
		return Gray
	case 3:
		if d.jfif {
			return YCbCr
		}
		if d.adobeTransformValid {
			if d.adobeTransform == 0 {
				return RGB
			}
			return YCbCr
		}
		c0, c1, c2 := d.comp[0].c, d.comp[1].c, d.comp[2].c
		if c0 == 'R' && c1 == 'G' && c2 == 'B' {
			return RGB
		}
		return YCbCr
	default:
		if d.adobeTransformValid && d.adobeTransform != 0 {
			return YCCK
		}
		return CMYK
	}
}

func (d *decoder) header() Header {
	return Header{Width: d.width, Height: d.height, NComp: d.nComp, ColorSpace: d.colorSpace()}
}

// Image is libjpeg's output: Width*Height pixels of NComp interleaved bytes,
// row-major. NComp is 1 (grey), 3 (RGB) or 4 (CMYK as libjpeg outputs it,
// that is, still in the file's Adobe-inverted polarity).
type Image struct {
	Header
	Pix []uint8
}

// Fixed-point YCbCr->RGB tables of jdcolor.c build_ycc_rgb_table
// (SCALEBITS 16, FIX(x) = int(x*65536 + 0.5), ONE_HALF folded in).
var crR, cbB, crG, cbG [256]int32

func init() {
	const scaleBits = 16
	const oneHalf = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + oneHalf
	}
}

func clamp255(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// upsampleKind is jdsample.c's per-component method.
type upsampleKind int

const (
	upFull      upsampleKind = iota // fullsize_upsample
	upH2V1Fancy                     // h2v1_fancy_upsample
	upH1V2Fancy                     // h1v2_fancy_upsample
	upH2V2Fancy                     // h2v2_fancy_upsample
	upBox                           // h2v1_upsample, h2v2_upsample, int_upsample
)

// upsampler holds one component's plane and how jinit_upsampler would
// expand it.
type upsampler struct {
	kind   upsampleKind
	hr, vr int    // expansion factors
	dw, dh int    // downsampled_width, downsampled_height
	plane  []byte // padded plane
	stride int
	buf    []byte // one output row (at least hr*dw bytes)
}

// row returns output row y of the component, at least width bytes.
func (u *upsampler) row(y, width int) []byte {
	p, s := u.plane, u.stride
	switch u.kind {
	case upFull:
		return p[y*s : y*s+width]
	case upH2V1Fancy:
		h2v1Fancy(u.buf, p[y*s:y*s+u.dw])
	case upH2V2Fancy, upH1V2Fancy:
		// Nearest input row and the next nearest one above (even output
		// rows) or below (odd rows); jdmainct.c's context rows repeat the
		// first row above the image and the last real row below it.
		i := y / 2
		var j, bias int32
		if y%2 == 0 {
			j, bias = int32(max(i-1, 0)), 1
		} else {
			j, bias = int32(min(i+1, u.dh-1)), 2
		}
		in0 := p[i*s : i*s+u.dw]
		in1 := p[int(j)*s : int(j)*s+u.dw]
		if u.kind == upH2V2Fancy {
			h2v2Fancy(u.buf, in0, in1)
		} else {
			out := u.buf[:len(in0)]
			for x := range out {
				out[x] = uint8((int32(in0[x])*3 + int32(in1[x]) + bias) >> 2)
			}
		}
	case upBox:
		in := p[(y/u.vr)*s:]
		out := u.buf[:width]
		if u.hr == 1 {
			copy(out, in)
			break
		}
		for x := range out {
			out[x] = in[x/u.hr]
		}
	}
	return u.buf[:width]
}

// h2v1Fancy is jdsample.c h2v1_fancy_upsample for one row (len(in) > 2):
// out has 2*len(in) bytes, each 3/4 nearer + 1/4 further input sample with
// alternating +1/+2 rounding bias.
func h2v1Fancy(out, in []byte) {
	n := len(in)
	out = out[:2*n]
	v := int32(in[0])
	out[0] = in[0]
	out[1] = uint8((v*3 + int32(in[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		v := int32(in[i]) * 3
		out[2*i] = uint8((v + int32(in[i-1]) + 1) >> 2)
		out[2*i+1] = uint8((v + int32(in[i+1]) + 2) >> 2)
	}
	v = int32(in[n-1])
	out[2*n-2] = uint8((v*3 + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2Fancy is one output row of jdsample.c h2v2_fancy_upsample
// (len(in0) > 2): column sums 3*nearer row + further row, then the same
// 3:1 horizontal filter with biases +8/+7 and a shift by 4.
func h2v2Fancy(out, in0, in1 []byte) {
	n := len(in0)
	out = out[:2*n]
	in1 = in1[:n]
	this := int32(in0[0])*3 + int32(in1[0])
	next := int32(in0[1])*3 + int32(in1[1])
	out[0] = uint8((this*4 + 8) >> 4)
	out[1] = uint8((this*3 + next + 7) >> 4)
	last := this
	this = next
	for i := 1; i < n-1; i++ {
		next = int32(in0[i+1])*3 + int32(in1[i+1])
		out[2*i] = uint8((this*3 + last + 8) >> 4)
		out[2*i+1] = uint8((this*3 + next + 7) >> 4)
		last = this
		this = next
	}
	out[2*n-2] = uint8((this*3 + last + 8) >> 4)
	out[2*n-1] = uint8((this*4 + 7) >> 4)
}

// newUpsampler chooses the method as jinit_upsampler does with
// do_fancy_upsampling on and no IDCT scaling.
func (d *decoder) newUpsampler(i int) *upsampler {
	c := d.comp[i]
	u := &upsampler{
		hr:     d.hmax / c.h,
		vr:     d.vmax / c.v,
		dw:     (d.width*c.h + d.hmax - 1) / d.hmax,
		dh:     (d.height*c.v + d.vmax - 1) / d.vmax,
		plane:  d.planes[i],
		stride: d.mxx * c.h * 8,
	}
	switch {
	case u.hr == 1 && u.vr == 1:
		u.kind = upFull
	case u.hr == 2 && u.vr == 1 && u.dw > 2:
		u.kind = upH2V1Fancy
	case u.hr == 1 && u.vr == 2:
		u.kind = upH1V2Fancy
	case u.hr == 2 && u.vr == 2 && u.dw > 2:
		u.kind = upH2V2Fancy
	default:
		u.kind = upBox
	}
	if u.kind != upFull {
		u.buf = make([]byte, max(u.hr*u.dw, d.width))
	}
	return u
}

// output upsamples and colour-converts the component planes.
func (d *decoder) output() *Image {
	im := &Image{Header: d.header()}
	w, h := d.width, d.height
	if d.nComp == 1 {
		im.Pix = make([]byte, w*h)
		stride := d.mxx * 8
		for y := range h {
			copy(im.Pix[y*w:(y+1)*w], d.planes[0][y*stride:])
		}
		return im
	}
	var ups [maxComponents]*upsampler
	for i := 0; i < d.nComp; i++ {
		ups[i] = d.newUpsampler(i)
	}
	nc := 3
	if d.nComp == 4 {
		nc = 4
	}
	im.Pix = make([]byte, w*h*nc)
	for y := range h {
		out := im.Pix[y*w*nc : (y+1)*w*nc]
		switch im.ColorSpace {
		case YCbCr:
			yy, cb, cr := ups[0].row(y, w), ups[1].row(y, w), ups[2].row(y, w)
			yccRGB(out, yy, cb, cr)
		case YCCK:
			yy, cb, cr, k := ups[0].row(y, w), ups[1].row(y, w), ups[2].row(y, w), ups[3].row(y, w)
			for x := range w {
				Y := int32(yy[x])
				o := out[4*x : 4*x+4 : 4*x+4]
				o[0] = 255 - clamp255(Y+crR[cr[x]])
				o[1] = 255 - clamp255(Y+((cbG[cb[x]]+crG[cr[x]])>>16))
				o[2] = 255 - clamp255(Y+cbB[cb[x]])
				o[3] = k[x]
			}
		default: // RGB, CMYK: null conversion
			for c := 0; c < nc; c++ {
				row := ups[c].row(y, w)
				for x := range w {
					out[nc*x+c] = row[x]
				}
			}
		}
	}
	return im
}

// yccRGB is jdcolor.c ycc_rgb_convert for one row.
func yccRGB(out, yy, cb, cr []byte) {
	n := len(out) / 3
	yy, cb, cr = yy[:n], cb[:n], cr[:n]
	for x := range n {
		Y := int32(yy[x])
		o := out[3*x : 3*x+3 : 3*x+3]
		o[0] = clamp255(Y + crR[cr[x]])
		o[1] = clamp255(Y + ((cbG[cb[x]] + crG[cr[x]]) >> 16))
		o[2] = clamp255(Y + cbB[cb[x]])
	}
}
