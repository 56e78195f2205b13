// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//
// Modified for genquorum: libjpeg's block layout for non-interleaved scans
// and for any integral sampling factors, restart intervals counted per
// MCU of the scan, and libjpeg-turbo's islow IDCT.

package ljpeg

// MaxScans is the most scans a file may have.
const MaxScans = 1000

// allocate makes the component planes (and, for progressive images, the
// coefficient arrays) once the first scan starts.
func (d *decoder) allocate() {
	for i := 0; i < d.nComp; i++ {
		bw, bh := d.mxx*d.comp[i].h, d.myy*d.comp[i].v
		d.planes[i] = make([]byte, bw*8*bh*8)
		if d.progressive {
			// Blocks never covered by a scan stay zero (mid-grey after
			// the IDCT), as in libjpeg's zero-initialised coefficient arrays.
			d.progCoeffs[i] = make([]block, bw*bh)
		}
	}
}

// compBlocks returns the number of blocks across and down that carry
// component i's samples: libjpeg's width_in_blocks and height_in_blocks, the
// block grid of a non-interleaved scan.
func (d *decoder) compBlocks(i int) (bw, bh int) {
	cw := (d.width*d.comp[i].h + d.hmax - 1) / d.hmax
	ch := (d.height*d.comp[i].v + d.vmax - 1) / d.vmax
	return (cw + 7) / 8, (ch + 7) / 8
}

// scanComp is one component of a scan.
type scanComp struct {
	compIndex uint8
	td        uint8 // DC table selector.
	ta        uint8 // AC table selector.
}

