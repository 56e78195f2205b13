package imghash_test

import (
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/genquorum/genquorum/imghash"
)

// benchImage is p01_astronaut.png (512x512 RGB) decoded: the input of every benchmark, so
// they time "decoded RGB pixels in, hash out" (luma conversion included), as imagehash's
// own timings from an opened PIL image do.
func benchImage(b *testing.B) imghash.Image {
	b.Helper()
	return decodeFile(b, filepath.Join(corpus, "images/p01_astronaut.png"))
}

func benchSpecs(b *testing.B, specs ...imghash.Spec) {
	img := benchImage(b)
	var hs imghash.Hasher
	if _, err := hs.Compute(img, specs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := hs.Compute(img, specs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the CPU time (user+system) this process has used. On a shared,
// oversubscribed machine wall-clock ns/op mostly measures waiting for a core, so the
// benchmarks report cpu-ns/op next to it.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAverageHash512(b *testing.B) { benchSpecs(b, imghash.Spec{imghash.AverageHash, 8}) }
func BenchmarkDHash512(b *testing.B)       { benchSpecs(b, imghash.Spec{imghash.DHash, 8}) }
func BenchmarkDHashVertical512(b *testing.B) {
	benchSpecs(b, imghash.Spec{imghash.DHashVertical, 8})
}
func BenchmarkPHash512(b *testing.B)       { benchSpecs(b, imghash.Spec{imghash.PHash, 8}) }
func BenchmarkPHashSimple512(b *testing.B) { benchSpecs(b, imghash.Spec{imghash.PHashSimple, 8}) }
func BenchmarkWHash512(b *testing.B)       { benchSpecs(b, imghash.Spec{imghash.WHash, 8}) }
func BenchmarkColorHash512(b *testing.B)   { benchSpecs(b, imghash.Spec{imghash.ColorHash, 3}) }

// BenchmarkAverageDHashPHashColor512 is the shared-work path: four hashes of one image.
func BenchmarkAverageDHashPHashColor512(b *testing.B) {
	benchSpecs(b, imghash.Spec{imghash.AverageHash, 8}, imghash.Spec{imghash.DHash, 8},
		imghash.Spec{imghash.PHash, 8}, imghash.Spec{imghash.ColorHash, 3})
}

// BenchmarkAll512 computes the ten hashes of the conformance vectors.
func BenchmarkAll512(b *testing.B) { benchSpecs(b, corpusSpecs...) }

// BenchmarkAverageDHashPHashColor512Workers is the shared-work path with the row sweep split
// over GOMAXPROCS goroutines (Hasher.Workers).
func BenchmarkAverageDHashPHashColor512Workers(b *testing.B) {
	img := benchImage(b)
	specs := []imghash.Spec{{imghash.AverageHash, 8}, {imghash.DHash, 8}, {imghash.PHash, 8}, {imghash.ColorHash, 3}}
	hs := imghash.Hasher{Workers: runtime.GOMAXPROCS(0)}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := hs.Compute(img, specs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkWHashFlat512 times whash on a flat 512x512 image, where every block sum ties
// and the float64 PyWavelets emulation decides.
func BenchmarkWHashFlat512(b *testing.B) {
	gray := make([]uint8, 512*512)
	for i := range gray {
		gray[i] = 128
	}
	img := imghash.Image{Width: 512, Height: 512, Gray: gray}
	specs := []imghash.Spec{{imghash.WHash, 8}}
	var hs imghash.Hasher
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := hs.Compute(img, specs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}
