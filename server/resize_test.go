package server

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// catmullRom is the Catmull-Rom cubic (a = -0.5) at distance t >= 0.
func catmullRom(t float64) float64 {
	switch {
	case t < 1:
		return (1.5*t-2.5)*t*t + 1
	case t < 2:
		return ((-0.5*t+2.5)*t-4)*t + 2
	}
	return 0
}

// slowResample resamples one line of n values to m with the Catmull-Rom cubic, the kernel
// widened by n/m when shrinking, taps outside the line dropped and the rest renormalized.
func slowResample(in []float64, m int) []float64 {
	n := len(in)
	scale := float64(n) / float64(m)
	widen := math.Max(1, scale)
	out := make([]float64, m)
	for x := range out {
		center := (float64(x)+0.5)*scale - 0.5
		var sum, total float64
		for i, v := range in {
			w := catmullRom(math.Abs(center-float64(i)) / widen)
			sum += w * v
			total += w
		}
		out[x] = sum / total
	}
	return out
}

// slowResize is resizeImage's slow twin: rows, then columns, in float64, rounded once.
func slowResize(src *image.Gray, w, h int) *image.Gray {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	rows := make([][]float64, sh)
	for y := range sh {
		line := make([]float64, sw)
		for x := range sw {
			line[x] = float64(src.Pix[y*src.Stride+x])
		}
		rows[y] = slowResample(line, w)
	}
	dst := image.NewGray(image.Rect(0, 0, w, h))
	for x := range w {
		col := make([]float64, sh)
		for y := range sh {
			col[y] = rows[y][x]
		}
		for y, v := range slowResample(col, h) {
			dst.Pix[y*dst.Stride+x] = uint8(math.Round(math.Min(math.Max(v, 0), 255)))
		}
	}
	return dst
}

func randomGray(r *rand.Rand, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// TestResizeMatchesSlow compares resizeImage with slowResize. resizeImage rounds twice (x/image
// to 16 bits, then to 8) and sums in x/image's order, slowResize rounds once, so a pixel near
// a half level may come out one level off, never more, and only rarely (at most 1 in 1000).
func TestResizeMatchesSlow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := randomGray(r, 32, 32)
	for _, size := range [][2]int{{32, 32}, {64, 64}, {512, 384}, {100, 7}, {17, 9}, {1, 1}, {33, 31}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			got := resizeImage(src, size[0], size[1]).(*image.Gray)
			want := slowResize(src, size[0], size[1])
			diffs := 0
			for i := range want.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				if d < -1 || d > 1 {
					t.Fatalf("pixel %d: %d, want %d ± 1", i, got.Pix[i], want.Pix[i])
				}
				if d != 0 {
					diffs++
				}
			}
			if diffs*1000 > len(want.Pix) {
				t.Errorf("%d of %d pixels one level off, want at most 1 in 1000", diffs, len(want.Pix))
			}
			t.Logf("%d of %d pixels one level off", diffs, len(want.Pix))
		})
	}
}

func TestResizeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := randomGray(r, 32, 32)
	same := resizeImage(src, 32, 32).(*image.Gray)
	for i := range src.Pix {
		if same.Pix[i] != src.Pix[i] {
			t.Fatalf("resize to the same size changed pixel %d: %d, was %d", i, same.Pix[i], src.Pix[i])
		}
	}
	flat := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	for _, size := range [][2]int{{1024, 1024}, {5, 3}, {48, 200}} {
		for i, v := range resizeImage(flat, size[0], size[1]).(*image.Gray).Pix {
			if v != 77 {
				t.Fatalf("%v: flat image resized has pixel %d = %d, want 77", size, i, v)
			}
		}
	}
	// A non-grey image comes back RGBA.
	if _, ok := resizeImage(image.NewRGBA(image.Rect(0, 0, 4, 4)), 8, 8).(*image.RGBA); !ok {
		t.Error("RGBA source: result is not RGBA")
	}
	if _, err := resizePNG([]byte("not a png"), 8, 8); err == nil {
		t.Error("resizePNG of junk: no error")
	}
}

func BenchmarkResize32To512(b *testing.B)  { benchResize(b, 512) }
func BenchmarkResize32To1024(b *testing.B) { benchResize(b, 1024) }

func benchResize(b *testing.B, side int) {
	src := randomGray(rand.New(rand.NewPCG(1, 2)), 32, 32)
	b.ReportAllocs()
	for b.Loop() {
		resizeImage(src, side, side)
	}
}
