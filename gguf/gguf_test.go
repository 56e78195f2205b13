package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

// rewrite reads a file from memory and writes it back with Write.
func rewrite(t testing.TB, orig []byte) (*File, []byte) {
	t.Helper()
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
	return f, buf.Bytes()
}

// TestRoundTrip reads every reference file and writes it back: the bytes must be identical.
func TestRoundTrip(t *testing.T) {
	for _, path := range refFiles {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, out := rewrite(t, orig)
			if !bytes.Equal(out, orig) {
				n := 0
				for n < min(len(out), len(orig)) && out[n] == orig[n] {
					n++
				}
				t.Errorf("written file differs from original: %d vs %d bytes, first difference at byte %d", len(out), len(orig), n)
			}
		})
	}
}

func TestOpenModelMetadata(t *testing.T) {
	f, err := Open("../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := f.String("general.architecture"); got != "llama" || err != nil {
		t.Errorf(`String("general.architecture") = %q, %v; want "llama"`, got, err)
	}
	if got, err := f.Uint32("llama.attention.head_count_kv"); got != 2 || err != nil {
		t.Errorf("Uint32(head_count_kv) = %d, %v; want 2", got, err)
	}
	if got, err := f.Float32("llama.attention.layer_norm_rms_epsilon"); got != float32(1e-5) || err != nil {
		t.Errorf("Float32(rms_epsilon) = %v, %v; want 1e-5", got, err)
	}
	if toks, err := f.Strings("tokenizer.ggml.tokens"); len(toks) != 32000 || err != nil || toks[1] != "<s>" {
		t.Errorf("Strings(tokens): %d tokens, %v", len(toks), err)
	}
	if _, err := f.String("no.such.key"); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("String(missing) error = %v, want ErrKeyNotFound", err)
	}
	var te *TypeError
	if _, err := f.String("llama.block_count"); !errors.As(err, &te) || te.Have != TypeUint32 {
		t.Errorf("String(uint32 key) error = %v, want *TypeError with Have uint32", err)
	}
	if len(f.Tensors) != 21 {
		t.Errorf("%d tensors, want 21", len(f.Tensors))
	}
	wantShapes := map[string][]uint64{
		"token_embd.weight":     {64, 32000},
		"blk.0.attn_k.weight":   {64, 32},
		"blk.1.ffn_down.weight": {128, 64},
		"output_norm.weight":    {64},
	}
	for name, shape := range wantShapes {
		ti, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ti.Shape, shape) {
			t.Errorf("tensor %s shape %v, want %v", name, ti.Shape, shape)
		}
	}
	if ti, _ := f.Tensor("blk.0.attn_q.weight"); ti.Type != TypeF16 {
		t.Errorf("attn_q type %s, want F16", ti.Type)
	}
	if ti, _ := f.Tensor("output_norm.weight"); ti.Type != TypeF32 {
		t.Errorf("output_norm type %s, want F32", ti.Type)
	}
	if _, err := f.Tensor("nope"); !errors.Is(err, ErrTensorNotFound) {
		t.Errorf("Tensor(nope) error = %v, want ErrTensorNotFound", err)
	}
	w, err := f.Dequantize("blk.0.attn_norm.weight")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range w {
		if v < 0.5 || v > 1.5 {
			t.Fatalf("attn_norm[%d] = %v, want in [0.5, 1.5] (models.md: U(0.5, 1.5))", i, v)
		}
	}
}

