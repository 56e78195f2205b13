package imgdecode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
)

// PNG colour types (PNG spec, IHDR).
const (
	ctGrayscale      = 0
	ctTrueColor      = 2
	ctPaletted       = 3
	ctGrayscaleAlpha = 4
	ctTrueColorAlpha = 6
)

// pngHeader is what decodePNG reads itself before handing the file to
// image/png: IHDR and the number of PLTE entries.
type pngHeader struct {
	width, height int
	depth, ctype  int
	paletteLen    int // entries in PLTE, -1 if none seen before IDAT
}

// parsePNGHeader reads IHDR and walks the chunk list up to the first IDAT
// to find the PLTE size. It checks lengths only; image/png checks the rest.
func parsePNGHeader(data []byte) (pngHeader, error) {
	h := pngHeader{paletteLen: -1}
	p := data[len(pngMagic):]
	if len(p) < 8+13+4 { // length, "IHDR", 13 bytes, CRC
		return h, fmt.Errorf("%w: png header", ErrTruncated)
	}
	if string(p[4:8]) != "IHDR" || binary.BigEndian.Uint32(p[:4]) != 13 {
		return h, fmt.Errorf("%w: png: first chunk is not IHDR", ErrFormat)
	}
	w, ht := binary.BigEndian.Uint32(p[8:12]), binary.BigEndian.Uint32(p[12:16])
	if w > 1<<31-1 || ht > 1<<31-1 {
		return h, fmt.Errorf("%w: png: dimension overflow", ErrFormat)
	}
	h.width, h.height = int(w), int(ht)
	h.depth, h.ctype = int(p[16]), int(p[17])
	for p = p[8+13+4:]; len(p) >= 8; {
		n := binary.BigEndian.Uint32(p[:4])
		typ := string(p[4:8])
		if typ == "IDAT" {
			break
		}
		if typ == "PLTE" {
			h.paletteLen = int(n / 3)
			break
		}
		if uint64(n)+12 > uint64(len(p)) {
			break
		}
		p = p[12+n:]
	}
	return h, nil
}

func pngMode(h pngHeader) (Mode, error) {
	switch {
	case h.ctype == ctGrayscale && h.depth == 1:
		return Mode1, nil
	case h.ctype == ctGrayscale && h.depth == 16:
		return ModeI, nil
	case h.ctype == ctGrayscale:
		return ModeL, nil
	case h.ctype == ctTrueColor:
		return ModeRGB, nil
	case h.ctype == ctPaletted:
		return ModeP, nil
	case h.ctype == ctGrayscaleAlpha && h.depth == 16:
		return ModeRGBA, nil
	case h.ctype == ctGrayscaleAlpha:
		return ModeLA, nil
	case h.ctype == ctTrueColorAlpha:
		return ModeRGBA, nil
	}
	return "", fmt.Errorf("%w: png: colour type %d, bit depth %d", ErrFormat, h.ctype, h.depth)
}

func decodePNG(data []byte, opts Options) (*Image, error) {
	h, err := parsePNGHeader(data)
	if err != nil {
		return nil, err
	}
	mode, err := pngMode(h)
	if err != nil {
		return nil, err
	}
	if err := checkSize(h.width, h.height, opts); err != nil {
		return nil, err
	}
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		// Pillow stops reading once the pixels are complete and does not
		// check IDAT CRCs; image/png checks both. Retry on the IDAT run
		// alone, as Pillow sees it, before giving up.
		src2, err2 := png.Decode(bytes.NewReader(pillowView(data)))
		if err2 != nil {
			return nil, pngError(err)
		}
		src = src2
	}
	b := src.Bounds()
	if b.Dx() != h.width || b.Dy() != h.height || b.Min != (image.Point{}) {
		return nil, fmt.Errorf("%w: png: decoded size %v differs from header", ErrFormat, b)
	}
	im := &Image{Mode: mode, Width: h.width, Height: h.height}
	n := h.width * h.height
	if mode.isGrey() {
		im.gray = make([]uint8, n)
	} else {
		im.rgb = make([]uint8, 3*n)
	}
	if err := im.fillFromPNG(src, h); err != nil {
		return nil, err
	}
	return im, nil
}

