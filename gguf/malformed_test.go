package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// raw builds GGUF bytes field by field, so tests can write what Write refuses to.
type raw struct{ bytes.Buffer }

func (r *raw) u32(v uint32) *raw { binary.Write(&r.Buffer, binary.LittleEndian, v); return r }
func (r *raw) u64(v uint64) *raw { binary.Write(&r.Buffer, binary.LittleEndian, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }
func (r *raw) header(nTensors, nKV uint64) *raw {
	r.WriteString("GGUF")
	return r.u32(3).u64(nTensors).u64(nKV)
}
func (r *raw) tensor(name string, shape []uint64, typ uint32, off uint64) *raw {
	r.str(name).u32(uint32(len(shape)))
	for _, d := range shape {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}
func (r *raw) pad(n int) *raw { r.Write(make([]byte, n)); return r }

// smallFile is a valid file: one string key and one F32 tensor of 4 values.
func smallFile() []byte {
	var r raw
	r.header(1, 1).str("general.name").u32(uint32(TypeString)).str("tiny")
	r.tensor("blk.0.attn_q.weight", []uint64{4}, uint32(TypeF32), 0)
	r.pad(int(alignUp(uint64(r.Len()), 32)) - r.Len())
	r.pad(16)
	return r.Bytes()
}

func TestMalformed(t *testing.T) {
	good := smallFile()
	if _, err := Read(bytes.NewReader(good), int64(len(good)), nil); err != nil {
		t.Fatalf("small file: %v", err)
	}
	build := func(f func(r *raw)) []byte { var r raw; f(&r); return r.Bytes() }
	tests := []struct {
		name  string
		data  []byte
		lim   *Limits
		want  string
		limit bool // errors.Is(err, ErrLimit) rather than ErrFormat
	}{
		{"empty", nil, nil, "unexpected end of file", false},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), nil, `bad magic "GGML"`, false},
		{"version 2", build(func(r *raw) { r.WriteString("GGUF"); r.u32(2).u64(0).u64(0) }), nil, "unsupported version 2", false},
		{"truncated", good[:len(good)-1], nil, `tensor "blk.0.attn_q.weight" extends past end of file`, false},
		{"too many tensors", build(func(r *raw) { r.header(1<<40, 0) }), nil, "tensor count 1099511627776 exceeds limit", true},
		{"too many keys", build(func(r *raw) { r.header(0, 1<<40) }), nil, "metadata count 1099511627776 exceeds limit", true},
		{"counts do not fit", build(func(r *raw) { r.header(1000, 1000) }), nil, "cannot fit", false},
		{"huge string", build(func(r *raw) { r.header(0, 1).u64(1 << 62).pad(16) }), nil, "string length 4611686018427387904 exceeds limit", true},
		{"string past eof", build(func(r *raw) { r.header(0, 1).u64(100).pad(16) }), nil, "string length 100 extends past end of file", false},
		{"unknown value type", build(func(r *raw) { r.header(0, 1).str("k").u32(13).pad(8) }), nil, `key "k": unknown value type 13`, false},
		{"bad bool", build(func(r *raw) { r.header(0, 1).str("k").u32(uint32(TypeBool)); r.WriteByte(2) }), nil, "bool value 2", false},
		{"huge array", build(func(r *raw) { r.header(0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint8)).u64(1 << 40) }), nil, "array length 1099511627776 exceeds limit", true},
		{"array past eof", build(func(r *raw) { r.header(0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeInt32)).u64(10).pad(8) }), nil, "array of 10 int32 extends past end of file", false},
		{"array limit", build(func(r *raw) { r.header(0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint8)).u64(10).pad(10) }), &Limits{MaxArrayLen: 5}, "array length 10 exceeds limit 5", true},
		{"nested too deep", build(func(r *raw) {
			r.header(0, 1).str("k").u32(uint32(TypeArray))
			for range 5 {
				r.u32(uint32(TypeArray)).u64(1)
			}
			r.pad(16)
		}), nil, "arrays nested deeper than 4", true},
		{"duplicate key", build(func(r *raw) {
			r.header(0, 2).str("k").u32(uint32(TypeUint32)).u32(1).str("k").u32(uint32(TypeUint32)).u32(1)
		}), nil, `duplicate key "k"`, false},
		{"alignment not uint32", build(func(r *raw) { r.header(0, 1).str("general.alignment").u32(uint32(TypeUint64)).u64(32).pad(24) }), nil, "general.alignment has type uint64", false},
		{"alignment not power of two", build(func(r *raw) { r.header(0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(48).pad(24) }), nil, "not a power of two", false},
		{"five dims", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1, 1, 1, 1, 1}, 0, 0).pad(64) }), nil, `tensor "t" has 5 dimensions`, false},
		{"unknown tensor type", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1}, 4, 0).pad(64) }), nil, `tensor "t": unknown tensor type 4`, false},
		{"partial block", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{16}, uint32(TypeQ8_0), 0).pad(64) }), nil, "row length 16 is not a multiple of the Q8_0 block size 32", false},
		{"quantised scalar", build(func(r *raw) { r.header(1, 0).tensor("t", nil, uint32(TypeQ4_0), 0).pad(64) }), nil, "a scalar cannot have the block type Q4_0", false},
		{"element overflow", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1 << 32, 1 << 32}, 0, 0).pad(64) }), nil, "element count overflows", false},
		{"byte size overflow", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1 << 31, 1 << 31}, 0, 0).pad(64) }), nil, "byte size overflows", false},
		{"misaligned offset", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1}, 0, 4).pad(64) }), nil, "offset 4 is not a multiple of the alignment 32", false},
		{"offset past eof", build(func(r *raw) { r.header(1, 0).tensor("t", []uint64{1}, 0, 1<<40).pad(64) }), nil, `tensor "t" extends past end of file`, false},
		{"duplicate tensor", build(func(r *raw) { r.header(2, 0).tensor("t", []uint64{1}, 0, 0).tensor("t", []uint64{1}, 0, 32).pad(128) }), nil, `duplicate tensor name "t"`, false},
		{"array length overflow with huge limits", build(func(r *raw) {
			r.header(0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint64)).u64(1<<61 + 1).pad(16)
		}), &Limits{MaxArrayLen: 1 << 62}, "extends past end of file", false},
		{"counts overflow with huge limits", build(func(r *raw) { r.header(1<<60, 1<<60).pad(64) }),
			&Limits{MaxKVs: 1 << 62, MaxTensors: 1 << 62}, "cannot fit", false},
		{"tensor limit", good, &Limits{MaxTensors: 0, MaxKVs: 0, MaxStringLen: 3}, "exceeds limit 3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data), int64(len(tt.data)), tt.lim)
			if err == nil {
				t.Fatalf("Read succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "gguf: ") {
				t.Errorf("Read error = %q, want prefix \"gguf: \"", err)
			}
			sentinel := ErrFormat
			if tt.limit {
				sentinel = ErrLimit
			}
			if !errors.Is(err, sentinel) {
				t.Errorf("Read error = %q, want errors.Is(err, %v)", err, sentinel)
			}
		})
	}
}

// TestTruncations reads every prefix of a small file and of a vocabulary's header: all but the
// whole file must fail cleanly.
func TestTruncations(t *testing.T) {
	good := smallFile()
	for n := range len(good) {
		if _, err := Read(bytes.NewReader(good[:n]), int64(n), nil); err == nil {
			t.Errorf("Read of the first %d of %d bytes succeeded", n, len(good))
		}
	}
	vocab, err := os.ReadFile("../testdata/llamacpp/vocab/ggml-vocab-llama-spm.gguf")
	if err != nil {
		t.Fatal(err)
	}
	rng := newRand()
	for range 20 {
		n := rng.IntN(len(vocab))
		if _, err := Read(bytes.NewReader(vocab[:n]), int64(n), nil); err == nil {
			t.Errorf("Read of the first %d of %d bytes of the vocabulary succeeded", n, len(vocab))
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("no-such-file.gguf"); err == nil || !strings.HasPrefix(err.Error(), "gguf: ") {
		t.Errorf("Open(missing) error = %v", err)
	}
	_, err := Open("../testdata/llamacpp/tokens.tsv")
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "bad magic") {
		t.Errorf("Open(tokens.tsv) error = %v, want bad magic", err)
	}
}