// Specified in section B.2.3.
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	// Every scan walks the whole block grid, so a small file with very
	// many (empty) scans could cost hours; real files have at most a few
	// dozen. libjpeg has no default limit (djpeg's -maxscans is opt-in).
	if d.nScans++; d.nScans > MaxScans {
		return UnsupportedError("more than 1000 scans")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]scanComp
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = uint8(compIndex)
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v

		// Table B.3 restricts baseline files to tables 0 and 1, but
		// libjpeg accepts 0-3 in any file and, in progressive scans,
		// checks only the selector the scan uses (below).
		scan[i].td = d.tmp[2+2*i] >> 4
		scan[i].ta = d.tmp[2+2*i] & 0x0f
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10.
	if nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For progressive JPEGs, these are the two more-or-less independent
	// aspects of progression. Spectral selection progression is when not
	// all of a block's 64 DCT coefficients are transmitted in one pass.
	// For example, three passes could transmit coefficient 0 (the DC
	// component), coefficients 1-5, and coefficients 6-63, in zig-zag
	// order. Successive approximation is when not all of the bits of a
	// band of coefficients are transmitted in one pass. For example,
	// three passes could transmit the 6 most significant bits, followed
	// by the second-least significant bit, followed by the least
	// significant bit.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
		if al > 13 {
			return FormatError("bad successive approximation values")
		}
	}
	for i := 0; i < nComp; i++ {
		dcUsed := !d.progressive || (zigStart == 0 && ah == 0)
		acUsed := !d.progressive || zigStart > 0
		if dcUsed && scan[i].td > maxTh {
			return FormatError("bad Td value")
		}
		if acUsed && scan[i].ta > maxTh {
			return FormatError("bad Ta value")
		}
	}

	if d.planes[0] == nil {
		d.allocate()
	}
	for i := 0; i < nComp; i++ {
		ci := scan[i].compIndex
		if !d.quantLatched[ci] {
			d.compQuant[ci] = d.quant[d.comp[ci].tq]
			for zig, v := range d.compQuant[ci] {
				d.compQuantNat[ci][unzig[zig]] = v
			}
			d.quantLatched[ci] = true
		}
		if d.progressive { // jdphuff.c start_pass_phuff_decoder
			for k := min(zigStart, 1); k <= max(zigEnd, smoothCoefs-1) && k < smoothCoefs; k++ {
				if d.nScans > 1 {
					d.prevCoefBits[ci][k] = d.coefBits[ci][k]
				} else {
					d.prevCoefBits[ci][k] = 0
				}
			}
			for k := zigStart; k <= zigEnd && k < smoothCoefs; k++ {
				d.coefBits[ci][k] = int(al)
			}
		}
	}

	d.bits = bits{}
	d.eobRun = 0
	d.padBits, d.hitMarker, d.insufficient = 0, 0, false
	var dc [maxComponents]int32
	p := scanParams{zigStart: zigStart, zigEnd: zigEnd, ah: ah, al: al}

	// An interleaved scan (nComp > 1) walks MCUs of h*v blocks per
	// component; a non-interleaved scan walks the component's own block
	// grid, one block per MCU (section A.2).
	var mcusX, mcusY int
	if nComp == 1 {
		mcusX, mcusY = d.compBlocks(int(scan[0].compIndex))
	} else {
		mcusX, mcusY = d.mxx, d.myy
	}
	nMCU := mcusX * mcusY
	mcu, expectedRST := 0, uint8(rst0Marker)
	// iMCU rows: an interleaved scan has one MCU row per iMCU row; a
	// non-interleaved one has the component's vertical factor (libjpeg's
	// MCU_rows_per_iMCU_row).
	mcuRowsPerIMCU := 1
	if nComp == 1 {
		mcuRowsPerIMCU = d.sofV[scan[0].compIndex]
	}
	for my := 0; my < mcusY; my++ {
		for mx := 0; mx < mcusX; mx++ {
			if !d.insufficient {
				d.lastGoodIMCU = my / mcuRowsPerIMCU
			}
			for i := 0; i < nComp; i++ {
				ci := int(scan[i].compIndex)
				hi, vi := d.comp[ci].h, d.comp[ci].v
				if nComp == 1 {
					hi, vi = 1, 1
				}
				for j := 0; j < hi*vi; j++ {
					bx, by := hi*mx+j%hi, vi*my+j/hi
					if d.insufficient {
						// Out of data: libjpeg leaves the MCU's coefficients
						// zero (sequential) or as they were (progressive).
						if !d.progressive {
							d.reconstructBlock(&block{}, bx, by, ci)
						}
						continue
					}
					if err := d.decodeBlock(&scan[i], &dc[ci], bx, by, ci, &p); err != nil {
						return err
					}
				}
			}
			if d.padBits > 0 && d.bits.n < d.padBits {
				d.insufficient = true
			}
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < nMCU {
				if d.hitMarker != 0 && (d.hitMarker < rst0Marker || d.hitMarker > rst7Marker) {
					// The data ran into a marker that is not a restart:
					// jpeg_resync_to_restart leaves it for the marker reader
					// and process_restart resets the bit buffer, DC
					// predictions and EOB run but keeps insufficient_data
					// as it was (an MCU not yet out of data decodes the
					// next one from zero bits).
					d.bits = bits{}
					d.padBits = 0
					dc = [maxComponents]int32{}
					d.eobRun = 0
					if expectedRST++; expectedRST == rst7Marker+1 {
						expectedRST = rst0Marker
					}
					continue
				}
				// For well-formed input, the RST[0-7] restart marker follows
				// immediately. For corrupt input, call findRST to try to
				// resync.
				if err := d.readFull(d.tmp[:2]); err != nil {
					return err
				} else if d.tmp[0] != 0xff || d.tmp[1] != expectedRST {
					if err := d.findRST(expectedRST); err != nil {
						return err
					}
				}
				expectedRST++
				if expectedRST == rst7Marker+1 {
					expectedRST = rst0Marker
				}
				// Reset the Huffman decoder.
				d.bits = bits{}
				// Reset the DC components, as per section F.2.1.3.1.
				dc = [maxComponents]int32{}
				// Reset the progressive decoder state, as per section G.1.2.2.
				d.eobRun = 0
				d.padBits, d.hitMarker, d.insufficient = 0, 0, false
			}
		}
	}
	return nil
}

// scanParams are a scan's spectral selection and successive approximation.
type scanParams struct {
	zigStart, zigEnd int32
	ah, al           uint32
}

