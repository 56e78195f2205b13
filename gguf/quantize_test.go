package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

const (
	f32Model = "../testdata/llamacpp/models/tiny-llama-a-f32.gguf"
	q8Model  = "../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf"
)

// TestQuantizeQ8_0MatchesLlamaCpp quantises the F32 model's matrices with Quantize and checks
// that this gives exactly the bytes of the Q8_0 model, which llama.cpp's gguf-py wrote from
// the same weights (models.md).
func TestQuantizeQ8_0MatchesLlamaCpp(t *testing.T) {
	f32, q8 := mustOpen(t, f32Model), mustOpen(t, q8Model)
	n := 0
	for _, ti := range q8.Tensors {
		if ti.Type != TypeQ8_0 {
			continue
		}
		ref, err := f32.Dequantize(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := q8.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Quantize(TypeQ8_0, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("tensor %s: Quantize's Q8_0 bytes differ from llama.cpp's in block %d", ti.Name, firstDiff(got, want)/34)
		}
		n++
	}
	if n != 16 {
		t.Errorf("%d Q8_0 tensors compared, want 16", n)
	}
}

// TestQuantizeFileQ8_0 writes a Q8_0 copy of the F32 model with QuantizeFile and checks that
// it parses, names its file type, and holds exactly the Q8_0 model's tensors.
func TestQuantizeFileQ8_0(t *testing.T) {
	f32, q8 := mustOpen(t, f32Model), mustOpen(t, q8Model)
	var buf bytes.Buffer
	names, err := QuantizeFile(&buf, f32, TypeQ8_0, QuantizeOptions{Name: "tiny-random-llama-a-q8_0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 16 {
		t.Errorf("quantised %d tensors (%v), want the 16 matrices", len(names), names)
	}
	out, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ft, err := out.Uint32("general.file_type"); err != nil || ft != 7 {
		t.Errorf("general.file_type = %d, %v; want 7 (MOSTLY_Q8_0)", ft, err)
	}
	if name, _ := out.String("general.name"); name != "tiny-random-llama-a-q8_0" {
		t.Errorf("general.name = %q", name)
	}
	if v, err := out.Uint32("general.quantization_version"); err != nil || v != 2 {
		t.Errorf("general.quantization_version = %d, %v; want 2", v, err)
	}
	if len(out.Tensors) != len(q8.Tensors) {
		t.Fatalf("%d tensors, want %d", len(out.Tensors), len(q8.Tensors))
	}
	for _, ti := range q8.Tensors {
		got, err := out.Tensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != ti.Type || !slices.Equal(got.Shape, ti.Shape) {
			t.Errorf("tensor %s: %s %v, want %s %v", ti.Name, got.Type, got.Shape, ti.Type, ti.Shape)
			continue
		}
		a, _ := out.TensorData(ti.Name)
		b, _ := q8.TensorData(ti.Name)
		if !bytes.Equal(a, b) {
			t.Errorf("tensor %s: data differ from the llama.cpp Q8_0 model", ti.Name)
		}
	}
	if _, err := QuantizeFile(&bytes.Buffer{}, f32, TypeQ6_K, QuantizeOptions{}); err == nil {
		t.Error("QuantizeFile to Q6_K did not fail")
	}
}

// TestQuantizeQ4_0Block checks Q4_0 on blocks worked out by hand with quantize_row_q4_0_ref.
func TestQuantizeQ4_0Block(t *testing.T) {
	// x[i] = i - 16: the value of largest magnitude is -16 (first on |x| = 16), so d = 2,
	// id = 0.5, and q[i] = min(15, trunc((i-16)/2 + 8.5)) = min(15, trunc(i/2 + 0.5)).
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i - 16)
	}
	want := make([]byte, 18)
	binary.LittleEndian.PutUint16(want, F32ToF16(2))
	q := func(i int) byte { return byte(min(15, int(float64(i)/2+0.5))) }
	for j := range 16 {
		want[2+j] = q(j) | q(j+16)<<4
	}
	got, err := Quantize(TypeQ4_0, x)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Q4_0 of i-16:\n got %x\nwant %x", got, want)
	}
	// A positive extreme makes d negative: x = {8, 0, ...}: d = -1, quants 8 - x.
	x = make([]float32, 32)
	x[0], x[1], x[17] = 8, -3, 2.5
	got, _ = Quantize(TypeQ4_0, x)
	if d := F16ToF32(binary.LittleEndian.Uint16(got)); d != -1 {
		t.Errorf("d = %v, want -1", d)
	}
	// x[0]*id + 8.5 = -8 + 8.5 -> 0; x[1]: 3 + 8.5 -> 11; x[17]: -2.5 + 8.5 = 6 -> 6; zeros -> 8.
	if got[2] != 0|8<<4 || got[3] != 11|6<<4 || got[4] != 8|8<<4 {
		t.Errorf("quants %x, want 80 6b 88 ...", got[2:5])
	}
	// An all-zero block: d = 0 / -8 = -0 (f16 0x8000, as in C), id = 0, every quant 8.
	got, _ = Quantize(TypeQ4_0, make([]float32, 32))
	if !bytes.Equal(got, append([]byte{0x00, 0x80}, bytes.Repeat([]byte{0x88}, 16)...)) {
		t.Errorf("zero block: %x", got)
	}
}

