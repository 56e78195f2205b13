package gguf

import (
	"errors"
	"fmt"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF version this package reads and writes.
const Version = 3

// DefaultAlignment is the data alignment used when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims is the largest tensor rank ggml supports (GGML_MAX_DIMS).
const MaxDims = 4

// Errors callers can branch on with errors.Is.
var (
	// ErrFormat marks every structural problem of a file: bad magic, truncation, bad types,
	// tensors outside the file, and so on.
	ErrFormat = errors.New("gguf: invalid file")
	// ErrLimit marks a file that exceeds a configured Limits value.
	ErrLimit = errors.New("gguf: limit exceeded")
	// ErrKeyNotFound is returned by the typed metadata accessors for a missing key.
	ErrKeyNotFound = errors.New("gguf: key not found")
	// ErrTensorNotFound is returned for a tensor name the file does not have.
	ErrTensorNotFound = errors.New("gguf: tensor not found")
	// ErrUnsupportedType is returned when dequantising a tensor type this package cannot decode.
	ErrUnsupportedType = errors.New("gguf: unsupported tensor type")
)

// FormatError describes a structural problem at a byte offset of the file. It matches
// ErrFormat (or ErrLimit when Limit is set) with errors.Is.
type FormatError struct {
	Offset int64  // byte offset in the file where the problem was found
	Msg    string // what is wrong, lower case
	Limit  bool   // the problem is an exceeded Limits value
}

// Error returns the message with the byte offset it applies to.
func (e *FormatError) Error() string {
	return fmt.Sprintf("gguf: %s (at byte %d)", e.Msg, e.Offset)
}

// Is reports whether target is ErrFormat, or ErrLimit for a limit error.
func (e *FormatError) Is(target error) bool {
	if e.Limit {
		return target == ErrLimit
	}
	return target == ErrFormat
}

// TypeError reports a metadata value whose type does not suit the accessor used.
type TypeError struct {
	Key  string
	Have ValueType // the stored type (for arrays, TypeArray)
	Want string    // what the accessor needed
}

// Error names the key, its type and the type wanted.
func (e *TypeError) Error() string {
	return fmt.Sprintf("gguf: key %q has type %s, want %s", e.Key, e.Have, e.Want)
}

// ValueType is the type tag of a metadata value (gguf_type in ggml).
type ValueType uint32

// Metadata value types, numbered as in the GGUF specification.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the type's name in the GGUF specification (uint8, string, array, ...), or
// ValueType(N) for an unknown tag.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// size returns the encoded size of a fixed-size value type, or 0 for string and array.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Array is an array metadata value. Values is a typed slice matching Type: []uint8, []int8,
// []uint16, []int16, []uint32, []int32, []float32, []bool, []string, []uint64, []int64,
// []float64, or []Array for nested arrays.
type Array struct {
	Type   ValueType
	Values any
}

// Len returns the number of elements.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// KV is one metadata entry. Value's dynamic type fixes the GGUF type (see the package doc).
type KV struct {
	Key   string
	Value any
}

// valueTypeOf returns the GGUF type of a Go metadata value.
func valueTypeOf(v any) (ValueType, bool) {
	switch v.(type) {
	case uint8:
		return TypeUint8, true
	case int8:
		return TypeInt8, true
	case uint16:
		return TypeUint16, true
	case int16:
		return TypeInt16, true
	case uint32:
		return TypeUint32, true
	case int32:
		return TypeInt32, true
	case float32:
		return TypeFloat32, true
	case bool:
		return TypeBool, true
	case string:
		return TypeString, true
	case Array:
		return TypeArray, true
	case uint64:
		return TypeUint64, true
	case int64:
		return TypeInt64, true
	case float64:
		return TypeFloat64, true
	}
	return 0, false
}

// TensorType is a ggml element type (enum ggml_type).
type TensorType uint32

// Tensor types, numbered as in ggml.h. Only those with a dequantiser are listed by name in
// the package doc; the others can be read as bytes.
const (
	TypeF32     TensorType = 0
	TypeF16     TensorType = 1
	TypeQ4_0    TensorType = 2
	TypeQ4_1    TensorType = 3
	TypeQ5_0    TensorType = 6
	TypeQ5_1    TensorType = 7
	TypeQ8_0    TensorType = 8
	TypeQ8_1    TensorType = 9
	TypeQ2_K    TensorType = 10
	TypeQ3_K    TensorType = 11
	TypeQ4_K    TensorType = 12
	TypeQ5_K    TensorType = 13
	TypeQ6_K    TensorType = 14
	TypeQ8_K    TensorType = 15
	TypeIQ2_XXS TensorType = 16
	TypeIQ2_XS  TensorType = 17
	TypeIQ3_XXS TensorType = 18
	TypeIQ1_S   TensorType = 19
	TypeIQ4_NL  TensorType = 20
	TypeIQ3_S   TensorType = 21
	TypeIQ2_S   TensorType = 22
	TypeIQ4_XS  TensorType = 23
	TypeI8      TensorType = 24
	TypeI16     TensorType = 25
	TypeI32     TensorType = 26
	TypeI64     TensorType = 27
	TypeF64     TensorType = 28
	TypeIQ1_M   TensorType = 29
	TypeBF16    TensorType = 30
	TypeTQ1_0   TensorType = 34
	TypeTQ2_0   TensorType = 35
)

type typeTraits struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
}

