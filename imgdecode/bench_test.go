package imgdecode

import (
	"bytes"
	"path/filepath"
	"testing"
)

func benchDecode(b *testing.B, path string, opts Options) {
	data, err := readTestFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		im, err := Decode(bytes.NewReader(data), opts)
		if err != nil {
			b.Fatal(err)
		}
		_ = im.Gray()
	}
}

// Decode + Gray of a 640x427 baseline JPEG with each decoder.
func BenchmarkDecodeJPEG640x427Turbo(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p04_rocket.jpg"), Options{JPEG: JPEGTurbo})
}

func BenchmarkDecodeJPEG640x427Std(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p04_rocket.jpg"), Options{JPEG: JPEGStd})
}

// A 1600x1203 progressive 4:2:0 JPEG.
func BenchmarkDecodeJPEGProgressive1600x1203Turbo(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p21_FreshFlower_progressive.jpg"), Options{JPEG: JPEGTurbo})
}

func BenchmarkDecodeJPEGProgressive1600x1203Std(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p21_FreshFlower_progressive.jpg"), Options{JPEG: JPEGStd})
}

// Decode + Gray of a 512x512 RGB PNG.
func BenchmarkDecodePNG512x512(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p01_astronaut.png"), Options{})
}

// A 512x512 4:2:0 baseline JPEG (Pillow quality 95): fancy h2v2 upsampling.
func BenchmarkDecodeJPEG512x512Subsampled420Turbo(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p01_astronaut__jpeg95.jpg"), Options{JPEG: JPEGTurbo})
}

func BenchmarkDecodeJPEG512x512Subsampled420Std(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p01_astronaut__jpeg95.jpg"), Options{JPEG: JPEGStd})
}

// The corpus' largest file: 6000x4000 4:4:4 baseline (24 Mpixel).
func BenchmarkDecodeJPEG6000x4000Turbo(b *testing.B) {
	benchDecode(b, filepath.Join(corpusDir, "images/p17_Painting-Colors_6000x4000.jpg"), Options{JPEG: JPEGTurbo})
}
