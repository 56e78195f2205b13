package hashscan

import (
	"bytes"
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
