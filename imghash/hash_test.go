package imghash

import (
	"errors"
	"testing"
)

func TestHexRoundTrip(t *testing.T) {
	tests := []struct {
		hex  string
		bits int
	}{
		{"7f7f7fc744f8d050", 64},
		{"8000000000000000", 64},
		{"0000000000000000", 64},
		{"3ffffffffff", 42}, // colorhash, binbits 3: first digit holds 2 bits
		{"0b400018000", 42},
		{"1", 1},
		{"1ffffff", 25}, // hash_size 5
		{"a0a020a08a0a8a0820a28a0a20a020a08a0820a08a0a8a0a20a08a0a20a020a0", 256},
	}
	for _, tt := range tests {
		h, err := ParseHex(tt.hex, tt.bits)
		if err != nil {
			t.Errorf("ParseHex(%q, %d): %v", tt.hex, tt.bits, err)
			continue
		}
		if h.Len() != tt.bits || h.String() != tt.hex {
			t.Errorf("ParseHex(%q, %d) = %q (%d bits), want the same back", tt.hex, tt.bits, h.String(), h.Len())
		}
		// Upper case parses to the same hash.
		if u, err := ParseHex(upper(tt.hex), tt.bits); err != nil || !u.Equal(h) {
			t.Errorf("ParseHex(upper %q) = %v, %v", tt.hex, u, err)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestParseHexErrors(t *testing.T) {
	tests := []struct {
		hex  string
		bits int
	}{
		{"", 64},
		{"7f7f7fc744f8d05", 64},   // too short
		{"7f7f7fc744f8d0500", 64}, // too long
		{"7f7f7fc744f8d05g", 64},  // bad digit
		{"4ffffffffff", 42},       // pad bit set
		{"0", 0},
		{"-1", 5},
	}
	for _, tt := range tests {
		if h, err := ParseHex(tt.hex, tt.bits); err == nil {
			t.Errorf("ParseHex(%q, %d) = %v, want an error", tt.hex, tt.bits, h)
		}
	}
}

func TestParseHexSquare(t *testing.T) {
	tests := []struct {
		hex  string
		bits int
	}{
		{"7f7f7fc744f8d050", 64},
		{"1ffffff", 25},
		{"a0a020a08a0a8a0820a28a0a20a020a08a0820a08a0a8a0a20a08a0a20a020a0", 256},
	}
	for _, tt := range tests {
		h, err := ParseHexSquare(tt.hex)
		if err != nil || h.Len() != tt.bits || h.String() != tt.hex {
			t.Errorf("ParseHexSquare(%q) = %v (%d bits), %v; want %d bits", tt.hex, h, h.Len(), err, tt.bits)
		}
	}
}

func TestDistance(t *testing.T) {
	a, _ := ParseHex("7f7f7fc744f8d050", 64)
	b, _ := ParseHex("7f7f7fc744f8d051", 64)
	c, _ := ParseHex("80808038bb072faf", 64)
	tests := []struct {
		x, y Hash
		want int
	}{
		{a, a, 0}, {a, b, 1}, {a, c, 64}, {b, c, 63},
	}
	for _, tt := range tests {
		got, err := tt.x.Distance(tt.y)
		if err != nil || got != tt.want {
			t.Errorf("Distance(%v, %v) = %d, %v, want %d", tt.x, tt.y, got, err, tt.want)
		}
	}
	d, _ := ParseHex("3ffffffffff", 42)
	if _, err := a.Distance(d); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("Distance(64 bits, 42 bits) error = %v, want ErrSizeMismatch", err)
	}
}

func TestKindNames(t *testing.T) {
	for _, k := range Kinds {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v, want %v", k.String(), got, err, k)
		}
	}
	if _, err := ParseKind("ahash"); err == nil {
		t.Error("ParseKind(ahash) succeeded, want an error")
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		s  Spec
		ok bool
	}{
		{Spec{AverageHash, 8}, true}, {Spec{AverageHash, 1}, false}, {Spec{DHashVertical, 1}, true},
		{Spec{WHash, 12}, false}, {Spec{WHash, 16}, true}, {Spec{ColorHash, 0}, false},
		{Spec{ColorHash, 3}, true}, {Spec{PHash, MaxHashSize + 1}, false}, {Spec{Kind(99), 8}, false},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); (err == nil) != tt.ok {
			t.Errorf("%v.Validate() = %v, want ok=%v", tt.s, err, tt.ok)
		}
	}
}

// FuzzParseHex checks that ParseHex never panics and that what it accepts prints back the
// same (modulo case).
func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"7f7f7fc744f8d050", "3ffffffffff", "8000000000000000", "", "zz"} {
		f.Add(s, 64)
		f.Add(s, 42)
	}
	f.Fuzz(func(t *testing.T, s string, bits int) {
		if len(s) > 1<<12 {
			return
		}
		h, err := ParseHex(s, bits)
		if err != nil {
			return
		}
		if h.Len() != bits || h.String() != lower(s) {
			t.Fatalf("ParseHex(%q, %d) = %q (%d bits)", s, bits, h.String(), h.Len())
		}
		if sq, err := ParseHexSquare(s); err == nil {
			if sq.String() != lower(s) {
				t.Fatalf("ParseHexSquare(%q) = %q", s, sq.String())
			}
		}
	})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func TestSumBytes(t *testing.T) {
	b := make([]uint8, 3000)
	for i := range b {
		b[i] = uint8(255 - i%7)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1023, 1024, 1025, 2048, 3000} {
		want := 0
		for _, v := range b[:n] {
			want += int(v)
		}
		if got := sumBytes(b[:n]); got != want {
			t.Errorf("sumBytes(%d bytes) = %d, want %d", n, got, want)
		}
	}
	all := make([]uint8, 2100)
	for i := range all {
		all[i] = 255
	}
	if got := sumBytes(all); got != 255*2100 {
		t.Errorf("sumBytes(2100 x 255) = %d, want %d", got, 255*2100)
	}
}
