package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

var refFiles = []string{
	"../testdata/llamacpp/vocab/ggml-vocab-llama-spm.gguf",
	"../testdata/llamacpp/vocab/ggml-vocab-gpt-2.gguf",
	"../testdata/llamacpp/vocab/ggml-vocab-deepseek-coder.gguf",
	"../testdata/llamacpp/models/tiny-llama-a-f32.gguf",
	"../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf",
	"../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf",
}

// TestRoundTrip reads every reference file and writes it back: the bytes must be identical.
func TestRoundTrip(t *testing.T) {
	for _, path := range refFiles {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Read(bytes.NewReader(orig), int64(len(orig)), nil)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var wts []WriterTensor
			for _, ti := range f.Tensors {
				data, err := f.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				wts = append(wts, WriterTensor{Name: ti.Name, Shape: ti.Shape, Type: ti.Type, Data: data})
			}
			var buf bytes.Buffer
			if err := Write(&buf, f.KV, wts); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), orig) {
				n := 0
				for n < min(buf.Len(), len(orig)) && buf.Bytes()[n] == orig[n] {
					n++
				}
				t.Errorf("written file differs from original: %d vs %d bytes, first difference at byte %d", buf.Len(), len(orig), n)
			}
		})
	}
}
