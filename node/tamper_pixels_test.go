package node

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
)

// testPNG is a 64x64 grey image with structure (a gradient and a bright square).
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			v := uint8(2 * (x + y))
			if x > 10 && x < 30 && y > 20 && y < 50 {
				v = 240
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tamperPixels decodes a PNG, applies change to its pixels and encodes it again: a doctored
// image with a valid file (unlike tamper's flipped last byte, which breaks the IEND CRC).
func tamperPixels(t *testing.T, data []byte, change func(img *image.Gray)) []byte {
	t.Helper()
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(src.Bounds())
	for y := src.Bounds().Min.Y; y < src.Bounds().Max.Y; y++ {
		for x := src.Bounds().Min.X; x < src.Bounds().Max.X; x++ {
			img.Set(x, y, src.At(x, y))
		}
	}
	change(img)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPixelTamperCaught: an artifact whose pixels were changed (decoded, edited, re-encoded,
// so the file is a valid PNG) is refused by fetch's check when the change moves its
// perceptual hash beyond the tolerance (ErrFingerprintMismatch); a change too small for the
// hash passes within tolerance, as perceptual verification allows by design.
func TestPixelTamperCaught(t *testing.T) {
	honest := testPNG(t)
	tests := []struct {
		name   string
		scheme fingerprint.Scheme
		tol    int
		change func(*image.Gray)
		want   error
	}{
		{"honest", fingerprint.ImageScheme(imghash.AverageHash, 8), 0, nil, nil},
		{"square moved", fingerprint.ImageScheme(imghash.AverageHash, 8), 2, func(img *image.Gray) {
			for y := 20; y < 50; y++ {
				for x := 11; x < 30; x++ {
					img.SetGray(x, y, color.Gray{uint8(2 * (x + y))}) // the square erased
					img.SetGray(x+30, y, color.Gray{240})             // and drawn on the right
				}
			}
		}, ErrFingerprintMismatch},
		{"inverted", fingerprint.ImageScheme(imghash.PHash, 8), 4, func(img *image.Gray) {
			for i, v := range img.Pix {
				img.Pix[i] = 255 - v
			}
		}, ErrFingerprintMismatch},
		{"one pixel", fingerprint.ImageScheme(imghash.AverageHash, 8), 0, func(img *image.Gray) {
			img.SetGray(0, 0, color.Gray{img.GrayAt(0, 0).Y ^ 1})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accepted, err := fingerprint.Of(&engine.Artifact{Data: honest}, tt.scheme, fingerprint.Options{})
			if err != nil {
				t.Fatal(err)
			}
			data := honest
			if tt.change != nil {
				data = tamperPixels(t, honest, tt.change)
				if bytes.Equal(data, honest) {
					t.Fatal("tamper left the file unchanged")
				}
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					t.Fatalf("doctored PNG does not decode: %v", err)
				}
			}
			f := &Fetched{Data: data}
			err = checkFingerprint(f, tt.scheme, accepted, tt.tol, FetchOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("checkFingerprint = %v (distance %d), want %v", err, f.Distance, tt.want)
			}
			if tt.want != nil && f.Distance <= tt.tol {
				t.Errorf("distance %d within tolerance %d but refused", f.Distance, tt.tol)
			}
		})
	}
}
