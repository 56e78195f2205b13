package hashscan

import (
	"bytes"
	"errors"
	"testing"

	"github.com/genquorum/genquorum/imghash"
)

func TestWriteRow(t *testing.T) {
	h, err := imghash.ParseHex("ff00ff00ff00ff00", 64)
	if err != nil {
		t.Skipf("imghash.ParseHex: %v", err)
	}
	s := imghash.Spec{Kind: imghash.AverageHash, Size: 8}
	tests := []struct{ format, file, want string }{
		{"tsv", "a.png", "a.png\taverage_hash\t8\tff00ff00ff00ff00\n"},
		{"tsv", "odd\tname\\.png", "odd\\tname\\\\.png\taverage_hash\t8\tff00ff00ff00ff00\n"},
		{"json", "a.png", `{"file":"a.png","hash_name":"average_hash","hash_size_or_binbits":8,"hex":"ff00ff00ff00ff00"}` + "\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := WriteRow(&buf, tt.format, tt.file, s, h); err != nil || buf.String() != tt.want {
			t.Errorf("WriteRow(%s, %q) = %q, %v; want %q", tt.format, tt.file, buf.String(), err, tt.want)
		}
	}
}

func TestWriteResults(t *testing.T) {
	h8, _ := imghash.ParseHex("ff00ff00ff00ff00", 64)
	hc, _ := imghash.ParseHex("0b400018000", 42)
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.ColorHash, Size: 3}}
	res := []Result{{File: "a.png", Hashes: []imghash.Hash{h8, hc}}, {File: "bad.png", Err: errors.New("truncated")},
		{File: "c.png", Hashes: []imghash.Hash{h8, hc}}}
	tests := []struct{ format, want string }{
		{"tsv", ResultsHeader + "a.png\taverage_hash\t8\tff00ff00ff00ff00\na.png\tcolorhash\t3\t0b400018000\n" +
			"c.png\taverage_hash\t8\tff00ff00ff00ff00\nc.png\tcolorhash\t3\t0b400018000\n"},
		{"json", `{"file":"a.png","hash_name":"average_hash","hash_size_or_binbits":8,"hex":"ff00ff00ff00ff00"}` + "\n" +
			`{"file":"a.png","hash_name":"colorhash","hash_size_or_binbits":3,"hex":"0b400018000"}` + "\n" +
			`{"file":"c.png","hash_name":"average_hash","hash_size_or_binbits":8,"hex":"ff00ff00ff00ff00"}` + "\n" +
			`{"file":"c.png","hash_name":"colorhash","hash_size_or_binbits":3,"hex":"0b400018000"}` + "\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := WriteResults(&buf, tt.format, res, specs); err != nil || buf.String() != tt.want {
			t.Errorf("WriteResults(%s) = %q, %v; want %q", tt.format, buf.String(), err, tt.want)
		}
	}
}

func TestDistances(t *testing.T) {
	a, _ := imghash.ParseHex("ff00ff00ff00ff00", 64)
	b, _ := imghash.ParseHex("ff00ff00ff00ff0f", 64)
	s := []imghash.Spec{{Kind: imghash.PHash, Size: 8}}
	ds, err := Distances(s, []imghash.Hash{a}, []imghash.Hash{b})
	if err != nil || len(ds) != 1 || ds[0] != (Distance{"phash", 8, 4, 64}) {
		t.Fatalf("Distances = %v, %v; want phash 8 at 4 of 64 bits", ds, err)
	}
	short, _ := imghash.ParseHex("ff", 8)
	if _, err := Distances(s, []imghash.Hash{a}, []imghash.Hash{short}); err == nil {
		t.Errorf("Distances of a 64-bit and an 8-bit hash: no error")
	}
	tests := []struct{ format, want string }{
		{"tsv", DistancesHeader + "phash\t8\t4\t64\n"},
		{"json", `{"hash_name":"phash","hash_size_or_binbits":8,"hamming_distance":4,"bits":64}` + "\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := WriteDistances(&buf, tt.format, ds); err != nil || buf.String() != tt.want {
			t.Errorf("WriteDistances(%s) = %q, %v; want %q", tt.format, buf.String(), err, tt.want)
		}
	}
}
