package gguf

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkDequantize1M decodes 2^20 values of each supported type (random bytes with finite
// f16 scales); bytes/s counts output float32 bytes.
func BenchmarkDequantize1M(b *testing.B) {
	const n = 1 << 20
	rng := newRand()
	for _, typ := range []TensorType{TypeF32, TypeF16, TypeBF16, TypeQ8_0, TypeQ4_0, TypeQ4_K, TypeQ6_K} {
		src := make([]byte, n/typ.BlockSize()*typ.TypeSize())
		for i := range src {
			src[i] = byte(rng.Uint32() & 0x3B) // keeps f16/bf16 exponents small and finite
		}
		dst := make([]float32, n)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(4 * n)
			b.ReportAllocs()
			for b.Loop() {
				if err := Dequantize(typ, src, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead parses the header, metadata and tensor infos of reference files from memory.
func BenchmarkRead(b *testing.B) {
	for _, path := range []string{refFiles[1], refFiles[5]} {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(path[len("../testdata/llamacpp/"):], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(bytes.NewReader(data), int64(len(data)), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
