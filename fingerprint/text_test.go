package fingerprint

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/engine"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// goldenTextRecords are encodings pinned in testdata/textrecord/: nodes reveal the SHA-256 of
// these bytes, so changing the encoding needs a new version byte, not a new golden file.
var goldenTextRecords = []struct {
	file string
	rec  TextRecord
}{
	{"empty.bin", TextRecord{Text: []byte{}, Tokens: []int32{}}},
	{"hello.bin", TextRecord{Text: []byte(" Hello world"), Tokens: []int32{15043, 3186}}},
	// Byte tokens can end a generation in the middle of a UTF-8 sequence: the text is kept as is.
	{"partial-utf8.bin", TextRecord{Text: []byte("caf\xc3"), Tokens: []int32{5777, 30195, 0, math.MaxInt32}}},
}

func TestTextRecordGolden(t *testing.T) {
	for _, g := range goldenTextRecords {
		t.Run(g.file, func(t *testing.T) {
			b, err := g.rec.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "textrecord", g.file)
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("MarshalBinary(%+v) = %x, want %x (%s)", g.rec, b, want, path)
			}
			var got TextRecord
			if err := got.UnmarshalBinary(want); err != nil {
				t.Fatalf("UnmarshalBinary(%s): %v", path, err)
			}
			if !bytes.Equal(got.Text, g.rec.Text) || !slices.Equal(got.Tokens, g.rec.Tokens) {
				t.Errorf("UnmarshalBinary(%s) = %+v, want %+v", path, got, g.rec)
			}
			if !bytes.Equal(got.Fingerprint(), OfTokens(g.rec.Tokens)) {
				t.Errorf("decoded record's fingerprint differs from OfTokens of the original ids")
			}
		})
	}
}

func TestTextRecordLayout(t *testing.T) {
	b, err := TextRecord{Text: []byte("hi"), Tokens: []int32{1, 258}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "47515452" + "01" + "00000002" + "00000001" + "00000102" + "00000002" + "6869"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoding = %s, want %s", got, want)
	}
}

func TestTextRecordRejects(t *testing.T) {
	valid, err := TextRecord{Text: []byte("hi"), Tokens: []int32{1, 258}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", valid[:12]},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"version 2", edit(func(b []byte) []byte { b[4] = 2; return b })},
		{"more ids than bytes", edit(func(b []byte) []byte { b[5] = 0x40; return b })},
		{"huge id count", edit(func(b []byte) []byte { copy(b[5:9], []byte{0xff, 0xff, 0xff, 0xff}); return b })},
		{"negative id", edit(func(b []byte) []byte { b[13] = 0x80; return b })},
		{"text longer than left", edit(func(b []byte) []byte { b[len(b)-3] = 3; return b })},
		{"text shorter than left", edit(func(b []byte) []byte { b[len(b)-3] = 1; return b })},
		{"trailing byte", append(bytes.Clone(valid), 0)},
		{"truncated text", valid[:len(valid)-1]},
	}
	for _, tt := range tests {
		var r TextRecord
		if err := r.UnmarshalBinary(tt.b); !errors.Is(err, ErrTextRecord) {
			t.Errorf("%s: UnmarshalBinary(%x) = %v, want ErrTextRecord", tt.name, tt.b, err)
		}
	}
	if _, err := (TextRecord{Tokens: []int32{3, -1}}).MarshalBinary(); !errors.Is(err, ErrTextRecord) {
		t.Errorf("MarshalBinary with a negative id: %v, want ErrTextRecord", err)
	}
}

// TestTextRecordTamperedIDs checks that changing any one id of a record changes its
// fingerprint, while the text stays the same: the text cannot vouch for the ids.
func TestTextRecordTamperedIDs(t *testing.T) {
	honest := TextRecord{Text: []byte(" Hello world"), Tokens: []int32{15043, 3186, 29889}}
	for i := range honest.Tokens {
		tampered := TextRecord{Text: honest.Text, Tokens: slices.Clone(honest.Tokens)}
		tampered.Tokens[i]++
		b, err := tampered.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got TextRecord
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got.Fingerprint(), honest.Fingerprint()) {
			t.Errorf("id %d changed, fingerprint unchanged", i)
		}
	}
}

func TestOfTextRecord(t *testing.T) {
	rec := TextRecord{Text: []byte(" Hello world"), Tokens: []int32{15043, 3186}}
	b, err := rec.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fromRecord, err := Of(&engine.Artifact{MediaType: MediaTypeTextRecord, Data: b}, TokenScheme, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromEngine, err := Of(&engine.Artifact{MediaType: engine.MediaTypeTokens, Data: rec.Text, Tokens: rec.Tokens}, TokenScheme, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromRecord, fromEngine) {
		t.Errorf("Of(text record) = %x, Of(engine artifact) = %x", fromRecord, fromEngine)
	}
	if _, err := Of(&engine.Artifact{MediaType: MediaTypeTextRecord, Data: b[:len(b)-1]}, TokenScheme, Options{}); !errors.Is(err, ErrTextRecord) {
		t.Errorf("Of(truncated text record) = %v, want ErrTextRecord", err)
	}
}

func FuzzTextRecord(f *testing.F) {
	for _, g := range goldenTextRecords {
		b, err := os.ReadFile(filepath.Join("testdata", "textrecord", g.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("GQTR\x01\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r TextRecord
		if err := r.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrTextRecord) {
				t.Fatalf("UnmarshalBinary error %v does not wrap ErrTextRecord", err)
			}
			return
		}
		if 4*len(r.Tokens)+len(r.Text) > len(b) {
			t.Fatalf("decoded %d ids and %d bytes of text from %d bytes", len(r.Tokens), len(r.Text), len(b))
		}
		// A record that decodes is exactly one canonical encoding.
		again, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded record: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Errorf("UnmarshalBinary accepted %x, which is not the encoding %x of what it returned", b, again)
		}
	})
}

// BenchmarkTextRecord measures what a fetcher spends on a text record: decode, then
// recompute the token fingerprint.
func BenchmarkTextRecord(b *testing.B) {
	for _, n := range []int{256, 4096} {
		rec := TextRecord{Text: bytes.Repeat([]byte("word "), n), Tokens: make([]int32, n)}
		for i := range rec.Tokens {
			rec.Tokens[i] = int32(i * 7919 % 32000)
		}
		enc, err := rec.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("DecodeFingerprint%dIDs", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				var r TextRecord
				if err := r.UnmarshalBinary(enc); err != nil {
					b.Fatal(err)
				}
				r.Fingerprint()
			}
		})
	}
}
