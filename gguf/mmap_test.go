package gguf

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestOpenMappedMatchesRead checks that a mapped File (Open) and one read through the file
// (NoMap) give the same metadata and the same tensor bytes, that TensorBytes and Float32Data
// alias the mapping where they say so, and that Close is idempotent and stops data access.
func TestOpenMappedMatchesRead(t *testing.T) {
	for _, path := range refFiles[3:] {
		t.Run(path, func(t *testing.T) {
			m, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			r, err := OpenWith(path, OpenOptions{NoMap: true})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if want := runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1"; m.Mapped() != want {
				t.Fatalf("Mapped() = %v on %s", m.Mapped(), runtime.GOOS)
			}
			if r.Mapped() || r.Bytes() != nil {
				t.Fatal("NoMap file reports a mapping")
			}
			if m.Stat() == nil || m.Stat().Size() != m.Size {
				t.Fatalf("Stat() = %v", m.Stat())
			}
			if len(m.KV) != len(r.KV) || len(m.Tensors) != len(r.Tensors) || m.DataOffset != r.DataOffset {
				t.Fatal("metadata differs between mapped and read")
			}
			for _, ti := range m.Tensors {
				mb, err := m.TensorBytes(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				rb, err := r.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mb, rb) {
					t.Fatalf("%s: mapped bytes differ from read bytes", ti.Name)
				}
				if m.Mapped() && len(mb) > 0 {
					off := m.DataOffset + int64(ti.Offset)
					if &mb[0] != &m.Bytes()[off] {
						t.Fatalf("%s: TensorBytes copied a mapped tensor", ti.Name)
					}
				}
				if ti.Type != TypeF32 {
					if _, _, err := m.Float32Data(ti.Name); !errors.Is(err, ErrUnsupportedType) {
						t.Fatalf("%s (%s): Float32Data error %v", ti.Name, ti.Type, err)
					}
					continue
				}
				mf, aliased, err := m.Float32Data(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if aliased != m.Mapped() {
					t.Fatalf("%s: aliased %v, mapped %v", ti.Name, aliased, m.Mapped())
				}
				rf, aliasedR, err := r.Float32Data(ti.Name)
				if err != nil || aliasedR {
					t.Fatalf("%s: read file: aliased %v, err %v", ti.Name, aliasedR, err)
				}
				if !slices.EqualFunc(mf, rf, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
					t.Fatalf("%s: Float32Data differs", ti.Name)
				}
			}
			name := m.Tensors[0].Name
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := m.TensorData(name); err == nil {
				t.Fatal("TensorData after Close succeeded")
			}
			if m.Mapped() {
				t.Fatal("Mapped() after Close")
			}
		})
	}
}
