package llm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// synthetic returns a tiny llama GGUF (1 layer, width 8, 2 heads, 1 KV head, 12 tokens) with
// weights of type typ for the matrices (F32, F16 or Q8_0 with width 32).
func synthetic(t testing.TB, typ gguf.TensorType, tied bool) []byte {
	t.Helper()
	d, ff, vocab := 8, 16, 12
	if typ == gguf.TypeQ8_0 {
		d, ff = 32, 64
	}
	tokens := []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "c", "▁a", "▁b", "ab", "bc", "abc"}
	scores := make([]float32, vocab)
	types := make([]int32, vocab)
	for i := range types {
		types[i] = 1
		scores[i] = -float32(i)
	}
	types[0], types[1], types[2] = 2, 3, 3
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(1)},
		{Key: "llama.embedding_length", Value: uint32(d)},
		{Key: "llama.feed_forward_length", Value: uint32(ff)},
		{Key: "llama.attention.head_count", Value: uint32(2)},
		{Key: "llama.attention.head_count_kv", Value: uint32(1)},
		{Key: "llama.context_length", Value: uint32(64)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Array{Type: gguf.TypeString, Values: tokens}},
		{Key: "tokenizer.ggml.scores", Value: gguf.Array{Type: gguf.TypeFloat32, Values: scores}},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Array{Type: gguf.TypeInt32, Values: types}},
	}
	rng := NewRand(7)
	val := func() float32 { return float32(rng.Float64()*2-1) * 0.5 }
	enc := func(tt gguf.TensorType, n int) []byte {
		var b bytes.Buffer
		switch tt {
		case gguf.TypeF32:
			for range n {
				binary.Write(&b, binary.LittleEndian, val())
			}
		case gguf.TypeF16:
			for range n {
				binary.Write(&b, binary.LittleEndian, tensor.Float32ToFloat16(val()))
			}
		case gguf.TypeQ8_0:
			for range n / 32 {
				binary.Write(&b, binary.LittleEndian, tensor.Float32ToFloat16(0.01))
				for range 32 {
					b.WriteByte(byte(int8(val() * 200)))
				}
			}
		}
		return b.Bytes()
	}
	var ts []gguf.WriterTensor
	add := func(name string, tt gguf.TensorType, shape ...uint64) {
		n := 1
		for _, s := range shape {
			n *= int(s)
		}
		ts = append(ts, gguf.WriterTensor{Name: name, Shape: shape, Type: tt, Data: enc(tt, n)})
	}
	ud, uff, uv := uint64(d), uint64(ff), uint64(vocab)
	add("token_embd.weight", typ, ud, uv)
	add("output_norm.weight", gguf.TypeF32, ud)
	if !tied {
		add("output.weight", typ, ud, uv)
	}
	add("blk.0.attn_norm.weight", gguf.TypeF32, ud)
	add("blk.0.ffn_norm.weight", gguf.TypeF32, ud)
	add("blk.0.attn_q.weight", typ, ud, ud)
	add("blk.0.attn_k.weight", typ, ud, ud/2)
	add("blk.0.attn_v.weight", typ, ud, ud/2)
	add("blk.0.attn_output.weight", typ, ud, ud)
	add("blk.0.ffn_gate.weight", typ, ud, uff)
	add("blk.0.ffn_up.weight", typ, ud, uff)
	add("blk.0.ffn_down.weight", typ, uff, ud)
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kvs, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSyntheticModels runs tiny models of every supported weight type, with untied and tied
// output, through generation and scoring.
func TestSyntheticModels(t *testing.T) {
	for _, typ := range []gguf.TensorType{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0} {
		for _, tied := range []bool{false, true} {
			name := fmt.Sprintf("%s/tied=%v", typ, tied)
			data := synthetic(t, typ, tied)
			f, err := gguf.Read(bytes.NewReader(data), int64(len(data)), nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := FromGGUF(f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := m.Generate(t.Context(), []int32{1, 7, 8}, Params{Decode: "beam:2", MaxTokens: 6, IgnoreEOG: true}, tensor.Exact); err != nil {
				t.Fatalf("%s: beam: %v", name, err)
			}
			res, err := m.Generate(t.Context(), []int32{1, 7, 8}, Params{Decode: DecodeGreedy, MaxTokens: 6, IgnoreEOG: true, TopN: 3}, tensor.Exact)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			v, err := m.VerifyGreedy(t.Context(), []int32{1, 7, 8}, res.Tokens, tensor.Exact, 0)
			if err != nil || !v.Accept || v.Need != 0 {
				t.Errorf("%s: own greedy output not accepted at tolerance 0: %v %+v", name, err, v)
			}
			for _, s := range res.Steps {
				if math.IsNaN(float64(s.LogProb)) || s.LogProb > 0 {
					t.Errorf("%s: log-prob %v", name, s.LogProb)
				}
			}
		}
	}
}

// FuzzFromGGUF feeds mutated GGUF files to the loader: it must return a model or an error,
// never panic, and a model it returns must run.
func FuzzFromGGUF(f *testing.F) {
	f.Add(synthetic(f, gguf.TypeF32, false))
	f.Add(synthetic(f, gguf.TypeQ8_0, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		gf, err := gguf.Read(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			return
		}
		m, err := FromGGUF(gf)
		if err != nil {
			return
		}
		if m.Config.Dim*m.Config.Vocab > 1<<22 || m.Config.Context < 4 {
			return
		}
		if _, err := m.Generate(t.Context(), []int32{1, 2}, Params{Decode: DecodeGreedy, MaxTokens: 2, IgnoreEOG: true}, tensor.Exact); err != nil {
			t.Fatalf("loaded model fails to run: %v", err)
		}
	})
}
