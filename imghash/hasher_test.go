package imghash_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/imghash"
)

// TestWorkersSameBits hashes every corpus file with the row sweep split over 3 goroutines
// and requires the serial results.
func TestWorkersSameBits(t *testing.T) {
	all := corpusHashes(t)
	hs := imghash.Hasher{Workers: 3}
	for file, want := range all {
		got, err := hs.Compute(decodeFile(t, filepath.Join(corpus, file)), corpusSpecs)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range corpusSpecs {
			if !got[i].Equal(want[s]) {
				t.Errorf("%s %v: Workers 3 gives %v, serial %v", file, s, got[i], want[s])
			}
		}
	}
}

// TestGrayEqualsRGB checks that passing the luma plane (Gray and RGB) gives the same hashes
// as RGB alone, and that the single-hash functions agree with Compute.
func TestGrayEqualsRGB(t *testing.T) {
	img := decodeFile(t, filepath.Join(corpus, "images/p03_chelsea.png"))
	withGray := img
	withGray.Gray = lumaOf(img.RGB)
	a, err := imghash.Compute(img, corpusSpecs...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := imghash.Compute(withGray, corpusSpecs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range corpusSpecs {
		if !a[i].Equal(b[i]) {
			t.Errorf("%v: RGB only %v, with Gray %v", s, a[i], b[i])
		}
	}
	single := map[imghash.Kind]func(imghash.Image, int) (imghash.Hash, error){
		imghash.AverageHash: imghash.Average, imghash.DHash: imghash.Difference,
		imghash.DHashVertical: imghash.DifferenceVertical, imghash.PHash: imghash.Perceptual,
		imghash.PHashSimple: imghash.PerceptualSimple, imghash.WHash: imghash.Wavelet, imghash.ColorHash: imghash.Color,
	}
	for i, s := range corpusSpecs {
		h, err := single[s.Kind](img, s.Size)
		if err != nil || !h.Equal(a[i]) {
			t.Errorf("%v: single-hash function = %v, %v; Compute %v", s, h, err, a[i])
		}
	}
}

func lumaOf(rgb []uint8) []uint8 {
	l := make([]uint8, len(rgb)/3)
	for i := range l {
		l[i] = uint8((19595*uint32(rgb[3*i]) + 38470*uint32(rgb[3*i+1]) + 7471*uint32(rgb[3*i+2]) + 0x8000) >> 16)
	}
	return l
}

func TestComputeErrors(t *testing.T) {
	ok := imghash.Image{Width: 2, Height: 2, Gray: make([]uint8, 4)}
	tests := []struct {
		img   imghash.Image
		spec  imghash.Spec
		isImg bool // error wraps ErrImage
	}{
		{imghash.Image{Width: 0, Height: 2, Gray: []uint8{}}, imghash.Spec{imghash.AverageHash, 8}, true},
		{imghash.Image{Width: 2, Height: 2}, imghash.Spec{imghash.AverageHash, 8}, true},
		{imghash.Image{Width: 2, Height: 2, Gray: make([]uint8, 3)}, imghash.Spec{imghash.AverageHash, 8}, true},
		{imghash.Image{Width: 2, Height: 2, RGB: make([]uint8, 4)}, imghash.Spec{imghash.AverageHash, 8}, true},
		{ok, imghash.Spec{imghash.WHash, 6}, false},
		{ok, imghash.Spec{imghash.ColorHash, 0}, false},
	}
	for _, tt := range tests {
		_, err := imghash.Compute(tt.img, tt.spec)
		if err == nil || errors.Is(err, imghash.ErrImage) != tt.isImg {
			t.Errorf("Compute(%dx%d, %v) error = %v, want ErrImage=%v", tt.img.Width, tt.img.Height, tt.spec, err, tt.isImg)
		}
	}
}

// TestComputeTooThin checks that a degenerate shape whose resize tables would be far larger
// than the image is refused instead of allocating gigabytes.
func TestComputeTooThin(t *testing.T) {
	img := imghash.Image{Width: 1, Height: 50_000_000, Gray: make([]uint8, 50_000_000)}
	_, err := imghash.Compute(img, imghash.Spec{Kind: imghash.PHash, Size: 8})
	if !errors.Is(err, imghash.ErrImage) {
		t.Errorf("Compute(1x5e7) error = %v, want ErrImage", err)
	}
	// A thin but reasonable image is hashed.
	img = imghash.Image{Width: 3, Height: 100_000, Gray: make([]uint8, 300_000)}
	if _, err := imghash.Compute(img, imghash.Spec{Kind: imghash.PHash, Size: 8}); err != nil {
		t.Errorf("Compute(3x1e5): %v", err)
	}
}
