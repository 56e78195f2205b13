// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//
// Modified for genquorum: component planes for any integral sampling
// factors, libjpeg's non-interleaved block layout and colour-space rules,
// libjpeg-turbo's islow IDCT, upsampling and colour conversion (see idct.go
// and output.go), and a size check before allocation.

package ljpeg

import (
	"errors"
	"io"
)

// A FormatError reports that the input is not a valid JPEG.
type FormatError string

// Error returns "invalid JPEG format: " and the reason.
func (e FormatError) Error() string { return "invalid JPEG format: " + string(e) }

// An UnsupportedError reports that the input uses a valid but unimplemented JPEG feature.
type UnsupportedError string

// Error returns "unsupported JPEG feature: " and the feature.
func (e UnsupportedError) Error() string { return "unsupported JPEG feature: " + string(e) }

// IsTruncated reports whether err means the data ended too early.
func IsTruncated(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errShortHuffmanData)
}

// Component specification, specified in section B.2.2.
type component struct {
	h  int   // Horizontal sampling factor.
	v  int   // Vertical sampling factor.
	c  uint8 // Component identifier.
	tq uint8 // Quantization table destination selector.
}

const (
	dcTable = 0
	acTable = 1
	maxTc   = 1
	maxTh   = 3
	maxTq   = 3

	maxComponents = 4
)

const (
	sof0Marker  = 0xc0 // Start Of Frame (Baseline Sequential).
	sof1Marker  = 0xc1 // Start Of Frame (Extended Sequential).
	sof2Marker  = 0xc2 // Start Of Frame (Progressive).
	sof3Marker  = 0xc3 // Start Of Frame (Lossless).
	dhtMarker   = 0xc4 // Define Huffman Table.
	sof9Marker  = 0xc9 // Start Of Frame (Extended Sequential, arithmetic).
	sof10Marker = 0xca // Start Of Frame (Progressive, arithmetic).
	sof11Marker = 0xcb // Start Of Frame (Lossless, arithmetic).
	dacMarker   = 0xcc // Define Arithmetic Conditioning.
	rst0Marker  = 0xd0 // ReSTart (0).
	rst7Marker  = 0xd7 // ReSTart (7).
	soiMarker   = 0xd8 // Start Of Image.
	eoiMarker   = 0xd9 // End Of Image.
	sosMarker   = 0xda // Start Of Scan.
	dqtMarker   = 0xdb // Define Quantization Table.
	driMarker   = 0xdd // Define Restart Interval.
	comMarker   = 0xfe // COMment.
	// "APPlication specific" markers aren't part of the JPEG spec per se,
	// but in practice, their use is described at
	// https://www.sno.phy.queensu.ca/~phil/exiftool/TagNames/JPEG.html
	app0Marker  = 0xe0
	app14Marker = 0xee
	app15Marker = 0xef
)

const blockSize = 8 * 8

// block holds the 64 coefficients of one 8x8 block, in natural order.
type block [blockSize]int32

// unzig maps from the zig-zag ordering to the natural ordering. For example,
// unzig[3] is the column and row of the fourth element in zig-zag order. The
// value is 16, which means first column (16%8 == 0) and third row (16/8 == 2).
var unzig = [blockSize]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// bits holds the unprocessed bits that have been taken from the byte-stream.
// The n least significant bits of a form the unread bits, to be read in MSB to
// LSB order.
type bits struct {
	a uint32 // accumulator.
	m uint32 // mask. m==1<<(n-1) when n>0, with m==0 when n==0.
	n int32  // the number of unread bits in a.
}