// fillFromPNG copies image/png's result into the planes, applying Pillow's
// rules: high byte of 16-bit samples (except 16-bit grey, which clips at 255),
// straight palette entries, alpha and tRNS ignored. It never uses the
// premultiplied color.Color.RGBA method.
func (im *Image) fillFromPNG(src image.Image, h pngHeader) error {
	w := im.Width
	switch s := src.(type) {
	case *image.Gray:
		for y := range im.Height {
			copy(im.gray[y*w:(y+1)*w], s.Pix[y*s.Stride:])
		}
	case *image.Gray16:
		for y := range im.Height {
			row := s.Pix[y*s.Stride:]
			for x := range w {
				im.gray[y*w+x] = clip16(row[2*x], row[2*x+1])
			}
		}
	case *image.NRGBA: // grey/RGB with tRNS, grey+alpha 8, RGBA 8
		for y := range im.Height {
			row := s.Pix[y*s.Stride:]
			if im.gray != nil {
				for x := range w {
					im.gray[y*w+x] = row[4*x]
				}
				continue
			}
			out := im.rgb[3*y*w:]
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA: // RGB 8 without tRNS: alpha is always 0xff
		for y := range im.Height {
			row := s.Pix[y*s.Stride:]
			out := im.rgb[3*y*w:]
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.NRGBA64, *image.RGBA64: // RGBA64 only for opaque RGB 16
		var pix []uint8
		var stride int
		if t, ok := s.(*image.NRGBA64); ok {
			pix, stride = t.Pix, t.Stride
		} else {
			t := s.(*image.RGBA64)
			pix, stride = t.Pix, t.Stride
		}
		for y := range im.Height {
			row := pix[y*stride:]
			if im.gray != nil { // mode I with tRNS: clip the full sample
				for x := range w {
					im.gray[y*w+x] = clip16(row[8*x], row[8*x+1])
				}
				continue
			}
			out := im.rgb[3*y*w:]
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i := range pal { // Pillow's palette starts as a grey ramp
			pal[i] = [3]uint8{uint8(i), uint8(i), uint8(i)}
		}
		for i, c := range s.Palette {
			if h.paletteLen >= 0 && i >= h.paletteLen {
				break // entries image/png added past PLTE are black; Pillow keeps the ramp
			}
			switch c := c.(type) {
			case color.RGBA:
				pal[i] = [3]uint8{c.R, c.G, c.B}
			case color.NRGBA:
				pal[i] = [3]uint8{c.R, c.G, c.B}
			default:
				return fmt.Errorf("%w: png: unexpected palette entry type %T", ErrFormat, c)
			}
		}
		for y := range im.Height {
			row := s.Pix[y*s.Stride:]
			out := im.rgb[3*y*w:]
			for x := range w {
				p := &pal[row[x]]
				out[3*x], out[3*x+1], out[3*x+2] = p[0], p[1], p[2]
			}
		}
	default:
		return fmt.Errorf("%w: png: unexpected decoded type %T", ErrFormat, src)
	}
	return nil
}

// pillowView returns the part of a PNG that Pillow's reader depends on:
// the chunks up to and including the first run of IDAT chunks, with the
// IDAT CRCs recomputed and the last IDAT cut to the bytes present, followed
// by a fresh IEND. Chunks before IDAT keep their CRCs, which image/png
// checks as Pillow does.
func pillowView(data []byte) []byte {
	out := make([]byte, 0, len(data)+12)
	out = append(out, data[:len(pngMagic)]...)
	p := data[len(pngMagic):]
	seenIDAT := false
	for len(p) >= 8 {
		n := uint64(binary.BigEndian.Uint32(p[:4]))
		typ := string(p[4:8])
		if typ != "IDAT" && seenIDAT {
			break
		}
		if typ != "IDAT" {
			if n+12 > uint64(len(p)) {
				break
			}
			out = append(out, p[:12+n]...)
			p = p[12+n:]
			continue
		}
		seenIDAT = true
		body := p[8:min(uint64(len(p)), 8+n)]
		out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
		start := len(out)
		out = append(out, "IDAT"...)
		out = append(out, body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
		if 12+n > uint64(len(p)) {
			break
		}
		p = p[12+n:]
	}
	return append(out, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82)
}

// clip16 is Pillow's I -> L conversion of a big-endian 16-bit sample.
func clip16(hi, lo uint8) uint8 {
	if hi != 0 {
		return 255
	}
	return lo
}

// pngError classifies an image/png error (whose text starts "png: ").
func pngError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		err == png.FormatError("not enough pixel data") { // IDAT stream cut short
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	return fmt.Errorf("%w: %w", ErrFormat, err)
}
