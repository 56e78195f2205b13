package ljpeg

// This file ports block smoothing from libjpeg-turbo 2.1.5's jdcoefct.c
// (smoothing_ok and decompress_smooth_data; Copyright (C) 1994-1997, Thomas
// G. Lane; libjpeg-turbo modifications Copyright (C) 2009-2022, D. R.
// Commander, (C) 2015, 2020, Google, Inc.; IJG licence). libjpeg applies it
// by default (do_block_smoothing) to progressive images whose scans left
// some of the first nine AC coefficients incomplete: a coefficient that is
// still zero is predicted from the DC values of the 5x5 neighbouring blocks.
// The row and column edge handling below keeps libjpeg's exact (and in
// places lopsided) rules, because they decide output bits.

// smoothCoefs is libjpeg's SAVED_COEFS: DC and the first nine AC
// coefficients in zig-zag order.
const smoothCoefs = 10

// smoothingOK is jdcoefct.c smoothing_ok for a fully read file.
func (d *decoder) smoothingOK() bool {
	if !d.progressive {
		return false
	}
	useful := false
	for ci := 0; ci < d.nComp; ci++ {
		if !d.quantLatched[ci] {
			return false
		}
		q := &d.compQuant[ci]
		for k := 0; k < smoothCoefs; k++ {
			if q[k] == 0 {
				return false
			}
		}
		if d.coefBits[ci][0] < 0 {
			return false
		}
		for k := 1; k < smoothCoefs; k++ {
			if d.coefBits[ci][k] != 0 {
				useful = true
			}
		}
	}
	return useful
}

// smoothPred is the coefficient estimate of decompress_smooth_data:
// num/(q*256) rounded, its magnitude capped below 2^al when al > 0.
func smoothPred(num, q int64, al int) int32 {
	var pred int64
	if num >= 0 {
		pred = ((q << 7) + num) / (q << 8)
	} else {
		pred = ((q << 7) - num) / (q << 8)
	}
	if al > 0 && pred >= 1<<al {
		pred = 1<<al - 1
	}
	if num < 0 {
		pred = -pred
	}
	return int32(int16(pred)) // (int) then (JCOEF)
}