// TestQuantizeRoundTrip quantises random data with Quantize, dequantises it with Dequantize,
// checks the error bound of each type, and that quantising the dequantised values gives the
// same bytes again (the scale of the block is recovered exactly from its extreme value).
func TestQuantizeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	x := make([]float32, 32*64)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3)))
	}
	for b := 0; b < 64; b += 9 { // some blocks with ties and zeros
		for j := range 32 {
			x[b*32+j] = float32(j%9-4) / 2
		}
	}
	clear(x[32*5 : 32*6])
	for _, tt := range []struct {
		typ TensorType
		// bound on |dequantised - x| in units of the block's |d| (0: relative bound instead)
		steps float64
	}{{TypeQ8_0, 0.5 + 127.0/2048}, {TypeQ4_0, 1 + 8.0/2048}, {TypeF16, 0}, {TypeBF16, 0}, {TypeF32, 0}} {
		raw, err := Quantize(tt.typ, x)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(x))
		if err := Dequantize(tt.typ, raw, y); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			var bound float64
			switch tt.typ {
			case TypeQ8_0, TypeQ4_0:
				ts := tt.typ.TypeSize()
				d := math.Abs(float64(F16ToF32(binary.LittleEndian.Uint16(raw[i/32*ts:]))))
				bound = tt.steps * d
			case TypeF16:
				bound = math.Abs(float64(x[i]))*0x1p-11 + 0x1p-25
			case TypeBF16:
				bound = math.Abs(float64(x[i])) * 0x1p-8
			}
			if diff := math.Abs(float64(y[i] - x[i])); diff > bound {
				t.Fatalf("%s: element %d: %v -> %v, error %g > %g", tt.typ, i, x[i], y[i], diff, bound)
			}
		}
		again, err := Quantize(tt.typ, y)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raw) {
			t.Errorf("%s: quantising the dequantised values changed block %d", tt.typ, firstDiff(again, raw)/tt.typ.TypeSize())
		}
	}
	if _, err := Quantize(TypeQ8_0, make([]float32, 33)); err == nil {
		t.Error("Quantize of 33 values to Q8_0 did not fail")
	}
	if _, err := Quantize(TypeQ4_K, make([]float32, 256)); err == nil {
		t.Error("Quantize to Q4_K did not fail")
	}
}

// TestQuantizeFileQ4_0 writes a Q4_0 copy of the F32 model and checks every matrix against
// the F32 weights within the Q4_0 bound, and the norm weights unchanged.
func TestQuantizeFileQ4_0(t *testing.T) {
	f32 := mustOpen(t, f32Model)
	var buf bytes.Buffer
	if _, err := QuantizeFile(&buf, f32, TypeQ4_0, QuantizeOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ft, _ := out.Uint32("general.file_type"); ft != 2 {
		t.Errorf("general.file_type = %d, want 2 (MOSTLY_Q4_0)", ft)
	}
	for _, ti := range out.Tensors {
		ref, _ := f32.Dequantize(ti.Name)
		got, err := out.Dequantize(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(ti.Shape) == 1 {
			if ti.Type != TypeF32 || !slices.Equal(got, ref) {
				t.Errorf("vector %s changed (%s)", ti.Name, ti.Type)
			}
			continue
		}
		if ti.Type != TypeQ4_0 {
			t.Errorf("matrix %s is %s, want q4_0", ti.Name, ti.Type)
			continue
		}
		raw, _ := out.TensorData(ti.Name)
		for i := range ref {
			d := math.Abs(float64(F16ToF32(binary.LittleEndian.Uint16(raw[i/32*18:]))))
			if diff := math.Abs(float64(got[i] - ref[i])); diff > (1+8.0/2048)*d {
				t.Fatalf("%s[%d]: %v -> %v (step %v)", ti.Name, i, ref[i], got[i], d)
			}
		}
	}
}

func TestF32ToBF16(t *testing.T) {
	for _, tt := range []struct {
		f    float32
		want uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {math.Float32frombits(0x3f808000), 0x3f80}, {math.Float32frombits(0x3f818000), 0x3f82},
		{math.Float32frombits(0x3f808001), 0x3f81}, {float32(math.Inf(1)), 0x7f80}, {math.Float32frombits(0x7f800001), 0x7fc0}} {
		if got := f32ToBF16(tt.f); got != tt.want {
			t.Errorf("f32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(tt.f), got, tt.want)
		}
	}
}

func mustOpen(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
