package gguf_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"math"

	"github.com/genquorum/genquorum/gguf"
)

func ExampleOpen() {
	f, err := gguf.Open("../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	arch, _ := f.String("general.architecture")
	layers, _ := f.Uint32("llama.block_count")
	ti, _ := f.Tensor("token_embd.weight")
	fmt.Println(arch, layers, "layers")
	fmt.Println(ti.Name, ti.Shape, ti.Type, ti.Size(), "bytes")
	w, err := f.Dequantize("token_embd.weight")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(w), "values")
	// Output:
	// llama 2 layers
	// token_embd.weight [64 32000] Q8_0 2176000 bytes
	// 2048000 values
}

func ExampleWrite() {
	data := make([]byte, 0, 8)
	for _, v := range []float32{1.5, -2} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	var buf bytes.Buffer
	err := gguf.Write(&buf,
		[]gguf.KV{
			{Key: "general.architecture", Value: "example"},
			{Key: "tokenizer.ggml.tokens", Value: gguf.Array{Type: gguf.TypeString, Values: []string{"a", "b"}}},
		},
		[]gguf.WriterTensor{{Name: "w", Shape: []uint64{2}, Type: gguf.TypeF32, Data: data}})
	if err != nil {
		log.Fatal(err)
	}
	f, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		log.Fatal(err)
	}
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	w, _ := f.Dequantize("w")
	fmt.Println(buf.Len(), "bytes;", toks, w, "data at", f.DataOffset)
	// Output:
	// 224 bytes; [a b] [1.5 -2] data at 192
}
