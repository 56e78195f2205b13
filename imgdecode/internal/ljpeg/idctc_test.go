package ljpeg

// idctRangeLimit is libjpeg's post-IDCT range-limit table
// (jdmaster.c prepare_range_limit_table, viewed from sample_range_limit +
// CENTERJSAMPLE), indexed by the descaled value & 1023: it adds the 128
// level shift and clamps, treating indices 512..1023 as negative.
var idctRangeLimit = func() (t [1024]uint8) {
	for i := range t {
		switch y := (i + 128) & 1023; {
		case y < 256:
			t[i] = uint8(y)
		case y < 640:
			t[i] = 255
		default:
			t[i] = 0
		}
	}
	return t
}()

// The plain C jpeg_idct_islow, kept as the slow twin of idctIslow: the two agree
// whenever no intermediate leaves the 16-bit range (every valid JPEG).

// idctIslowC computes the 8x8 inverse DCT of the dequantized coefficients
// in (natural order) and writes 8 rows of 8 samples to dst, rows stride
// bytes apart. It is jpeg_idct_islow: the LL&M algorithm with 13-bit
// constants, pass-1 outputs scaled by 2^2, DESCALE rounding (add half,
// arithmetic shift) and the range-limit table.
func idctIslowC(in *block, dst []byte, stride int) {
	var ws [blockSize]int32
	_ = dst[7*stride+7]

	// Pass 1: process columns from input, store into work array.
	for c := 0; c < 8; c++ {
		if in[8+c] == 0 && in[16+c] == 0 && in[24+c] == 0 && in[32+c] == 0 &&
			in[40+c] == 0 && in[48+c] == 0 && in[56+c] == 0 {
			// AC terms all zero.
			dcval := in[c] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+c] = dcval
			}
			continue
		}
		// Even part.
		z2 := in[16+c]
		z3 := in[48+c]
		z1 := (z2 + z3) * fix_0_541196100
		tmp2 := z1 + z3*(-fix_1_847759065)
		tmp3 := z1 + z2*fix_0_765366865

		z2 = in[c]
		z3 = in[32+c]
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		tmp3 = in[8+c]
		tmp2 = in[24+c]
		tmp1 = in[40+c]
		tmp0 = in[56+c]

		z4 := tmp1 + tmp3
		z3 = tmp0 + tmp2
		z2 = tmp1 + tmp2
		z1 = tmp0 + tmp3
		z5 := (z3 + z4) * fix_1_175875602

		tmp3 *= fix_1_501321110
		tmp2 *= fix_3_072711026
		tmp1 *= fix_2_053119869
		tmp0 *= fix_0_298631336
		z4 = z4*(-fix_0_390180644) + z5
		z3 = z3*(-fix_1_961570560) + z5
		z1 *= -fix_0_899976223
		z2 *= -fix_2_562915447

		tmp3 += z1 + z4
		tmp2 += z2 + z3
		tmp1 += z2 + z4
		tmp0 += z1 + z3

		const s = constBits - pass1Bits
		const half = 1 << (s - 1)
		ws[8*0+c] = (tmp10 + tmp3 + half) >> s
		ws[8*7+c] = (tmp10 - tmp3 + half) >> s
		ws[8*1+c] = (tmp11 + tmp2 + half) >> s
		ws[8*6+c] = (tmp11 - tmp2 + half) >> s
		ws[8*2+c] = (tmp12 + tmp1 + half) >> s
		ws[8*5+c] = (tmp12 - tmp1 + half) >> s
		ws[8*3+c] = (tmp13 + tmp0 + half) >> s
		ws[8*4+c] = (tmp13 - tmp0 + half) >> s
	}

	// Pass 2: process rows from work array, store into output array.
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			// AC terms all zero.
			const s = pass1Bits + 3
			v := idctRangeLimit[((w[0]+(1<<(s-1)))>>s)&1023]
			for x := range out {
				out[x] = v
			}
			continue
		}
		// Even part.
		z2 := w[2]
		z3 := w[6]
		z1 := (z2 + z3) * fix_0_541196100
		tmp2 := z1 + z3*(-fix_1_847759065)
		tmp3 := z1 + z2*fix_0_765366865

		tmp0 := (w[0] + w[4]) << constBits
		tmp1 := (w[0] - w[4]) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		tmp3 = w[1]
		tmp2 = w[3]
		tmp1 = w[5]
		tmp0 = w[7]

		z4 := tmp1 + tmp3
		z3 = tmp0 + tmp2
		z2 = tmp1 + tmp2
		z1 = tmp0 + tmp3
		z5 := (z3 + z4) * fix_1_175875602

		tmp3 *= fix_1_501321110
		tmp2 *= fix_3_072711026
		tmp1 *= fix_2_053119869
		tmp0 *= fix_0_298631336
		z4 = z4*(-fix_0_390180644) + z5
		z3 = z3*(-fix_1_961570560) + z5
		z1 *= -fix_0_899976223
		z2 *= -fix_2_562915447

		tmp3 += z1 + z4
		tmp2 += z2 + z3
		tmp1 += z2 + z4
		tmp0 += z1 + z3

		const s = constBits + pass1Bits + 3
		const half = 1 << (s - 1)
		out[0] = idctRangeLimit[((tmp10+tmp3+half)>>s)&1023]
		out[7] = idctRangeLimit[((tmp10-tmp3+half)>>s)&1023]
		out[1] = idctRangeLimit[((tmp11+tmp2+half)>>s)&1023]
		out[6] = idctRangeLimit[((tmp11-tmp2+half)>>s)&1023]
		out[2] = idctRangeLimit[((tmp12+tmp1+half)>>s)&1023]
		out[5] = idctRangeLimit[((tmp12-tmp1+half)>>s)&1023]
		out[3] = idctRangeLimit[((tmp13+tmp0+half)>>s)&1023]
		out[4] = idctRangeLimit[((tmp13-tmp0+half)>>s)&1023]
	}
}
