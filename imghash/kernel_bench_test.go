package imghash

import (
	"github.com/genquorum/genquorum/imgdecode"
	"math/rand/v2"
	"testing"
)

func randBytes(n int) []uint8 {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]uint8, n)
	for i := range b {
		b[i] = uint8(r.Uint32())
	}
	return b
}

func BenchmarkLuma512(b *testing.B) {
	rgb := randBytes(3 * 512 * 512)
	l := make([]uint8, 512*512)
	b.ReportAllocs()
	start := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		luma(l, rgb)
	}
}

func benchHPass(b *testing.B, out int) {
	src := randBytes(512 * 512)
	c := newCoeffs(512, out)
	dst := make([]uint8, out*512)
	b.ReportAllocs()
	start := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		for y := range 512 {
			hpassRow(dst[y*out:(y+1)*out], src[y*512:(y+1)*512], c)
		}
	}
}

func BenchmarkHPass512To8(b *testing.B)  { benchHPass(b, 8) }
func BenchmarkHPass512To9(b *testing.B)  { benchHPass(b, 9) }
func BenchmarkHPass512To32(b *testing.B) { benchHPass(b, 32) }

func BenchmarkColorStats512(b *testing.B) {
	rgb := randBytes(3 * 512 * 512)
	l := make([]uint8, 512*512)
	idx := make([]uint32, 512)
	t := hsvOnce()
	b.ReportAllocs()
	start := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		var st colorStats
		for y := range 512 {
			st.addRGB(rgb[3*512*y:3*512*(y+1)], l[512*y:512*(y+1)], idx, t)
		}
	}
}

func benchDot(b *testing.B, asm bool) {
	src := randBytes(385)
	k := make([]int32, 385)
	for i := range k {
		k[i] = int32(i*7919%20000) - 10000
	}
	saved := useAVX2
	useAVX2 = asm && saved
	defer func() { useAVX2 = saved }()
	var sink int32
	for b.Loop() {
		sink += dot(src, k)
	}
	_ = sink
}

func BenchmarkDot385Asm(b *testing.B)    { benchDot(b, true) }
func BenchmarkDot385PureGo(b *testing.B) { benchDot(b, false) }

// benchPaths times the shared-work four-hash path on p01_astronaut.png with and without
// the assembly kernels (same bits, see TestDotPaths and friends).
func benchPaths(b *testing.B, asm bool, specs ...Spec) {
	im, err := imgdecode.DecodeFile("../testdata/imagehash/images/p01_astronaut.png", imgdecode.Options{})
	if err != nil {
		b.Fatal(err)
	}
	img := Image{Width: im.Width, Height: im.Height, RGB: im.RGB()}
	saved := useAVX2
	useAVX2 = asm && saved
	defer func() { useAVX2 = saved }()
	var hs Hasher
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := hs.Compute(img, specs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

var fourSpecs = []Spec{{AverageHash, 8}, {DHash, 8}, {PHash, 8}, {ColorHash, 3}}

func BenchmarkFour512Asm(b *testing.B)     { benchPaths(b, true, fourSpecs...) }
func BenchmarkFour512PureGo(b *testing.B)  { benchPaths(b, false, fourSpecs...) }
func BenchmarkPHash512Asm(b *testing.B)    { benchPaths(b, true, Spec{PHash, 8}) }
func BenchmarkPHash512PureGo(b *testing.B) { benchPaths(b, false, Spec{PHash, 8}) }
