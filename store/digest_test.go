package store

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDigestString(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	d := Sum([]byte("abc"))
	if got := d.String(); got != abc {
		t.Errorf("Sum(abc).String() = %s, want %s", got, abc)
	}
	if got := d.Short(); got != abc[:12] {
		t.Errorf("Short() = %s, want %s", got, abc[:12])
	}
	if d.IsZero() || !(Digest{}).IsZero() {
		t.Error("IsZero is wrong")
	}
}

func TestParseDigest(t *testing.T) {
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	tests := []struct {
		in      string
		want    Digest
		wantErr bool
	}{
		{abc, Sum([]byte("abc")), false},
		{"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Sum([]byte("abc")), false},
		{"", Digest{}, true},
		{abc[:63], Digest{}, true},
		{abc + "0", Digest{}, true},
		{abc[:63] + "g", Digest{}, true},
		{" " + abc[1:], Digest{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDigest(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrBadDigest) {
				t.Errorf("ParseDigest(%q) error = %v, want ErrBadDigest", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDigest(%q) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestDigestJSON(t *testing.T) {
	in := struct{ D Digest }{Sum([]byte("abc"))}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"D":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var out struct{ D Digest }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("json.Unmarshal = %+v, %v, want %+v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"D":"zz"}`), &out); err == nil {
		t.Error("json.Unmarshal of a bad digest succeeded")
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	f.Add("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
	f.Add("")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		back, err := ParseDigest(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDigest(%q).String() = %s does not round-trip: %v", s, d, err)
		}
	})
}