type decoder struct {
	r    io.Reader
	bits bits
	// bytes is a byte buffer, similar to a bufio.Reader, except that it
	// has to be able to unread more than 1 byte, due to byte stuffing.
	// Byte stuffing is specified in section F.1.2.3.
	bytes struct {
		// buf[i:j] are the buffered bytes read from the underlying
		// io.Reader that haven't yet been passed further on.
		buf  [4096]byte
		i, j int
		// nUnreadable is the number of bytes to back up i after
		// overshooting. It can be 0, 1 or 2.
		nUnreadable int
	}
	width, height int

	// checkSize is called once the frame size is known, before any
	// pixel or coefficient memory is allocated.
	checkSize func(width, height int) error

	// padBits counts the zero bits ensureNBits appended after hitting a
	// marker (hitMarker) inside entropy-coded data; once any of them is
	// consumed, insufficient is set and, like libjpeg's
	// entropy->insufficient_data, the rest of the segment is not decoded.
	padBits      int32
	hitMarker    uint8
	insufficient bool
	// lastGoodIMCU is libjpeg's master->last_good_iMCU_row: the last iMCU
	// row decoded with real data, which block smoothing consults.
	lastGoodIMCU int
	// prevCoefBits is libjpeg's coef_bits for the scan before the latest
	// one of each component (used by smoothing past lastGoodIMCU).
	prevCoefBits [maxComponents][smoothCoefs]int

	ri     int // Restart Interval.
	nScans int // SOS markers seen so far
	nComp  int

	// hmax, vmax are the largest sampling factors; mxx, myy the number of
	// MCUs across and down in an interleaved scan.
	hmax, vmax int
	mxx, myy   int
	// planes[i] holds component i's samples after the IDCT, padded to whole
	// MCUs: (mxx*h*8) x (myy*v*8) bytes, row stride mxx*h*8.
	planes [maxComponents][]byte

	baseline    bool
	progressive bool

	jfif                bool
	adobeTransformValid bool
	adobeTransform      uint8
	eobRun              uint16 // End-of-Band run, specified in section G.1.2.2.

	comp       [maxComponents]component
	progCoeffs [maxComponents][]block // Saved state between progressive-mode scans.
	// sofV is each component's vertical sampling factor as the frame
	// header gives it (comp[i].v is forced to 1 for one-component images);
	// libjpeg's block smoothing walks iMCU rows of that height.
	sofV [maxComponents]int
	// compQuant is each component's quantization table (zig-zag order),
	// latched at the component's first scan as libjpeg's
	// latch_quant_tables does; quantLatched says whether it has been.
	compQuant    [maxComponents]block
	compQuantNat [maxComponents]block // compQuant in natural order
	quantLatched [maxComponents]bool
	// coefBits is libjpeg's cinfo->coef_bits for the first 10 zig-zag
	// coefficients: the Al of the last progressive scan that carried the
	// coefficient, -1 if none did.
	coefBits [maxComponents][smoothCoefs]int
	huff     [maxTc + 1][maxTh + 1]huffman
	quant    [maxTq + 1]block // Quantization tables, in zig-zag order.
	tmp      [2 * blockSize]byte
}

