package imgdecode

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to both JPEG decoders and the PNG path.
// Decoding must never panic, must fail only with the documented sentinels,
// and on success must return planes of the advertised size within the
// pixel limit.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{
		"testdata/jpeg/s420_33x17.jpg",
		"testdata/jpeg/s422_5x3.jpg",
		"testdata/jpeg/s420_prog_61x45.jpg",
		"testdata/jpeg/restart2b_prog_s420_61x45.jpg",
		"testdata/jpeg/prog_cut1_s420_13x61.jpg",
		"testdata/jpeg/prog_cut3_gray_19x45.jpg",
		"testdata/jpeg/cutrst_pr420_2.jpg",
		"testdata/jpeg/corrupt_cmyk_s420_61x45.jpg",
		"testdata/jpeg/sh3v1_61x45.jpg",
		"testdata/jpeg/cmyk_61x45.jpg",
		"testdata/jpeg/gray_7x3.jpg",
		"testdata/png/p4_short.png",
		"testdata/png/g16_adam7.png",
		"testdata/png/la16.png",
		filepath.Join(corpusDir, "images/p11_checker_bilevel.png"),
	} {
		data, err := readTestFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const maxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range []JPEGDecoder{JPEGTurbo, JPEGStd} {
			im, err := Decode(bytes.NewReader(data), Options{MaxPixels: maxPixels, JPEG: dec})
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) &&
					!errors.Is(err, ErrEmpty) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Decode(%v) error %v is not one of the sentinels", dec, err)
				}
				continue
			}
			n := im.Width * im.Height
			if n <= 0 || n > maxPixels {
				t.Fatalf("Decode(%v) = %dx%d image, limit %d", dec, im.Width, im.Height, maxPixels)
			}
			if g := im.Gray(); len(g) != n {
				t.Fatalf("Decode(%v): len(Gray()) = %d, want %d", dec, len(g), n)
			}
			if rgb := im.RGB(); rgb != nil && len(rgb) != 3*n || rgb == nil && !im.Mode.isGrey() {
				t.Fatalf("Decode(%v): mode %s, len(RGB()) = %d for %d pixels", dec, im.Mode, len(rgb), n)
			}
		}
	})
}
