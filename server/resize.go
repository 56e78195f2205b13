package server

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"golang.org/x/image/draw"
)

// resizeFilter names the filter resizeImage scales with, as responses report it.
const resizeFilter = "Catmull-Rom"

// resizeImage scales src to w×h with the Catmull-Rom cubic (golang.org/x/image/draw's
// CatmullRom, bicubic with a = -0.5, as PIL's BICUBIC): pixel centres are mapped onto each
// other, the kernel is widened by the ratio when shrinking so that every source pixel counts,
// taps outside the image are dropped and the rest renormalized, and results are clamped. A
// grey src gives a grey image (scaled at 16 bits, then rounded to the nearest 8-bit level:
// x/image/draw's own grey output would truncate), any other an RGBA one. x/image/draw writes
// its float64 arithmetic so that no compiler fuses it into FMAs, so the pixels are the same on
// every platform.
func resizeImage(src image.Image, w, h int) image.Image {
	r := image.Rect(0, 0, w, h)
	if _, ok := src.(*image.Gray); !ok {
		dst := image.NewRGBA(r)
		draw.CatmullRom.Scale(dst, r, src, src.Bounds(), draw.Src, nil)
		return dst
	}
	wide := image.NewGray16(r)
	draw.CatmullRom.Scale(wide, r, src, src.Bounds(), draw.Src, nil)
	dst := image.NewGray(r)
	for i := range dst.Pix {
		v := uint32(wide.Pix[2*i])<<8 | uint32(wide.Pix[2*i+1])
		dst.Pix[i] = uint8((v*255 + 65535/2) / 65535)
	}
	return dst
}

// resizePNG scales the PNG data to w×h with resizeImage and encodes the result as PNG at
// default compression (the diffusion engine's encoder settings).
func resizePNG(data []byte, w, h int) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("server: resize: %w", err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, resizeImage(src, w, h)); err != nil {
		return nil, fmt.Errorf("server: resize: %w", err)
	}
	return buf.Bytes(), nil
}
