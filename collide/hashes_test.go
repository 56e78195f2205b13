package collide

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestAppendHex(t *testing.T) {
	tests := []struct {
		bits  int
		hex   string
		want  []uint64
		fails bool
	}{
		{64, "ffd8b0b0f0e0c080", []uint64{0xffd8b0b0f0e0c080}, false},
		{64, "FFD8B0B0F0E0C080", []uint64{0xffd8b0b0f0e0c080}, false},
		{64, "ffd8b0b0f0e0c08", nil, true},   // short
		{64, "ffd8b0b0f0e0c0800", nil, true}, // long
		{64, "ffd8b0b0f0e0c08g", nil, true},  // not hex
		{64, "ffd8b0b0f0e0c08 ", nil, true},
		{44, "3f00001c000", []uint64{0x3f00001c000}, false}, // a colour hash (42 bits in 11 digits)
		{42, "3f00001c000", []uint64{0x3f00001c000}, false},
		{42, "4f00001c000", nil, true}, // bit 42 set
		{256, strings.Repeat("0", 15) + "1" + strings.Repeat("f", 16) + strings.Repeat("0", 31) + "a",
			[]uint64{1, ^uint64(0), 0, 0xa}, false},
		{8, "a5", []uint64{0xa5}, false},
		{1, "1", []uint64{1}, false},
		{1, "2", nil, true},
	}
	for _, tt := range tests {
		s := NewSet(tt.bits)
		err := s.AppendHex(tt.hex)
		if tt.fails {
			if !errors.Is(err, ErrHex) || s.Len() != 0 {
				t.Errorf("AppendHex(%d bits, %q) = %v, len %d; want ErrHex and no hash", tt.bits, tt.hex, err, s.Len())
			}
			continue
		}
		if err != nil || s.Len() != 1 || !slices.Equal(s.At(0), tt.want) {
			t.Errorf("AppendHex(%d bits, %q): err %v, hash %x; want %x", tt.bits, tt.hex, err, s.At(0), tt.want)
		}
	}
}

// FuzzAppendHex checks that AppendHex either rejects the text, leaving the set unchanged, or
// stores a hash that prints back to the same text (ignoring case). Seeds: the hex column of
// the imagehash conformance vectors.
func FuzzAppendHex(f *testing.F) {
	data, err := os.ReadFile("../testdata/imagehash/vectors.tsv")
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, line := range lines[1:] {
		cols := strings.Split(line, "\t")
		f.Add(4*len(cols[3]), cols[3])
	}
	f.Add(64, "zz")
	f.Fuzz(func(t *testing.T, bits int, hex string) {
		if bits < 1 || bits > MaxBits {
			return
		}
		s := NewSet(bits)
		s.Append(make([]uint64, s.Words())...)
		if err := s.AppendHex(hex); err != nil {
			if !errors.Is(err, ErrHex) || s.Len() != 1 {
				t.Fatalf("AppendHex(%d, %q) = %v with %d hashes", bits, hex, err, s.Len())
			}
			return
		}
		if got := formatHex(s.At(1), bits); got != strings.ToLower(hex) {
			t.Fatalf("AppendHex(%d, %q) stored %s", bits, hex, got)
		}
		if s.Distance(0, 1) > bits {
			t.Fatalf("AppendHex(%d, %q): %d bits set", bits, hex, s.Distance(0, 1))
		}
	})
}

// formatHex writes a hash as AppendHex reads it.
func formatHex(h []uint64, bits int) string {
	const digits = "0123456789abcdef"
	n := (bits + 3) / 4
	b := make([]byte, n)
	for k := range n {
		bit := 4 * k
		b[n-1-k] = digits[(h[len(h)-1-bit/64]>>(bit%64))&0xf]
	}
	return string(b)
}