// reconstructSmoothed is decompress_smooth_data for component ci over the
// whole image.
func (d *decoder) reconstructSmoothed(ci int) {
	c := d.comp[ci]
	v := d.sofV[ci]
	vmax := 1
	hmaxSOF := d.hmax
	for i := 0; i < d.nComp; i++ {
		vmax = max(vmax, d.sofV[i])
	}
	h := c.h
	if d.nComp == 1 {
		hmaxSOF, h = 1, 1
	}
	widthBlocks := ((d.width*h+hmaxSOF-1)/hmaxSOF + 7) / 8
	heightBlocks := ((d.height*v+vmax-1)/vmax + 7) / 8
	totalIMCU := (d.height + 8*vmax - 1) / (8 * vmax)
	last := totalIMCU - 1
	stride := d.mxx * c.h // blocks per stored row
	coefs := d.progCoeffs[ci]
	// Rows past the last iMCU row decoded with real data use the
	// coefficient status from before the latest scan (smoothing_ok's
	// prev_coef_bits_latch: -1 when the file has a single scan).
	curBits := &d.coefBits[ci]
	var prevBits [smoothCoefs]int
	for k := 1; k < smoothCoefs; k++ {
		prevBits[k] = -1
		if d.nScans > 1 {
			prevBits[k] = d.prevCoefBits[ci][k]
		}
	}
	q := &d.compQuant[ci]
	// Quantizers at natural positions 0, 1, 8, 16, 9, 2, 3, 10, 17, 24 are
	// zig-zag entries 0..9.
	Q00, Q01, Q10, Q20, Q11, Q02 := int64(q[0]), int64(q[1]), int64(q[2]), int64(q[3]), int64(q[4]), int64(q[5])
	Q03, Q12, Q21, Q30 := int64(q[6]), int64(q[7]), int64(q[8]), int64(q[9])

	for m := 0; m < totalIMCU; m++ {
		bits := curBits
		if m > d.lastGoodIMCU {
			bits = &prevBits
		}
		changeDC := true
		for k := 1; k < smoothCoefs; k++ {
			if bits[k] != -1 {
				changeDC = false
			}
		}
		blockRows := v
		if m == last {
			if blockRows = heightBlocks % v; blockRows == 0 {
				blockRows = v
			}
		}
		for b := 0; b < blockRows; b++ {
			r := m*v + b
			prev, prevPrev, next, nextNext := r, r, r, r
			if b > 0 || m > 0 {
				prev = r - 1
			}
			if b > 1 || m > 1 {
				prevPrev = r - 2
			} else {
				prevPrev = prev
			}
			if b < blockRows-1 || m < last {
				next = r + 1
			}
			if b < blockRows-2 || m+1 < last {
				nextNext = r + 2
			} else {
				nextNext = next
			}
			rows := [5][]block{
				coefs[prevPrev*stride:], coefs[prev*stride:], coefs[r*stride:],
				coefs[next*stride:], coefs[nextNext*stride:],
			}
			// dc[k][j] is libjpeg's DC(5k+j+1): rows prev-prev..next-next,
			// a sliding window of five columns centred on dc[k][2].
			var dc [5][5]int64
			for k := range rows {
				for j := range dc[k] {
					dc[k][j] = int64(rows[k][0][0])
				}
			}
			lastCol := widthBlocks - 1
			for bn := 0; bn <= lastCol; bn++ {
				ws := rows[2][bn]
				if bn == 0 && bn < lastCol {
					for k := range rows {
						dc[k][3] = int64(rows[k][1][0])
					}
				}
				if bn+1 < lastCol {
					for k := range rows {
						dc[k][4] = int64(rows[k][bn+2][0])
					}
				}
				smoothBlock(&ws, &dc, bits, changeDC, Q00, Q01, Q10, Q20, Q11, Q02, Q03, Q12, Q21, Q30)
				d.reconstructBlock(&ws, bn, r, ci)
				for k := range dc {
					dc[k][0], dc[k][1], dc[k][2], dc[k][3] = dc[k][1], dc[k][2], dc[k][3], dc[k][4]
				}
			}
		}
	}
}