// traits lists every ggml type whose layout is known, from ggml.c's type_traits.
var traits = map[TensorType]typeTraits{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeQ4_0:    {"Q4_0", 32, 18},
	TypeQ4_1:    {"Q4_1", 32, 20},
	TypeQ5_0:    {"Q5_0", 32, 22},
	TypeQ5_1:    {"Q5_1", 32, 24},
	TypeQ8_0:    {"Q8_0", 32, 34},
	TypeQ8_1:    {"Q8_1", 32, 36},
	TypeQ2_K:    {"Q2_K", 256, 84},
	TypeQ3_K:    {"Q3_K", 256, 110},
	TypeQ4_K:    {"Q4_K", 256, 144},
	TypeQ5_K:    {"Q5_K", 256, 176},
	TypeQ6_K:    {"Q6_K", 256, 210},
	TypeQ8_K:    {"Q8_K", 256, 292},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66},
	TypeIQ2_XS:  {"IQ2_XS", 256, 74},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98},
	TypeIQ1_S:   {"IQ1_S", 256, 50},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18},
	TypeIQ3_S:   {"IQ3_S", 256, 110},
	TypeIQ2_S:   {"IQ2_S", 256, 82},
	TypeIQ4_XS:  {"IQ4_XS", 256, 136},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeF64:     {"F64", 1, 8},
	TypeIQ1_M:   {"IQ1_M", 256, 56},
	TypeBF16:    {"BF16", 1, 2},
	TypeTQ1_0:   {"TQ1_0", 256, 54},
	TypeTQ2_0:   {"TQ2_0", 256, 66},
}

// Known reports whether the layout (block and type size) of t is known.
func (t TensorType) Known() bool {
	_, ok := traits[t]
	return ok
}

// String returns ggml's name of the type (F32, Q8_0, ...), or TensorType(N) for an unknown
// one.
func (t TensorType) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("TensorType(%d)", uint32(t))
}

// BlockSize returns the number of elements per block (1 for unquantised types), or 0 for an
// unknown type.
func (t TensorType) BlockSize() int { return traits[t].blockSize }

// TypeSize returns the number of bytes per block, or 0 for an unknown type.
func (t TensorType) TypeSize() int { return traits[t].typeSize }

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name string
	// Shape in GGUF/ggml order: Shape[0] = ne[0] is the contiguous (row) dimension.
	Shape []uint64
	Type  TensorType
	// Offset of the tensor's data, relative to the start of the data section.
	Offset uint64
}

// NumElements returns the product of the shape (1 for rank 0).
func (ti TensorInfo) NumElements() uint64 {
	n := uint64(1)
	for _, d := range ti.Shape {
		n *= d
	}
	return n
}

// Size returns the size in bytes of the tensor's data.
func (ti TensorInfo) Size() uint64 {
	tr := traits[ti.Type]
	if tr.blockSize == 0 {
		return 0
	}
	return ti.NumElements() / uint64(tr.blockSize) * uint64(tr.typeSize)
}
