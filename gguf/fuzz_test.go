package gguf

import (
	"bytes"
	"os"
	"testing"
)

// FuzzRead checks that Read never panics or over-allocates, and that whatever it accepts can
// be written back and read again to the same bytes.
func FuzzRead(f *testing.F) {
	f.Add(smallFile())
	for _, path := range refFiles[:3] {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:4096])
	}
	var buf bytes.Buffer
	Write(&buf, []KV{{"a", Array{TypeArray, []Array{{TypeString, []string{"x"}}}}}, {"general.alignment", uint32(8)}},
		[]WriterTensor{{Name: "q", Shape: []uint64{32, 1}, Type: TypeQ4_0, Data: make([]byte, 18)}})
	f.Add(buf.Bytes())
	lim := &Limits{MaxStringLen: 1 << 16, MaxArrayLen: 1 << 16, MaxKVs: 1 << 10, MaxTensors: 1 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Read(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		var wts []WriterTensor
		for _, ti := range g.Tensors {
			b, err := g.TensorData(ti.Name)
			if err != nil {
				t.Fatalf("TensorData(%q) of an accepted file: %v", ti.Name, err)
			}
			if CanDequantize(ti.Type) {
				if _, err := g.Dequantize(ti.Name); err != nil {
					t.Fatalf("Dequantize(%q) of an accepted file: %v", ti.Name, err)
				}
			}
			wts = append(wts, WriterTensor{Name: ti.Name, Shape: ti.Shape, Type: ti.Type, Data: b})
		}
		var w1, w2 bytes.Buffer
		if err := Write(&w1, g.KV, wts); err != nil {
			t.Fatalf("Write of an accepted file: %v", err)
		}
		h, err := Read(bytes.NewReader(w1.Bytes()), int64(w1.Len()), lim)
		if err != nil {
			t.Fatalf("Read of a written file: %v", err)
		}
		if err := Write(&w2, h.KV, wts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatal("write, read, write changed the bytes")
		}
	})
}