// smoothBlock fills in the estimates of one block (natural order).
func smoothBlock(ws *block, dc *[5][5]int64, bits *[smoothCoefs]int, changeDC bool,
	Q00, Q01, Q10, Q20, Q11, Q02, Q03, Q12, Q21, Q30 int64) {
	DC01, DC02, DC03, DC04, DC05 := dc[0][0], dc[0][1], dc[0][2], dc[0][3], dc[0][4]
	DC06, DC07, DC08, DC09, DC10 := dc[1][0], dc[1][1], dc[1][2], dc[1][3], dc[1][4]
	DC11, DC12, DC13, DC14, DC15 := dc[2][0], dc[2][1], dc[2][2], dc[2][3], dc[2][4]
	DC16, DC17, DC18, DC19, DC20 := dc[3][0], dc[3][1], dc[3][2], dc[3][3], dc[3][4]
	DC21, DC22, DC23, DC24, DC25 := dc[4][0], dc[4][1], dc[4][2], dc[4][3], dc[4][4]
	var num int64
	// AC01
	if al := bits[1]; al != 0 && ws[1] == 0 {
		if changeDC {
			num = Q00 * (-DC01 - DC02 + DC04 + DC05 - 3*DC06 + 13*DC07 -
				13*DC09 + 3*DC10 - 3*DC11 + 38*DC12 - 38*DC14 +
				3*DC15 - 3*DC16 + 13*DC17 - 13*DC19 + 3*DC20 -
				DC21 - DC22 + DC24 + DC25)
		} else {
			num = Q00 * (-7*DC11 + 50*DC12 - 50*DC14 + 7*DC15)
		}
		ws[1] = smoothPred(num, Q01, al)
	}
	// AC10
	if al := bits[2]; al != 0 && ws[8] == 0 {
		if changeDC {
			num = Q00 * (-DC01 - 3*DC02 - 3*DC03 - 3*DC04 - DC05 - DC06 +
				13*DC07 + 38*DC08 + 13*DC09 - DC10 + DC16 -
				13*DC17 - 38*DC18 - 13*DC19 + DC20 + DC21 +
				3*DC22 + 3*DC23 + 3*DC24 + DC25)
		} else {
			num = Q00 * (-7*DC03 + 50*DC08 - 50*DC18 + 7*DC23)
		}
		ws[8] = smoothPred(num, Q10, al)
	}
	// AC20
	if al := bits[3]; al != 0 && ws[16] == 0 {
		if changeDC {
			num = Q00 * (DC03 + 2*DC07 + 7*DC08 + 2*DC09 - 5*DC12 - 14*DC13 -
				5*DC14 + 2*DC17 + 7*DC18 + 2*DC19 + DC23)
		} else {
			num = Q00 * (-DC03 + 13*DC08 - 24*DC13 + 13*DC18 - DC23)
		}
		ws[16] = smoothPred(num, Q20, al)
	}
	// AC11
	if al := bits[4]; al != 0 && ws[9] == 0 {
		if changeDC {
			num = Q00 * (-DC01 + DC05 + 9*DC07 - 9*DC09 - 9*DC17 +
				9*DC19 + DC21 - DC25)
		} else {
			num = Q00 * (DC10 + DC16 - 10*DC17 + 10*DC19 - DC02 - DC20 + DC22 -
				DC24 + DC04 - DC06 + 10*DC07 - 10*DC09)
		}
		ws[9] = smoothPred(num, Q11, al)
	}
	// AC02
	if al := bits[5]; al != 0 && ws[2] == 0 {
		if changeDC {
			num = Q00 * (2*DC07 - 5*DC08 + 2*DC09 + DC11 + 7*DC12 - 14*DC13 +
				7*DC14 + DC15 + 2*DC17 - 5*DC18 + 2*DC19)
		} else {
			num = Q00 * (-DC11 + 13*DC12 - 24*DC13 + 13*DC14 - DC15)
		}
		ws[2] = smoothPred(num, Q02, al)
	}
	if !changeDC {
		return
	}
	// AC03
	if al := bits[6]; al != 0 && ws[3] == 0 {
		num = Q00 * (DC07 - DC09 + 2*DC12 - 2*DC14 + DC17 - DC19)
		ws[3] = smoothPred(num, Q03, al)
	}
	// AC12
	if al := bits[7]; al != 0 && ws[10] == 0 {
		num = Q00 * (DC07 - 3*DC08 + DC09 - DC17 + 3*DC18 - DC19)
		ws[10] = smoothPred(num, Q12, al)
	}
	// AC21
	if al := bits[8]; al != 0 && ws[17] == 0 {
		num = Q00 * (DC07 - DC09 - 3*DC12 + 3*DC14 + DC17 - DC19)
		ws[17] = smoothPred(num, Q21, al)
	}
	// AC30
	if al := bits[9]; al != 0 && ws[24] == 0 {
		num = Q00 * (DC07 + 2*DC08 + DC09 - DC17 - 2*DC18 - DC19)
		ws[24] = smoothPred(num, Q30, al)
	}
	// DC: always re-estimated when no AC data arrived at all.
	num = Q00 *
		(-2*DC01 - 6*DC02 - 8*DC03 - 6*DC04 - 2*DC05 -
			6*DC06 + 6*DC07 + 42*DC08 + 6*DC09 - 6*DC10 -
			8*DC11 + 42*DC12 + 152*DC13 + 42*DC14 - 8*DC15 -
			6*DC16 + 6*DC17 + 42*DC18 + 6*DC19 - 6*DC20 -
			2*DC21 - 6*DC22 - 8*DC23 - 6*DC24 - 2*DC25)
	ws[0] = smoothPred(num, Q00, 0)
}
