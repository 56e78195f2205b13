package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenVerifiedRefusesTruncatedSmallStore: a small store (a node's after a few blocks: a
// handful of pages) cut to half its length. bbolt opens such a file, and the store's first
// write grows it back over the hole with zeros, so the loss was silent before checkLength.
func TestOpenVerifiedRefusesTruncatedSmallStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "small.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("job/001", []byte(`{"salt":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, []byte("an artifact"), ArtifactMeta{MediaType: "text/plain", Height: 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	used := UsedBytes(t, path)
	t.Logf("file %d bytes, pages in use %d bytes", len(b), used)
	cut := used / 2 / 4096 * 4096
	if err := os.WriteFile(path, b[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = OpenVerified(ctx, path, Options{LockTimeout: 100e6})
	if err == nil {
		s.Close()
		t.Fatalf("store cut from %d to %d bytes opened", len(b), cut)
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %q: want it to say the file was truncated", err)
	}
}