// decodeBlock decodes block (bx, by) of component ci and, for sequential
// images, runs the IDCT into the component plane.
func (d *decoder) decodeBlock(sc *scanComp, dcPred *int32, bx, by, ci int, p *scanParams) error {
	stride := d.mxx * d.comp[ci].h
	var b block
	if d.progressive {
		b = d.progCoeffs[ci][by*stride+bx]
	}
	zigStart, zigEnd, al := p.zigStart, p.zigEnd, p.al
	if p.ah != 0 {
		var h *huffman // a DC refinement reads raw bits; its Ta may be anything
		if zigStart > 0 {
			h = &d.huff[acTable][sc.ta]
		}
		if err := d.refine(&b, h, zigStart, zigEnd, 1<<al); err != nil {
			return err
		}
	} else {
		zig := zigStart
		if zig == 0 {
			zig++
			// Decode the DC coefficient, as specified in section F.2.2.1.
			value, err := d.decodeHuffman(&d.huff[dcTable][sc.td])
			if err != nil {
				return err
			}
			if value > 15 { // libjpeg rejects such DC tables (JERR_BAD_HUFF_TABLE)
				return FormatError("bad DC magnitude category")
			}
			dcDelta, err := d.receiveExtend(value)
			if err != nil {
				return err
			}
			*dcPred += dcDelta
			b[0] = int32(int16(*dcPred << al)) // (JCOEF) LEFT_SHIFT(s, Al)
		}

		if zig > zigEnd {
			// DC-only scan: no AC table is used (its Ta may be anything).
		} else if d.eobRun > 0 {
			d.eobRun--
		} else {
			// Decode the AC coefficients, as specified in section F.2.2.2.
			huff := &d.huff[acTable][sc.ta]
			for ; zig <= zigEnd; zig++ {
				value, err := d.decodeHuffman(huff)
				if err != nil {
					return err
				}
				val0 := value >> 4
				val1 := value & 0x0f
				if val1 != 0 {
					// A run past the band only happens in corrupt data;
					// libjpeg still reads the value and stores it at
					// jpeg_natural_order[k], whose overflow entries are 63.
					zig += int32(val0)
					ac, err := d.receiveExtend(val1)
					if err != nil {
						return err
					}
					b[naturalExt(zig)] = int32(int16(ac << al))
				} else {
					if val0 != 0x0f {
						d.eobRun = uint16(1 << val0)
						if val0 != 0 {
							bits, err := d.decodeBits(int32(val0))
							if err != nil {
								return err
							}
							d.eobRun |= uint16(bits)
						}
						d.eobRun--
						break
					}
					zig += 0x0f
				}
			}
		}
	}

	if d.progressive {
		// Save the coefficients.
		d.progCoeffs[ci][by*stride+bx] = b
		return nil
	}
	d.reconstructBlock(&b, bx, by, ci)
	return nil
}

// naturalExt is libjpeg's jpeg_natural_order, including its 16 overflow
// entries (all 63) that corrupt runs can reach.
func naturalExt(zig int32) int {
	if zig >= blockSize {
		return blockSize - 1
	}
	return unzig[zig]
}

// refine decodes a successive approximation refinement block, as specified in
// section G.1.2.
func (d *decoder) refine(b *block, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		if zigEnd != 0 {
			panic("unreachable")
		}
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			b[0] |= delta
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					d.eobRun = uint16(1 << val0)
					if val0 != 0 {
						bits, err := d.decodeBits(int32(val0))
						if err != nil {
							return err
						}
						d.eobRun |= uint16(bits)
					}
					break loop
				}
			default:
				// Sizes other than 1 are corrupt; libjpeg warns
				// (JWRN_HUFF_BAD_CODE) and treats them as 1.
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			}

			zig, err = d.refineNonZeroes(b, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if z != 0 {
				// Past the band only in corrupt data: libjpeg writes at
				// jpeg_natural_order[k] (63 beyond the table).
				b[naturalExt(zig)] = z
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroes(b, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroes refines non-zero entries of b in zig-zag order. If nz >= 0,
// the first nz zero entries are skipped over.
func (d *decoder) refineNonZeroes(b *block, zig, zigEnd, nz, delta int32) (int32, error) {
	for ; zig <= zigEnd; zig++ {
		u := unzig[zig]
		if b[u] == 0 {
			if nz == 0 {
				break
			}
			nz--
			continue
		}
		bit, err := d.decodeBit()
		if err != nil {
			return 0, err
		}
		if !bit || b[u]&delta != 0 { // libjpeg skips bits already set
			continue
		}
		if b[u] >= 0 {
			b[u] = int32(int16(b[u] + delta))
		} else {
			b[u] = int32(int16(b[u] - delta))
		}
	}
	return zig, nil
}

// reconstructProgressiveImage runs the IDCT over every stored block, with
// libjpeg's block smoothing when some low coefficients are incomplete.
func (d *decoder) reconstructProgressiveImage() {
	if d.smoothingOK() {
		for i := 0; i < d.nComp; i++ {
			d.reconstructSmoothed(i)
		}
		return
	}
	for i := 0; i < d.nComp; i++ {
		stride := d.mxx * d.comp[i].h
		for j := range d.progCoeffs[i] {
			d.reconstructBlock(&d.progCoeffs[i][j], j%stride, j/stride, i)
		}
	}
}

// reconstructBlock runs libjpeg-turbo's islow IDCT (with dequantization)
// of b into block (bx, by) of component plane compIndex.
func (d *decoder) reconstructBlock(b *block, bx, by, compIndex int) {
	stride := d.mxx * d.comp[compIndex].h * 8
	idctIslow(b, &d.compQuantNat[compIndex], d.planes[compIndex][8*(by*stride+bx):], stride)
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
// https://github.com/libjpeg-turbo/libjpeg-turbo/blob/2dfe6c0fe9e18671105e94f7cbf044d4a1d157e6/jdmarker.c#L892-L935
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. Until we see evidence that recovering from such
				// cases is frequent enough to be worth the complexity, we take
				// a simpler approach for now. Any marker that's not 0x00, 0xff
				// or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
