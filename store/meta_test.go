package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestRecordGolden pins the on-disk record encoding: a change would make existing store files
// unreadable, so it needs a new schema version, not a new golden file.
func TestRecordGolden(t *testing.T) {
	rec := record{
		size:      8<<20 + 3,
		chunkSize: ChunkSize,
		meta:      ArtifactMeta{MediaType: "image/png", TaskID: "task-42", Height: 1234},
	}
	got := hex.EncodeToString(encodeRecord(rec)) + "\n"
	path := filepath.Join("testdata", "record-v1.hex")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("encodeRecord = %s, want %s (from %s)", got, want, path)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(want)))
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeRecord(b)
	if err != nil || back != rec {
		t.Errorf("decodeRecord(golden) = %+v, %v, want %+v", back, err, rec)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	good := encodeRecord(record{size: 10, chunkSize: ChunkSize, meta: ArtifactMeta{MediaType: "a", TaskID: "b"}})
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"header only", good[:recordHeaderSize]},
		{"version 2", edit(func(b []byte) []byte { b[0] = 2; return b })},
		{"size over the hard limit", edit(func(b []byte) []byte { b[1] = 0x80; return b })},
		{"zero chunk size", edit(func(b []byte) []byte { copy(b[9:13], []byte{0, 0, 0, 0}); return b })},
		{"chunk size too large", edit(func(b []byte) []byte { copy(b[9:13], []byte{0xff, 0, 0, 0}); return b })},
		{"string length past end", edit(func(b []byte) []byte { b[22] = 200; return b })},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"task id truncated", good[:len(good)-1]},
	}
	for _, tt := range tests {
		if _, err := decodeRecord(tt.in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeRecord(%s) error = %v, want ErrCorrupt", tt.name, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "record-v1.hex"))
	if err != nil {
		f.Fatal(err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(golden)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(encodeRecord(record{chunkSize: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecord(b)
		if err != nil {
			return
		}
		if rec.size < 0 || rec.size > MaxArtifactSizeLimit || rec.chunkSize <= 0 {
			t.Fatalf("decodeRecord accepted out-of-range record %+v", rec)
		}
		if again := encodeRecord(rec); !bytes.Equal(again, b) {
			t.Errorf("decodeRecord then encodeRecord = %x, want %x", again, b)
		}
	})
}
