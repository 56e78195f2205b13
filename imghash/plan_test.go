package imghash

import (
	"testing"
)

// slowHash computes one hash the plain way: luma plane, standalone Resize (horizontal plane,
// then Pillow's column-wise vertical pass), then the hash's bits.
func slowHash(img Image, s Spec) Hash {
	gray := img.Gray
	if gray == nil {
		gray = make([]uint8, img.Width*img.Height)
		lumaGeneric(gray, img.RGB)
	}
	if s.Kind == ColorHash {
		var st colorStats
		if img.RGB == nil {
			st.addGray(gray)
		} else {
			st = slowColorStats(img.RGB)
		}
		return colorHashFrom(newHash(s.Bits()), &st, img.Width*img.Height, s.Size)
	}
	t := resizeTarget(s, img.Width, img.Height)
	p := Resize(nil, gray, img.Width, img.Height, t.w, t.h)
	n := s.Size
	switch s.Kind {
	case AverageHash:
		return averageBits(newHash(n*n), p)
	case DHash:
		return dhashBits(newHash(n*n), p, n)
	case DHashVertical:
		return dhashVerticalBits(newHash(n*n), p, n)
	case PHash:
		d := make([]float64, n*n)
		phashCoeffs(d, p, 4*n, n, make([]float64, 4*n*n))
		return phashBits(newHash(n*n), d, nil)
	case PHashSimple:
		d := make([]float64, n*n)
		phashSimpleCoeffs(d, p, 4*n, n)
		return phashSimpleBits(newHash(n*n), d)
	case WHash:
		sc := whashScale(img.Width, img.Height, n)
		return whashBits(newHash(n*n), p, sc, n, make([]int64, n*n), nil)
	}
	panic("unreachable")
}

// TestComputePlans compares Hasher.Compute (shared sweep, streamed vertical passes, kept
// horizontal planes, workers) with slowHash on image shapes that exercise every plan: a
// target as wide as the image, as high as the image (whash of 300x256 keeps a horizontal
// plane), identity, thin images upscaled on one axis, tiny images.
func TestComputePlans(t *testing.T) {
	specs := []Spec{{AverageHash, 8}, {DHash, 8}, {DHashVertical, 8}, {PHash, 8}, {PHashSimple, 8},
		{WHash, 8}, {ColorHash, 3}, {AverageHash, 16}, {DHash, 16}, {PHash, 16}, {WHash, 16}, {DHashVertical, 1}}
	shapes := [][2]int{{300, 256}, {256, 300}, {256, 256}, {9, 300}, {300, 8}, {1, 118}, {118, 1}, {7, 5}, {2000, 3}, {33, 32}}
	for _, sh := range shapes {
		w, h := sh[0], sh[1]
		rgb := randBytes(3 * w * h)
		for i := range rgb { // smooth-ish content so hashes are not all noise
			rgb[i] = uint8((int(rgb[i])/4 + (i/3)%w*200/w + (i/3/w)*50/h))
		}
		for _, img := range []Image{{Width: w, Height: h, RGB: rgb}, {Width: w, Height: h, Gray: randBytes(w * h)}} {
			for _, workers := range []int{1, 3} {
				hs := Hasher{Workers: workers}
				got, err := hs.Compute(img, specs)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range specs {
					if want := slowHash(img, s); !got[i].Equal(want) {
						t.Errorf("%dx%d rgb=%v workers=%d %v: Compute %v, slow %v", w, h, img.RGB != nil, workers, s, got[i], want)
					}
				}
			}
		}
	}
}

// TestComputeAllocs pins the allocations of a reused Hasher: the result slice and one
// slab of hash words, whatever the image size.
func TestComputeAllocs(t *testing.T) {
	specs := []Spec{{AverageHash, 8}, {DHash, 8}, {DHashVertical, 8}, {PHash, 8}, {PHashSimple, 8},
		{WHash, 8}, {ColorHash, 3}, {PHash, 16}}
	img := Image{Width: 300, Height: 200, RGB: randBytes(3 * 300 * 200)}
	var hs Hasher
	if _, err := hs.Compute(img, specs); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := hs.Compute(img, specs); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("Compute allocates %v times per call, want <= 2", allocs)
	}
}

// TestWhashFloatMatchesInteger checks the float64 PyWavelets emulation against the exact
// integer form on random images without ties (where both must give imagehash's bits), and
// that a flat image (all ties) gives imagehash's all-zero hash.
func TestWhashFloatMatchesInteger(t *testing.T) {
	for _, tc := range []struct{ scale, s int }{{8, 8}, {16, 8}, {64, 8}, {128, 16}, {32, 2}} {
		for seed := range 5 {
			p := randBytes(tc.scale * tc.scale)
			for i := range p {
				p[i] = uint8((int(p[i]) + seed*37) % 256)
			}
			ih := whashBits(newHash(tc.s*tc.s), p, tc.scale, tc.s, make([]int64, tc.s*tc.s), nil)
			fh := whashFloatBits(newHash(tc.s*tc.s), p, tc.scale, tc.s)
			if !ih.Equal(fh) {
				t.Errorf("scale %d size %d seed %d: integer %v, float %v", tc.scale, tc.s, seed, ih, fh)
			}
		}
	}
	flat := make([]uint8, 64*64)
	for i := range flat {
		flat[i] = 200
	}
	if h := whashBits(newHash(64), flat, 64, 8, make([]int64, 64), nil); h.String() != "0000000000000000" {
		t.Errorf("whash of a flat image = %v, want 0000000000000000 (imagehash)", h)
	}
}