// fill fills up the d.bytes.buf buffer from the underlying io.Reader. It
// should only be called when there are no unread bytes in d.bytes.
func (d *decoder) fill() error {
	if d.bytes.i != d.bytes.j {
		panic("jpeg: fill called when unread bytes exist")
	}
	// Move the last 2 bytes to the start of the buffer, in case we need
	// to call unreadByteStuffedByte.
	if d.bytes.j > 2 {
		d.bytes.buf[0] = d.bytes.buf[d.bytes.j-2]
		d.bytes.buf[1] = d.bytes.buf[d.bytes.j-1]
		d.bytes.i, d.bytes.j = 2, 2
	}
	// Fill in the rest of the buffer.
	n, err := d.r.Read(d.bytes.buf[d.bytes.j:])
	d.bytes.j += n
	if n > 0 {
		return nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// unreadByteStuffedByte undoes the most recent readByteStuffedByte call,
// giving a byte of data back from d.bits to d.bytes. The Huffman look-up table
// requires at least 8 bits for look-up, which means that Huffman decoding can
// sometimes overshoot and read one or two too many bytes. Two-byte overshoot
// can happen when expecting to read a 0xff 0x00 byte-stuffed byte.
func (d *decoder) unreadByteStuffedByte() {
	d.bytes.i -= d.bytes.nUnreadable
	d.bytes.nUnreadable = 0
	if d.bits.n >= 8 {
		d.bits.a >>= 8
		d.bits.n -= 8
		d.bits.m >>= 8
	}
}

// readByte returns the next byte, whether buffered or not buffered. It does
// not care about byte stuffing.
func (d *decoder) readByte() (x byte, err error) {
	for d.bytes.i == d.bytes.j {
		if err = d.fill(); err != nil {
			return 0, err
		}
	}
	x = d.bytes.buf[d.bytes.i]
	d.bytes.i++
	d.bytes.nUnreadable = 0
	return x, nil
}

// errMissingFF00 means that readByteStuffedByte encountered an 0xff byte (a
// marker byte) that wasn't the expected byte-stuffed sequence 0xff, 0x00.
var errMissingFF00 = FormatError("missing 0xff00 sequence")

// readByteStuffedByte is like readByte but is for byte-stuffed Huffman data.
func (d *decoder) readByteStuffedByte() (x byte, err error) {
	// Take the fast path if d.bytes.buf contains at least two bytes.
	if d.bytes.i+2 <= d.bytes.j {
		x = d.bytes.buf[d.bytes.i]
		d.bytes.i++
		d.bytes.nUnreadable = 1
		if x != 0xff {
			return x, err
		}
		if d.bytes.buf[d.bytes.i] != 0x00 {
			return 0, errMissingFF00
		}
		d.bytes.i++
		d.bytes.nUnreadable = 2
		return 0xff, nil
	}

	d.bytes.nUnreadable = 0

	x, err = d.readByte()
	if err != nil {
		return 0, err
	}
	d.bytes.nUnreadable = 1
	if x != 0xff {
		return x, nil
	}

	x, err = d.readByte()
	if err != nil {
		return 0, err
	}
	d.bytes.nUnreadable = 2
	if x != 0x00 {
		return 0, errMissingFF00
	}
	return 0xff, nil
}

// readFull reads exactly len(p) bytes into p. It does not care about byte
// stuffing.
func (d *decoder) readFull(p []byte) error {
	// Unread the overshot bytes, if any.
	if d.bytes.nUnreadable != 0 {
		if d.bits.n >= 8 {
			d.unreadByteStuffedByte()
		}
		d.bytes.nUnreadable = 0
	}

	for {
		n := copy(p, d.bytes.buf[d.bytes.i:d.bytes.j])
		p = p[n:]
		d.bytes.i += n
		if len(p) == 0 {
			break
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
	return nil
}

// ignore ignores the next n bytes.
func (d *decoder) ignore(n int) error {
	// Unread the overshot bytes, if any.
	if d.bytes.nUnreadable != 0 {
		if d.bits.n >= 8 {
			d.unreadByteStuffedByte()
		}
		d.bytes.nUnreadable = 0
	}

	for {
		m := d.bytes.j - d.bytes.i
		if m > n {
			m = n
		}
		d.bytes.i += m
		n -= m
		if n == 0 {
			break
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
	return nil
}

// Specified in section B.2.2.
func (d *decoder) processSOF(n int) error {
	if d.nComp != 0 {
		return FormatError("multiple SOF markers")
	}
	switch n {
	case 6 + 3*1: // Grayscale image.
		d.nComp = 1
	case 6 + 3*3: // YCbCr or RGB image.
		d.nComp = 3
	case 6 + 3*4: // YCbCrK or CMYK image.
		d.nComp = 4
	default:
		return UnsupportedError("number of components")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	// We only support 8-bit precision.
	if d.tmp[0] != 8 {
		return UnsupportedError("precision")
	}
	d.height = int(d.tmp[1])<<8 + int(d.tmp[2])
	d.width = int(d.tmp[3])<<8 + int(d.tmp[4])
	if int(d.tmp[5]) != d.nComp {
		return FormatError("SOF has wrong length")
	}

	d.hmax, d.vmax = 1, 1
	for i := 0; i < d.nComp; i++ {
		d.comp[i].c = d.tmp[6+3*i]
		// Section B.2.2 states that "the value of C_i shall be different from
		// the values of C_1 through C_(i-1)".
		for j := 0; j < i; j++ {
			if d.comp[i].c == d.comp[j].c {
				return FormatError("repeated component identifier")
			}
		}

		d.comp[i].tq = d.tmp[8+3*i]
		if d.comp[i].tq > maxTq {
			return FormatError("bad Tq value")
		}

		hv := d.tmp[7+3*i]
		h, v := int(hv>>4), int(hv&0x0f)
		if h < 1 || 4 < h || v < 1 || 4 < v {
			return FormatError("luma/chroma subsampling ratio")
		}
		d.sofV[i] = v
		if d.nComp == 1 {
			// A single-component scan is non-interleaved: one block per
			// MCU whatever the factors say (section A.2).
			h, v = 1, 1
		}
		for k := range d.coefBits[i] {
			d.coefBits[i][k] = -1
		}
		d.comp[i].h = h
		d.comp[i].v = v
		d.hmax, d.vmax = max(d.hmax, h), max(d.vmax, v)
	}
	// libjpeg only upsamples by integral factors (JERR_FRACT_SAMPLE_NOTIMPL).
	for i := 0; i < d.nComp; i++ {
		if d.hmax%d.comp[i].h != 0 || d.vmax%d.comp[i].v != 0 {
			return UnsupportedError("fractional sampling ratio")
		}
	}
	if d.checkSize != nil {
		if err := d.checkSize(d.width, d.height); err != nil {
			return err
		}
	}
	if d.width == 0 || d.height == 0 {
		// A zero height would have to come from a DNL marker, which is
		// not supported (libjpeg rejects it too: JERR_EMPTY_IMAGE).
		return FormatError("zero image size")
	}
	d.mxx = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.myy = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	return nil
}

// Specified in section B.2.4.1.
func (d *decoder) processDQT(n int) error {
loop:
	for n > 0 {
		n--
		x, err := d.readByte()
		if err != nil {
			return err
		}
		tq := x & 0x0f
		if tq > maxTq {
			return FormatError("bad Tq value")
		}
		switch x >> 4 {
		default:
			return FormatError("bad Pq value")
		case 0:
			if n < blockSize {
				break loop
			}
			n -= blockSize
			if err := d.readFull(d.tmp[:blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][i] = int32(d.tmp[i])
			}
		case 1:
			if n < 2*blockSize {
				break loop
			}
			n -= 2 * blockSize
			if err := d.readFull(d.tmp[:2*blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][i] = int32(d.tmp[2*i])<<8 | int32(d.tmp[2*i+1])
			}
		}
	}
	if n != 0 {
		return FormatError("DQT has wrong length")
	}
	return nil
}

// Specified in section B.2.4.4.
func (d *decoder) processDRI(n int) error {
	if n != 2 {
		return FormatError("DRI has wrong length")
	}
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	}
	d.ri = int(d.tmp[0])<<8 + int(d.tmp[1])
	return nil
}

// processApp0Marker notes a JFIF marker as libjpeg's examine_app0 does: at
// least 14 bytes starting "JFIF\x00".
func (d *decoder) processApp0Marker(n int) error {
	if n < 14 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:5]); err != nil {
		return err
	}
	n -= 5
	if string(d.tmp[:5]) == "JFIF\x00" {
		d.jfif = true
	}
	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

// processApp14Marker notes an Adobe marker (12 bytes or more, libjpeg's
// examine_app14) and its colour transform byte.
func (d *decoder) processApp14Marker(n int) error {
	if n < 12 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:12]); err != nil {
		return err
	}
	n -= 12
	if string(d.tmp[:5]) == "Adobe" {
		d.adobeTransformValid = true
		d.adobeTransform = d.tmp[11]
	}
	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

// Header is what the frame and application markers say about an image.
type Header struct {
	Width, Height int
	NComp         int        // 1, 3 or 4
	ColorSpace    ColorSpace // libjpeg's jpeg_color_space guess
}

// DecodeConfig returns the header of the JPEG in r without decoding pixels.
func DecodeConfig(r io.Reader) (Header, error) {
	var d decoder
	if err := d.decode(r, true); err != nil {
		return Header{}, err
	}
	if d.nComp == 0 {
		return Header{}, FormatError("missing SOF marker")
	}
	return d.header(), nil
}

// Decode decodes the JPEG in r as libjpeg-turbo 2.1 does with its default
// settings (islow IDCT, fancy upsampling) and Pillow's output colour
// spaces: greyscale for one component, RGB for three, CMYK for four.
// checkSize, if not nil, is called with the frame size before any
// pixel memory is allocated; its error is returned unchanged.
func Decode(r io.Reader, checkSize func(width, height int) error) (*Image, error) {
	d := decoder{checkSize: checkSize}
	if err := d.decode(r, false); err != nil {
		return nil, err
	}
	if d.planes[0] == nil {
		return nil, FormatError("missing SOS marker")
	}
	if d.progressive {
		d.reconstructProgressiveImage()
	}
	return d.output(), nil
}

func (d *decoder) decode(r io.Reader, configOnly bool) error {
	d.r = r

	// Check for the Start Of Image marker.
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	}
	if d.tmp[0] != 0xff || d.tmp[1] != soiMarker {
		return FormatError("missing SOI marker")
	}

	// Process the remaining segments until the End Of Image marker.
	for {
		err := d.readFull(d.tmp[:2])
		if err != nil {
			return err
		}
		for d.tmp[0] != 0xff {
			// Strictly speaking, this is a format error. However, libjpeg is
			// liberal in what it accepts. As of version 9, next_marker in
			// jdmarker.c treats this as a warning (JWRN_EXTRANEOUS_DATA) and
			// continues to decode the stream. Even before next_marker sees
			// extraneous data, jpeg_fill_bit_buffer in jdhuff.c reads as many
			// bytes as it can, possibly past the end of a scan's data. It
			// effectively puts back any markers that it overscanned (e.g. an
			// "\xff\xd9" EOI marker), but it does not put back non-marker data,
			// and thus it can silently ignore a small number of extraneous
			// non-marker bytes before next_marker has a chance to see them (and
			// print a warning).
			//
			// We are therefore also liberal in what we accept. Extraneous data
			// is silently ignored.
			//
			// This is similar to, but not exactly the same as, the restart
			// mechanism within a scan (the RST[0-7] markers).
			//
			// Note that extraneous 0xff bytes in e.g. SOS data are escaped as
			// "\xff\x00", and so are detected a little further down below.
			d.tmp[0] = d.tmp[1]
			d.tmp[1], err = d.readByte()
			if err != nil {
				return err
			}
		}
		marker := d.tmp[1]
		if marker == 0 {
			// Treat "\xff\x00" as extraneous data.
			continue
		}
		for marker == 0xff {
			// Section B.1.1.2 says, "Any marker may optionally be preceded by any
			// number of fill bytes, which are bytes assigned code X'FF'".
			marker, err = d.readByte()
			if err != nil {
				return err
			}
		}
		if marker == eoiMarker { // End Of Image.
			break
		}
		if rst0Marker <= marker && marker <= rst7Marker {
			// Figures B.2 and B.16 of the specification suggest that restart markers should
			// only occur between Entropy Coded Segments and not after the final ECS.
			// However, some encoders may generate incorrect JPEGs with a final restart
			// marker. That restart marker will be seen here instead of inside the processSOS
			// method, and is ignored as a harmless error. Restart markers have no extra data,
			// so we check for this before we read the 16-bit length of the segment.
			continue
		}

		// Read the 16-bit length of the segment. The value includes the 2 bytes for the
		// length itself, so we subtract 2 to get the number of remaining bytes.
		if err = d.readFull(d.tmp[:2]); err != nil {
			return err
		}
		n := int(d.tmp[0])<<8 + int(d.tmp[1]) - 2
		if n < 0 {
			return FormatError("short segment length")
		}

		switch marker {
		case sof0Marker, sof1Marker, sof2Marker:
			d.baseline = marker == sof0Marker
			d.progressive = marker == sof2Marker
			err = d.processSOF(n)
		case sof3Marker, sof11Marker:
			err = UnsupportedError("lossless JPEG")
		case sof9Marker, sof10Marker, dacMarker:
			err = UnsupportedError("arithmetic coding")
		case dhtMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDHT(n)
			}
		case dqtMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDQT(n)
			}
		case sosMarker:
			if configOnly {
				return nil
			}
			err = d.processSOS(n)
		case driMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDRI(n)
			}
		case app0Marker:
			err = d.processApp0Marker(n)
		case app14Marker:
			err = d.processApp14Marker(n)
		default:
			if app0Marker <= marker && marker <= app15Marker || marker == comMarker {
				err = d.ignore(n)
			} else if marker < 0xc0 { // See Table B.1 "Marker code assignments".
				err = FormatError("unknown marker")
			} else {
				err = UnsupportedError("unknown marker")
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
