package ljpeg

// This file ports the accurate integer IDCT (JDCT_ISLOW) of libjpeg-turbo
// 2.1 as x86-64 builds run it: jsimd_idct_islow_avx2 (simd/x86_64/
// jidctint-avx2.asm; Copyright 2009 Pierre Ossman for Cendio AB, (C) 2009,
// 2016, 2018, 2020 D. R. Commander, (C) 2018 Matthias Räncker, based on
// MIYASAKA Masaru's x86 SIMD extension), itself jidctint.c (Copyright (C)
// 1991-1998, Thomas G. Lane; IJG licence) computed in 16-bit lanes. For
// every valid JPEG the result equals the C code (kept as idctIslowC in the
// tests); they part only on corrupt data whose coefficients overflow 16
// bits, where the SIMD code wraps the dequantization and the sums of two
// inputs, saturates between passes and clamps the output, while C's
// range-limit table wraps. Pillow on x86-64 runs the SIMD code.

const (
	constBits = 13
	pass1Bits = 2

	fix_0_298631336 = 2446
	fix_0_390180644 = 3196
	fix_0_541196100 = 4433
	fix_0_765366865 = 6270
	fix_0_899976223 = 7373
	fix_1_175875602 = 9633
	fix_1_501321110 = 12299
	fix_1_847759065 = 15137
	fix_1_961570560 = 16069
	fix_2_053119869 = 16819
	fix_2_562915447 = 20995
	fix_3_072711026 = 25172
)

// idctIslow dequantizes the coefficients b (natural order, JCOEF values)
// with the quantizers q (natural order) and writes the 8x8 inverse DCT to
// dst, rows stride bytes apart, exactly as jsimd_idct_islow_avx2 does:
// 16-bit products (vpmullw); when rows 1-7 of b are all zero, pass 1 is the
// dequantized first row shifted left by 2 in 16 bits; otherwise two passes
// of islowPass with 16-bit saturation after each, then a clamp to 0..255.
// (Columns and rows whose AC inputs are zero take a shortcut that computes
// the same value islowPass would.)
func idctIslow(b, q *block, dst []byte, stride int) {
	_ = dst[7*stride+7]
	var in, ws [blockSize]int32
	acZero := true
	for i := range in {
		in[i] = int32(int16(b[i] * q[i])) // vpmullw keeps the low 16 bits
		if i >= 8 && b[i] != 0 {
			acZero = false
		}
	}
	if acZero {
		for c := 0; c < 8; c++ {
			v := int32(int16(in[c] << pass1Bits)) // vpsllw
			for r := 0; r < 8; r++ {
				ws[8*r+c] = v
			}
		}
	} else {
		for c := 0; c < 8; c++ {
			if in[8+c]|in[16+c]|in[24+c]|in[32+c]|in[40+c]|in[48+c]|in[56+c] == 0 {
				v := sat16(in[c] << pass1Bits) // islowPass with only in0
				for r := 0; r < 8; r++ {
					ws[8*r+c] = v
				}
				continue
			}
			col := [8]int32{in[c], in[8+c], in[16+c], in[24+c], in[32+c], in[40+c], in[48+c], in[56+c]}
			out := islowPass(&col, constBits-pass1Bits)
			for r := 0; r < 8; r++ {
				ws[8*r+c] = out[r]
			}
		}
	}
	for r := 0; r < 8; r++ {
		w := (*[8]int32)(ws[8*r : 8*r+8])
		o := dst[r*stride : r*stride+8 : r*stride+8]
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			const s = constBits + pass1Bits + 3
			v := clampSample(sat16((w[0]<<constBits + 1<<(s-1)) >> s))
			for x := range o {
				o[x] = v
			}
			continue
		}
		out := islowPass(w, constBits+pass1Bits+3)
		for x, v := range out {
			o[x] = clampSample(v)
		}
	}
}

// sat16 is vpackssdw's saturation of an int32 to int16.
func sat16(v int32) int32 { return min(max(v, -32768), 32767) }

// clampSample is vpacksswb (saturate to int8) plus CENTERJSAMPLE.
func clampSample(v int32) uint8 { return uint8(min(max(v, -128), 127) + 128) }

// islowPass is the dodct macro of jidctint-avx2.asm: one 1-D LL&M IDCT of
// eight int16 inputs with int32 products (vpmaddwd), the 16-bit sums
// in0+in4, in0-in4, in7+in3 and in5+in1 (vpaddw, wrapping), DESCALE by
// shift with rounding, and int16 saturation of the outputs (vpackssdw). The
// rotations are regrouped (z2*(c541+c765) + z3*c541 instead of
// (z2+z3)*c541 + z2*c765), which is the same integer.
func islowPass(x *[8]int32, shift uint) (out [8]int32) {
	const (
		f130  = fix_0_541196100 + fix_0_765366865
		f054  = fix_0_541196100
		mf130 = fix_0_541196100 - fix_1_847759065
		mf078 = fix_1_175875602 - fix_1_961570560
		f117  = fix_1_175875602
		f078  = fix_1_175875602 - fix_0_390180644
		mf060 = fix_0_298631336 - fix_0_899976223
		mf089 = -fix_0_899976223
		mf050 = fix_2_053119869 - fix_2_562915447
		mf256 = -fix_2_562915447
		f060  = fix_1_501321110 - fix_0_899976223
		f050  = fix_3_072711026 - fix_2_562915447
	)
	in0, in1, in2, in3, in4, in5, in6, in7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	// Even part.
	tmp3 := in2*f130 + in6*f054
	tmp2 := in2*f054 + in6*mf130
	tmp0 := int32(int16(in0+in4)) << constBits
	tmp1 := int32(int16(in0-in4)) << constBits
	tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
	tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
	// Odd part.
	z3 := int32(int16(in7 + in3))
	z4 := int32(int16(in5 + in1))
	z3, z4 = z3*mf078+z4*f117, z3*f117+z4*f078
	t0 := in7*mf060 + in1*mf089 + z3
	t1 := in5*mf050 + in3*mf256 + z4
	t3 := in7*mf089 + in1*f060 + z4
	t2 := in5*mf256 + in3*f050 + z3
	half := int32(1) << (shift - 1)
	out[0] = sat16((tmp10 + t3 + half) >> shift)
	out[7] = sat16((tmp10 - t3 + half) >> shift)
	out[1] = sat16((tmp11 + t2 + half) >> shift)
	out[6] = sat16((tmp11 - t2 + half) >> shift)
	out[2] = sat16((tmp12 + t1 + half) >> shift)
	out[5] = sat16((tmp12 - t1 + half) >> shift)
	out[3] = sat16((tmp13 + t0 + half) >> shift)
	out[4] = sat16((tmp13 - t0 + half) >> shift)
	return out
}