// TestQ8_0MatchesF32Model quantises the F32 model's matrices with gguf-py's Q8_0 rule and
// checks that this gives exactly the bytes of the Q8_0 model (models.md: same weights,
// quantised), and that dequantisation is within half a quantisation step of the F32 values.
func TestQ8_0MatchesF32Model(t *testing.T) {
	f32, err := Open("../testdata/llamacpp/models/tiny-llama-a-f32.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	q8, err := Open("../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	nQ8 := 0
	for _, ti := range q8.Tensors {
		ref, err := f32.Dequantize(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if ti.Type != TypeQ8_0 {
			continue
		}
		nQ8++
		raw, err := q8.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if want := quantizeQ8_0(ref); !bytes.Equal(raw, want) {
			t.Errorf("tensor %s: Q8_0 bytes differ from gguf-py's quantisation of the F32 weights", ti.Name)
		}
		got, err := q8.Dequantize(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		// q was rounded against the float32 scale but is multiplied by the f16 one, so the
		// error bound is half a step plus 127 times the f16 rounding of d (2^-11 relative).
		for b := 0; b < len(ref)/32; b++ {
			d := F16ToF32(binary.LittleEndian.Uint16(raw[b*34:]))
			for j := b * 32; j < b*32+32; j++ {
				if diff := math.Abs(float64(got[j] - ref[j])); diff > 0.57*float64(d) {
					t.Fatalf("tensor %s[%d]: dequantised %v, f32 %v, step %v", ti.Name, j, got[j], ref[j], d)
				}
			}
		}
	}
	if nQ8 != 16 {
		t.Errorf("%d Q8_0 tensors, want 16 (7 matrices per layer, token_embd and output)", nQ8)
	}
}

// quantizeQ8_0 is gguf-py's numpy Q8_0 quantisation (gguf/quants.py), in float32:
// d = max|x|/127, q = round-half-away(x * (1/d)), d stored as f16.
func quantizeQ8_0(x []float32) []byte {
	out := make([]byte, 0, len(x)/32*34)
	for b := 0; b < len(x); b += 32 {
		var amax float32
		for _, v := range x[b : b+32] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		out = binary.LittleEndian.AppendUint16(out, F32ToF16(d))
		for _, v := range x[b : b+32] {
			out = append(out, byte(int8(math.Round(float64(v*id)))))
		}
	}
	return out
}

func TestF16Conversions(t *testing.T) {
	all := make([]byte, 2<<16)
	for h := range 1 << 16 {
		binary.LittleEndian.PutUint16(all[2*h:], uint16(h))
	}
	table := make([]float32, 1<<16)
	if err := Dequantize(TypeF16, all, table); err != nil {
		t.Fatal(err)
	}
	for h, v := range table {
		if want := F16ToF32(uint16(h)); math.Float32bits(v) != math.Float32bits(want) {
			t.Errorf("Dequantize(F16 %#04x) = %v, F16ToF32 gives %v", h, v, want)
		}
	}
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if f != f { // NaN
			if back := F32ToF16(f); back&0x7C00 != 0x7C00 || back&0x3FF == 0 {
				t.Errorf("F32ToF16(NaN from %#04x) = %#04x, want a NaN", h, back)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Errorf("F32ToF16(F16ToF32(%#04x) = %v) = %#04x", h, f, back)
		}
	}
	halfTests := []struct {
		h    uint16
		want float32
	}{
		{0x3C00, 1}, {0xC000, -2}, {0x7BFF, 65504}, {0x0001, 5.960464477539063e-08}, {0x0400, 6.103515625e-05},
		{0x03FF, 6.097555160522461e-05}, {0x8000, float32(math.Copysign(0, -1))}, {0x7C00, float32(math.Inf(1))},
	}
	for _, tt := range halfTests {
		if got := F16ToF32(tt.h); math.Float32bits(got) != math.Float32bits(tt.want) {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", tt.h, got, tt.want)
		}
	}
	tests := []struct {
		f    float32
		want uint16
	}{
		{1, 0x3C00}, {-2, 0xC000}, {65504, 0x7BFF}, {65520, 0x7C00}, {1e-8, 0x0000},
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
		{1 + 1.0/2048, 0x3C00},          // tie to even (down)
		{1 + 3.0/2048, 0x3C02},          // tie to even (up)
		{float32(math.Inf(-1)), 0xFC00},
	}
	for _, tt := range tests {
		if got := F32ToF16(tt.f); got != tt.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", tt.f, got, tt.want)
		}
	}
}

func TestDequantizeBlocks(t *testing.T) {
	le := binary.LittleEndian
	// Q4_0: d = 0.5, nibbles j and 15-j: y[j] = (j-8)*0.5, y[j+16] = (15-j-8)*0.5.
	q40 := le.AppendUint16(nil, F32ToF16(0.5))
	for j := range 16 {
		q40 = append(q40, byte(j)|byte(15-j)<<4)
	}
	// BF16: 1.5 is 0x3FC0.
	bf16 := le.AppendUint16(nil, 0x3FC0)
	// Q8_0: d = 0.25, q = -128..-97.
	q80 := le.AppendUint16(nil, F32ToF16(0.25))
	for j := range 32 {
		q80 = append(q80, byte(int8(j-128)))
	}
	tests := []struct {
		typ  TensorType
		data []byte
		n    int
		want func(i int) float32
	}{
		{TypeQ4_0, q40, 32, func(i int) float32 {
			if i < 16 {
				return float32(i-8) * 0.5
			}
			return float32(15-(i-16)-8) * 0.5
		}},
		{TypeBF16, bf16, 1, func(int) float32 { return 1.5 }},
		{TypeQ8_0, q80, 32, func(i int) float32 { return float32(i-128) * 0.25 }},
	}
	for _, tt := range tests {
		got := make([]float32, tt.n)
		if err := Dequantize(tt.typ, tt.data, got); err != nil {
			t.Fatalf("Dequantize(%s): %v", tt.typ, err)
		}
		for i, g := range got {
			if w := tt.want(i); g != w {
				t.Errorf("Dequantize(%s)[%d] = %v, want %v", tt.typ, i, g, w)
			}
		}
	}
	if err := Dequantize(TypeQ5_K, make([]byte, 176), make([]float32, 256)); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Dequantize(Q5_K) error = %v, want ErrUnsupportedType", err)
	}
	if err := Dequantize(TypeQ8_0, make([]byte, 33), make([]float32, 32)); err == nil {
		t.Error("Dequantize(Q8_0, 33 bytes for 32 values) succeeded")
	}
}

// TestDequantizeKQuants checks Q4_K and Q6_K against a slow per-element reading of the block
// layouts in ggml-common.h, on blocks of random bytes with finite scales.
func TestDequantizeKQuants(t *testing.T) {
	rng := newRand()
	for trial := range 50 {
		// Q4_K: d, dmin f16; scales[12] packs 8 6-bit scales and 8 6-bit mins; qs[128].
		blk := make([]byte, 144)
		for i := range blk {
			blk[i] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint16(blk[0:], F32ToF16(float32(rng.Float64())))
		binary.LittleEndian.PutUint16(blk[2:], F32ToF16(float32(rng.Float64())))
		got := make([]float32, 256)
		if err := Dequantize(TypeQ4_K, blk, got); err != nil {
			t.Fatal(err)
		}
		d, dmin := F16ToF32(binary.LittleEndian.Uint16(blk)), F16ToF32(binary.LittleEndian.Uint16(blk[2:]))
		sc := blk[4:16]
		for i := range 256 {
			sub := i / 32 // 8 sub-blocks of 32
			var s, m byte
			if sub < 4 {
				s, m = sc[sub]&63, sc[sub+4]&63
			} else {
				s = sc[sub+4]&0x0F | (sc[sub-4]>>6)<<4
				m = sc[sub+4]>>4 | (sc[sub]>>6)<<4
			}
			q := blk[16+(sub/2)*32+i%32]
			if sub%2 == 1 {
				q >>= 4
			}
			q &= 0x0F
			want := float32(float32(d*float32(s))*float32(q)) - float32(dmin*float32(m))
			if got[i] != want {
				t.Fatalf("trial %d: Q4_K[%d] = %v, want %v", trial, i, got[i], want)
			}
		}

		// Q6_K: ql[128] low 4 bits, qh[64] high 2 bits, scales[16] int8, d f16.
		blk6 := make([]byte, 210)
		for i := range blk6 {
			blk6[i] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint16(blk6[208:], F32ToF16(float32(rng.Float64())))
		got6 := make([]float32, 256)
		if err := Dequantize(TypeQ6_K, blk6, got6); err != nil {
			t.Fatal(err)
		}
		d6 := F16ToF32(binary.LittleEndian.Uint16(blk6[208:]))
		for i := range 256 {
			half, r := i/128, i%128 // two halves of 128
			quarter, l := r/32, r%32
			lo := blk6[half*64+l+32*(quarter%2)]
			if quarter >= 2 {
				lo >>= 4
			}
			hi := (blk6[128+half*32+l] >> (2 * quarter)) & 3
			q := int(lo&0x0F|hi<<4) - 32
			scale := int8(blk6[192+half*8+l/16+2*quarter])
			want := float32(d6*float32(scale)) * float32(q)
			if got6[i] != want {
				t.Fatalf("trial %d: Q6_K[%d] = %v, want %v", trial, i, got6[i], want)
			}
		}
	}
}

func TestWriteRead(t *testing.T) {
	kvs := []KV{
		{"general.architecture", "test"},
		{"general.alignment", uint32(64)},
		{"u8", uint8(1)}, {"i8", int8(-2)}, {"u16", uint16(3)}, {"i16", int16(-4)},
		{"u32", uint32(5)}, {"i32", int32(-6)}, {"f32", float32(7.5)}, {"b", true},
		{"u64", uint64(1 << 40)}, {"i64", int64(-1 << 40)}, {"f64", 9.25},
		{"strs", Array{TypeString, []string{"a", "", "ccc"}}},
		{"ints", Array{TypeInt32, []int32{1, -2, 3}}},
		{"floats", Array{TypeFloat32, []float32{0.5, -1}}},
		{"bools", Array{TypeBool, []bool{true, false}}},
		{"bytes", Array{TypeUint8, []uint8{1, 2, 3}}},
		{"nested", Array{TypeArray, []Array{{TypeInt64, []int64{1}}, {TypeString, []string{"x"}}}}},
	}
	f32 := make([]byte, 4*3*2)
	for i := range 6 {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(float32(i)))
	}
	tensors := []WriterTensor{
		{Name: "a", Shape: []uint64{3, 2}, Type: TypeF32, Data: f32},
		{Name: "b", Shape: []uint64{32}, Type: TypeQ8_0, Data: make([]byte, 34)},
	}
	var buf bytes.Buffer
	if err := Write(&buf, kvs, tensors); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.KV, kvs) {
		t.Errorf("metadata after round trip:\n got %v\nwant %v", f.KV, kvs)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
	}
	if ti, _ := f.Tensor("b"); ti.Offset != 64 {
		t.Errorf("tensor b offset %d, want 64 (24 bytes of a, padded to 64)", ti.Offset)
	}
	got, err := f.Dequantize("a")
	if err != nil || !reflect.DeepEqual(got, []float32{0, 1, 2, 3, 4, 5}) {
		t.Errorf("Dequantize(a) = %v, %v", got, err)
	}
	if ints, err := f.Int32s("ints"); err != nil || !reflect.DeepEqual(ints, []int32{1, -2, 3}) {
		t.Errorf("Int32s = %v, %v", ints, err)
	}
	if v, err := f.Uint32("u8"); v != 1 || err != nil {
		t.Errorf("Uint32(u8) = %v, %v (integer widening)", v, err)
	}
	if _, err := f.Uint32("i8"); err == nil {
		t.Error("Uint32(i8 = -2) succeeded")
	}

	bad := []struct {
		name    string
		kvs     []KV
		tensors []WriterTensor
		want    string
	}{
		{"bad alignment", []KV{{"general.alignment", uint32(3)}}, nil, "power of two"},
		{"duplicate key", []KV{{"k", true}, {"k", false}}, nil, "duplicate key"},
		{"bad value type", []KV{{"k", 3}}, nil, "unsupported value type int"},
		{"array type mismatch", []KV{{"k", Array{TypeInt32, []string{"x"}}}}, nil, "array type int32 holds []string"},
		{"short data", nil, []WriterTensor{{Name: "t", Shape: []uint64{4}, Type: TypeF32, Data: make([]byte, 15)}}, "have 15 bytes"},
		{"partial block", nil, []WriterTensor{{Name: "t", Shape: []uint64{16}, Type: TypeQ8_0, Data: nil}}, "block size"},
		{"unknown type", nil, []WriterTensor{{Name: "t", Shape: []uint64{1}, Type: 99, Data: nil}}, "unknown type 99"},
	}
	for _, tt := range bad {
		if err := Write(&bytes.Buffer{}, tt.kvs, tt.tensors); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Write(%s) error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}
