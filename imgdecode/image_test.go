package imgdecode

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestPlanesCachedAndShared checks the aliasing contract: Gray and RGB are
// computed once, and every caller, from any goroutine, gets the same slice.
func TestPlanesCachedAndShared(t *testing.T) {
	for _, f := range []string{
		"testdata/jpeg/cmyk_s420_61x45.jpg", // RGB and L derived from CMYK
		"testdata/jpeg/s420_33x17.jpg",      // L derived from RGB
		"testdata/png/g16_low.png",          // grey: no RGB plane
	} {
		im, err := DecodeFile(f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		grays := make([][]uint8, 8)
		rgbs := make([][]uint8, 8)
		for i := range grays {
			wg.Go(func() { grays[i], rgbs[i] = im.Gray(), im.RGB() })
		}
		wg.Wait()
		for i := range grays {
			if &grays[i][0] != &grays[0][0] || (rgbs[0] != nil && &rgbs[i][0] != &rgbs[0][0]) {
				t.Errorf("%s: call %d returned a different slice", filepath.Base(f), i)
			}
		}
		if grey := im.Mode.isGrey(); grey != (rgbs[0] == nil) {
			t.Errorf("%s: mode %s, RGB() == nil is %v", filepath.Base(f), im.Mode, rgbs[0] == nil)
		}
	}
}

func TestModeOfPNG(t *testing.T) {
	tests := []struct {
		file string
		want Mode
	}{
		{"g1.png", Mode1}, {"g2.png", ModeL}, {"g16.png", ModeI}, {"la8.png", ModeLA},
		{"la16.png", ModeRGBA}, {"p4.png", ModeP}, {"rgb16.png", ModeRGB}, {"rgba8.png", ModeRGBA},
	}
	for _, tc := range tests {
		im, err := DecodeFile(filepath.Join("testdata/png", tc.file), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if im.Mode != tc.want {
			t.Errorf("DecodeFile(%q).Mode = %q, want %q", tc.file, im.Mode, tc.want)
		}
	}
}

func TestCMYKToRGBFormula(t *testing.T) {
	// Pillow Convert.c cmyk2rgb: R = clip(255-K - MULDIV255(C, 255-K));
	// the last row was checked with Pillow 9.4 itself.
	tests := []struct{ c, m, y, k, r, g, b uint8 }{
		{0, 0, 0, 0, 255, 255, 255},
		{255, 255, 255, 0, 0, 0, 0},
		{0, 0, 0, 255, 0, 0, 0},
		{128, 64, 32, 10, 122, 184, 214}, // Pillow 9.4: Image.new("CMYK", (1, 1), (128, 64, 32, 10)).convert("RGB"),
	}
	for _, tc := range tests {
		rgb := make([]uint8, 3)
		cmykToRGB(rgb, []uint8{tc.c, tc.m, tc.y, tc.k})
		if rgb[0] != tc.r || rgb[1] != tc.g || rgb[2] != tc.b {
			t.Errorf("cmykToRGB(%d,%d,%d,%d) = %v, want [%d %d %d]", tc.c, tc.m, tc.y, tc.k, rgb, tc.r, tc.g, tc.b)
		}
	}
}
