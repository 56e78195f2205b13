package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// WriterTensor is one tensor to write: its name, shape (GGUF order), type and raw data,
// which must be exactly the tensor's size in bytes.
type WriterTensor struct {
	Name  string
	Shape []uint64
	Type  TensorType
	Data  []byte
}

// Write writes a GGUF v3 file with the metadata kvs and the tensors, in the given order. The
// alignment is taken from a general.alignment entry of kvs (uint32) or DefaultAlignment;
// tensor data is laid out contiguously, each tensor padded with zero bytes to the alignment,
// as llama.cpp's gguf-py does.
func Write(w io.Writer, kvs []KV, tensors []WriterTensor) error {
	align := uint64(DefaultAlignment)
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		if seen[kv.Key] {
			return fmt.Errorf("gguf: write: duplicate key %q", kv.Key)
		}
		seen[kv.Key] = true
		if kv.Key == "general.alignment" {
			a, ok := kv.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("gguf: write: general.alignment must be a uint32 power of two, have %v", kv.Value)
			}
			align = uint64(a)
		}
	}
	offsets := make([]uint64, len(tensors))
	var off uint64
	names := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		if names[t.Name] {
			return fmt.Errorf("gguf: write: duplicate tensor %q", t.Name)
		}
		names[t.Name] = true
		if !t.Type.Known() {
			return fmt.Errorf("gguf: write: tensor %q: unknown type %d", t.Name, uint32(t.Type))
		}
		if len(t.Shape) > MaxDims {
			return fmt.Errorf("gguf: write: tensor %q has %d dimensions, at most %d allowed", t.Name, len(t.Shape), MaxDims)
		}
		ti := TensorInfo{Name: t.Name, Shape: t.Shape, Type: t.Type}
		if len(t.Shape) == 0 && t.Type.BlockSize() != 1 {
			return fmt.Errorf("gguf: write: tensor %q: a scalar cannot have the block type %s", t.Name, t.Type)
		}
		if len(t.Shape) > 0 && t.Shape[0]%uint64(t.Type.BlockSize()) != 0 {
			return fmt.Errorf("gguf: write: tensor %q: row length %d is not a multiple of the block size %d",
				t.Name, t.Shape[0], t.Type.BlockSize())
		}
		if uint64(len(t.Data)) != ti.Size() {
			return fmt.Errorf("gguf: write: tensor %q: have %d bytes of data, shape and type need %d", t.Name, len(t.Data), ti.Size())
		}
		offsets[i] = off
		off = alignUp(off+uint64(len(t.Data)), align)
	}

	bw := &binWriter{w: bufio.NewWriterSize(w, 1<<16)}
	bw.bytes([]byte(Magic))
	bw.u32(Version)
	bw.u64(uint64(len(tensors)))
	bw.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		bw.str(kv.Key)
		if err := bw.value(kv.Value, true); err != nil {
			return fmt.Errorf("gguf: write: key %q: %w", kv.Key, err)
		}
	}
	for i, t := range tensors {
		bw.str(t.Name)
		bw.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			bw.u64(d)
		}
		bw.u32(uint32(t.Type))
		bw.u64(offsets[i])
	}
	if len(tensors) > 0 {
		bw.pad(align) // vocab-only files written by gguf-py end right after the metadata
	}
	for _, t := range tensors {
		bw.bytes(t.Data)
		bw.pad(align)
	}
	if bw.err != nil {
		return fmt.Errorf("gguf: write: %w", bw.err)
	}
	if err := bw.w.Flush(); err != nil {
		return fmt.Errorf("gguf: write: %w", err)
	}
	return nil
}

type binWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
	buf [8]byte
}

func (b *binWriter) bytes(p []byte) {
	if b.err != nil {
		return
	}
	_, b.err = b.w.Write(p)
	b.n += uint64(len(p))
}

func (b *binWriter) u8(v uint8) { b.buf[0] = v; b.bytes(b.buf[:1]) }
func (b *binWriter) u16(v uint16) {
	binary.LittleEndian.PutUint16(b.buf[:], v)
	b.bytes(b.buf[:2])
}
func (b *binWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(b.buf[:], v)
	b.bytes(b.buf[:4])
}
func (b *binWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(b.buf[:], v)
	b.bytes(b.buf[:8])
}
func (b *binWriter) str(s string) {
	b.u64(uint64(len(s)))
	b.bytes([]byte(s))
}
func (b *binWriter) pad(align uint64) {
	var zero [64]byte
	for n := alignUp(b.n, align) - b.n; n > 0; {
		k := min(n, uint64(len(zero)))
		b.bytes(zero[:k])
		n -= k
	}
}

// value writes v, preceded by its type tag if tagged.
func (b *binWriter) value(v any, tagged bool) error {
	t, ok := valueTypeOf(v)
	if !ok {
		return fmt.Errorf("unsupported value type %T", v)
	}
	if tagged {
		b.u32(uint32(t))
	}
	switch x := v.(type) {
	case uint8:
		b.u8(x)
	case int8:
		b.u8(uint8(x))
	case uint16:
		b.u16(x)
	case int16:
		b.u16(uint16(x))
	case uint32:
		b.u32(x)
	case int32:
		b.u32(uint32(x))
	case float32:
		b.u32(math.Float32bits(x))
	case bool:
		if x {
			b.u8(1)
		} else {
			b.u8(0)
		}
	case string:
		b.str(x)
	case uint64:
		b.u64(x)
	case int64:
		b.u64(uint64(x))
	case float64:
		b.u64(math.Float64bits(x))
	case Array:
		return b.array(x)
	}
	return nil
}

func (b *binWriter) array(a Array) error {
	b.u32(uint32(a.Type))
	b.u64(uint64(a.Len()))
	check := func(want ValueType) error {
		if a.Type != want {
			return fmt.Errorf("array type %s holds %T", a.Type, a.Values)
		}
		return nil
	}
	switch x := a.Values.(type) {
	case []uint8:
		if err := check(TypeUint8); err != nil {
			return err
		}
		b.bytes(x)
		return nil
	case []int8:
		if err := check(TypeInt8); err != nil {
			return err
		}
		for _, v := range x {
			b.u8(uint8(v))
		}
		return nil
	case []Array:
		if err := check(TypeArray); err != nil {
			return err
		}
		for _, v := range x {
			if err := b.array(v); err != nil {
				return err
			}
		}
		return nil
	}
	// The remaining slice types go element by element through value.
	var err error
	each := func(want ValueType, n int, at func(int) any) {
		if err = check(want); err != nil {
			return
		}
		for i := range n {
			if err = b.value(at(i), false); err != nil {
				return
			}
		}
	}
	switch x := a.Values.(type) {
	case []uint16:
		each(TypeUint16, len(x), func(i int) any { return x[i] })
	case []int16:
		each(TypeInt16, len(x), func(i int) any { return x[i] })
	case []uint32:
		each(TypeUint32, len(x), func(i int) any { return x[i] })
	case []int32:
		each(TypeInt32, len(x), func(i int) any { return x[i] })
	case []float32:
		each(TypeFloat32, len(x), func(i int) any { return x[i] })
	case []bool:
		each(TypeBool, len(x), func(i int) any { return x[i] })
	case []string:
		each(TypeString, len(x), func(i int) any { return x[i] })
	case []uint64:
		each(TypeUint64, len(x), func(i int) any { return x[i] })
	case []int64:
		each(TypeInt64, len(x), func(i int) any { return x[i] })
	case []float64:
		each(TypeFloat64, len(x), func(i int) any { return x[i] })
	default:
		return fmt.Errorf("unsupported array values %T", a.Values)
	}
	return err
}
