package p2p

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/store"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// goldenResponses are wire responses pinned in testdata/: changing their bytes breaks old
// peers, so it needs a new ProtocolID, not a new golden file.
var goldenResponses = []struct {
	file    string
	status  byte
	data    []byte
	wantErr error
}{
	{"response-ok-abc.bin", statusOK, []byte("abc"), nil},
	{"response-ok-empty.bin", statusOK, []byte{}, nil},
	{"response-not-found.bin", statusNotFound, nil, ErrNotFound},
	{"response-too-large.bin", statusTooLarge, nil, ErrTooLarge},
	{"response-busy.bin", statusBusy, nil, ErrBusy},
	{"response-error.bin", statusError, nil, ErrRemote},
}

func TestResponseGolden(t *testing.T) {
	for _, g := range goldenResponses {
		var buf bytes.Buffer
		if err := writeResponse(&buf, g.status, g.data); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("writeResponse(%d, %q) = %x, want %x (%s)", g.status, g.data, buf.Bytes(), want, path)
		}
		got, err := readResponse(bytes.NewReader(want), 1<<20)
		if !errors.Is(err, g.wantErr) || (g.wantErr == nil && !bytes.Equal(got, g.data)) {
			t.Errorf("readResponse(%s) = %q, %v, want %q, %v", path, got, err, g.data, g.wantErr)
		}
	}
}

func TestReadRequest(t *testing.T) {
	d := store.Sum([]byte("abc"))
	got, err := readRequest(bytes.NewReader(d[:]))
	if err != nil || got != d {
		t.Errorf("readRequest(digest) = %s, %v, want %s", got, err, d)
	}
	if _, err := readRequest(bytes.NewReader(d[:31])); err == nil {
		t.Error("readRequest of 31 bytes succeeded")
	}
}

func FuzzReadResponse(f *testing.F) {
	for _, g := range goldenResponses {
		b, err := os.ReadFile(filepath.Join("testdata", g.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(16))
	}
	f.Add([]byte{statusOK, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, int64(1<<20))
	f.Fuzz(func(t *testing.T, b []byte, maxSize int64) {
		if maxSize < 0 || maxSize > 1<<20 {
			return
		}
		data, err := readResponse(bytes.NewReader(b), maxSize)
		if err != nil {
			return
		}
		if int64(len(data)) > maxSize {
			t.Fatalf("readResponse returned %d bytes over the limit %d", len(data), maxSize)
		}
		// A response that parses is exactly one well-formed response.
		var buf bytes.Buffer
		writeResponse(&buf, statusOK, data)
		if !bytes.Equal(buf.Bytes(), b) {
			t.Errorf("readResponse accepted %x, which is not the encoding %x of what it returned", b, buf.Bytes())
		}
	})
}
