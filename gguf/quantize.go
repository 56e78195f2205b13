package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// CanQuantize reports whether Quantize can write t.
func CanQuantize(t TensorType) bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0, TypeQ4_0:
		return true
	}
	return false
}

// Quantize encodes src (a whole number of t's blocks) as raw tensor data of type t, exactly as
// llama.cpp's reference quantizers do (ggml-quants.c, quantize_row_q8_0_ref and
// quantize_row_q4_0_ref, which llama-quantize uses without an importance matrix, and which
// gguf-py's quants.py reproduces):
//
//   - Q8_0, per block of 32: amax = max |x|; d = amax / 127; id = 1/d (0 when d is 0); the
//     scale is stored as FP16(d) (round to nearest even) and each quant is roundf(x*id), i.e.
//     rounded half away from zero, all in float32.
//   - Q4_0, per block of 32: m = the value of largest magnitude (the first one on ties, sign
//     kept); d = m / -8; id = 1/d (0 when d is 0); the scale is FP16(d) and each quant is
//     min(15, int8(x*id + 8.5)) (truncation), element j in the low nibble of byte j and element
//     j+16 in its high nibble.
//   - F16 rounds to nearest even, BF16 rounds to nearest even (ggml_compute_fp32_to_bf16: NaN
//     kept quiet), F32 copies.
//
// Note that the scale is computed from float32 d, but the data are dequantised with FP16(d),
// as in llama.cpp.
func Quantize(t TensorType, src []float32) ([]byte, error) {
	if !CanQuantize(t) {
		return nil, fmt.Errorf("%w %s: no quantizer", ErrUnsupportedType, t)
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	if len(src)%bs != 0 {
		return nil, fmt.Errorf("gguf: quantize: %d elements are not a whole number of %s blocks of %d", len(src), t, bs)
	}
	out := make([]byte, len(src)/bs*ts)
	le := binary.LittleEndian
	switch t {
	case TypeF32:
		for i, v := range src {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case TypeF16:
		for i, v := range src {
			le.PutUint16(out[2*i:], F32ToF16(v))
		}
	case TypeBF16:
		for i, v := range src {
			le.PutUint16(out[2*i:], f32ToBF16(v))
		}
	case TypeQ8_0:
		for b := range len(src) / 32 {
			quantizeBlockQ8_0(src[b*32:b*32+32], out[b*34:b*34+34])
		}
	case TypeQ4_0:
		for b := range len(src) / 32 {
			quantizeBlockQ4_0(src[b*32:b*32+32], out[b*18:b*18+18])
		}
	}
	return out, nil
}

// quantizeBlockQ8_0 is quantize_row_q8_0_ref for one block: x has 32 values, blk 34 bytes.
func quantizeBlockQ8_0(x []float32, blk []byte) {
	var amax float32
	for _, v := range x {
		amax = max32(amax, abs32(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(blk, F32ToF16(d))
	for j, v := range x {
		blk[2+j] = byte(int8(roundf(v * id)))
	}
}

// quantizeBlockQ4_0 is quantize_row_q4_0_ref for one block: x has 32 values, blk 18 bytes.
func quantizeBlockQ4_0(x []float32, blk []byte) {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, mx = a, v
		}
	}
	d := mx / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(blk, F32ToF16(d))
	for j := range 16 {
		x0 := x[j] * id
		x1 := x[16+j] * id
		xi0 := uint8(min(15, int8(x0+8.5)))
		xi1 := uint8(min(15, int8(x1+8.5)))
		blk[2+j] = xi0 | xi1<<4
	}
}

// abs32 is fabsf.
func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// max32 is C's MAX(a, b) = a > b ? a : b (a NaN b gives b; NaN a gives b), as ggml's MAX.
func max32(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

// roundf rounds half away from zero, as C's roundf. Values too large for an int8 wrap as C's
// conversion does on x86-64 for the in-range cases llama.cpp produces (|x*id| <= 127 up to
// rounding).
func roundf(v float32) int32 {
	r := math.Round(float64(v))
	if r != r {
		return 0
	}
	return int32(max(math.MinInt32, min(math.MaxInt32, r)))
}

// f32ToBF16 is ggml_compute_fp32_to_bf16: round to nearest even, NaN forced quiet.
func f32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16 | 64)
	}
	return uint16((u + (0x7fff + (u >> 16 & 1))) >> 16)
}

// file_type values of general.file_type (llama_ftype) for whole-file quantizations.
const (
	fileTypeF32  = 0
	fileTypeF16  = 1
	fileTypeQ4_0 = 2
	fileTypeQ8_0 = 7
	fileTypeBF16 = 32
)

// FileType returns the general.file_type (llama.cpp's llama_ftype) of a file whose weight
// matrices are all of type t: 0 F32, 1 F16, 2 Q4_0, 7 Q8_0, 32 BF16; false for other types.
func FileType(t TensorType) (uint32, bool) {
	switch t {
	case TypeF32:
		return fileTypeF32, true
	case TypeF16:
		return fileTypeF16, true
	case TypeQ4_0:
		return fileTypeQ4_0, true
	case TypeQ8_0:
		return fileTypeQ8_0, true
	case TypeBF16:
		return fileTypeBF16, true
	}
	return 0, false
}

// QuantizeOptions configure QuantizeFile.
type QuantizeOptions struct {
	// Name, when set, replaces general.name.
	Name string
	// Keep lists tensors kept in their source type (e.g. "output.weight" for a higher-quality
	// output layer); the default quantizes every weight matrix, as llama-quantize --pure does.
	Keep []string
}

// QuantizeFile writes to w a copy of src whose weight matrices (tensors named "*.weight" with
// at least two dimensions and a row length divisible by t's block size) are dequantised and
// re-quantised to t with Quantize; other tensors (norm weights, vectors) are copied as they are,
// like llama-quantize --pure. general.file_type is set to t's file type and
// general.quantization_version to 2 (ggml's GGML_QNT_VERSION); every other metadata entry is
// copied in order. It returns the names of the tensors it quantised.
func QuantizeFile(w io.Writer, src *File, t TensorType, opts QuantizeOptions) ([]string, error) {
	ft, ok := FileType(t)
	if !ok || !CanQuantize(t) {
		return nil, fmt.Errorf("%w %s: cannot quantize a file to it", ErrUnsupportedType, t)
	}
	kvs := make([]KV, 0, len(src.KV)+2)
	seen := map[string]bool{}
	for _, kv := range src.KV {
		switch kv.Key {
		case "general.file_type":
			kv.Value = ft
		case "general.quantization_version":
			kv.Value = uint32(2)
		case "general.name":
			if opts.Name != "" {
				kv.Value = opts.Name
			}
		}
		seen[kv.Key] = true
		kvs = append(kvs, kv)
	}
	if !seen["general.name"] && opts.Name != "" {
		kvs = append(kvs, KV{Key: "general.name", Value: opts.Name})
	}
	if !seen["general.file_type"] {
		kvs = append(kvs, KV{Key: "general.file_type", Value: ft})
	}
	if !seen["general.quantization_version"] {
		kvs = append(kvs, KV{Key: "general.quantization_version", Value: uint32(2)})
	}
	var tensors []WriterTensor
	var quantised []string
	for _, ti := range src.Tensors {
		raw, err := src.TensorData(ti.Name)
		if err != nil {
			return nil, err
		}
		wt := WriterTensor{Name: ti.Name, Shape: ti.Shape, Type: ti.Type, Data: raw}
		if len(ti.Shape) >= 2 && strings.HasSuffix(ti.Name, ".weight") && ti.Shape[0]%uint64(t.BlockSize()) == 0 &&
			!slices.Contains(opts.Keep, ti.Name) && ti.Type != t {
			x, err := src.Dequantize(ti.Name)
			if err != nil {
				return nil, fmt.Errorf("gguf: quantize %q: %w", ti.Name, err)
			}
			if wt.Data, err = Quantize(t, x); err != nil {
				return nil, fmt.Errorf("gguf: quantize %q: %w", ti.Name, err)
			}
			wt.Type = t
			quantised = append(quantised, ti.Name)
		}
		tensors = append(tensors, wt)
	}
	if err := Write(w, kvs, tensors); err != nil {
		return nil, err
	}
	return quantised, nil
}
