package imgdecode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
)

// decodeJPEGStd decodes with Go's image/jpeg (not Pillow-exact). Colour
// conversion uses image/color's YCbCr and CMYK rules, except that CMYK is
// given Pillow's Adobe-inverted reading.
func decodeJPEGStd(data []byte, opts Options) (*Image, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, jpegStdError(err)
	}
	if err := checkSize(cfg.Width, cfg.Height, opts); err != nil {
		return nil, err
	}
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, jpegStdError(err)
	}
	w, h := cfg.Width, cfg.Height
	im := &Image{Width: w, Height: h}
	switch s := src.(type) {
	case *image.Gray:
		im.Mode = ModeL
		im.gray = make([]uint8, w*h)
		for y := range h {
			copy(im.gray[y*w:(y+1)*w], s.Pix[y*s.Stride:])
		}
	case *image.YCbCr:
		im.Mode = ModeRGB
		im.rgb = make([]uint8, 3*w*h)
		for y := range h {
			for x := range w {
				yi, ci := s.YOffset(x, y), s.COffset(x, y)
				r, g, b := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				o := 3 * (y*w + x)
				im.rgb[o], im.rgb[o+1], im.rgb[o+2] = r, g, b
			}
		}
	case *image.RGBA: // Adobe transform 0 RGB
		im.Mode = ModeRGB
		im.rgb = make([]uint8, 3*w*h)
		for y := range h {
			row := s.Pix[y*s.Stride:]
			for x := range w {
				o := 3 * (y*w + x)
				im.rgb[o], im.rgb[o+1], im.rgb[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.CMYK:
		// image/jpeg already undoes Adobe inversion; Pillow's CMYK;I raw
		// mode inverts the stored bytes, which gives the same values.
		im.Mode = ModeCMYK
		im.cmyk = make([]uint8, 4*w*h)
		for y := range h {
			copy(im.cmyk[4*y*w:4*(y+1)*w], s.Pix[y*s.Stride:])
		}
	default:
		return nil, fmt.Errorf("%w: jpeg: unexpected decoded type %T", ErrFormat, src)
	}
	return im, nil
}

func jpegStdError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == jpeg.FormatError("short Huffman data") {
		return fmt.Errorf("%w: jpeg: %w", ErrTruncated, err)
	}
	return fmt.Errorf("%w: jpeg: %w", ErrFormat, err)
}
