package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestOpenVerifiedRefusesDamage: damaged store files (header pages, data pages, truncation,
// an emptied file) are each refused with ErrCorrupt and an error naming the file, without a
// panic; an intact file opens.
func TestOpenVerifiedRefusesDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		data := []byte(strings.Repeat(fmt.Sprintf("artifact %d ", i), 300))
		if _, err := s.Put(ctx, data, ArtifactMeta{MediaType: "text/plain", Height: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutState(fmt.Sprintf("job/%03d", i), []byte(`{"salt":"x"}`)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	used := UsedBytes(t, good)
	cases := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"header pages zeroed", func(b []byte) []byte {
			clear(b[:2*page])
			return b
		}},
		{"data pages: 64 bytes flipped per page", func(b []byte) []byte {
			for p := 2 * page; p+page <= len(b); p += page {
				for i := 100; i < 164; i++ {
					b[p+i] ^= 0xff
				}
			}
			return b
		}},
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty file", func([]byte) []byte { return nil }},
		// One page short of the pages in use: bbolt alone would open it and grow the file back
		// over the hole.
		{"last page in use cut off", func(b []byte) []byte { return b[:used-page] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			if err := os.WriteFile(path, c.damage(append([]byte(nil), orig...)), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := OpenVerified(ctx, path, Options{LockTimeout: 100e6})
			if err == nil {
				s.Close()
				t.Fatal("damaged store opened")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want ErrCorrupt, naming the file, on one line", err)
			}
		})
	}
	s, err = OpenVerified(ctx, good, Options{})
	if err != nil {
		t.Fatalf("intact store: %v", err)
	}
	s.Close()
	// Cutting only the unused tail (bbolt grows files ahead of use) loses nothing: it opens.
	if int64(len(orig)) > used {
		tail := filepath.Join(t.TempDir(), "tail.db")
		if err := os.WriteFile(tail, orig[:used], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenVerified(ctx, tail, Options{})
		if err != nil {
			t.Fatalf("store cut at its high-water mark: %v", err)
		}
		s.Close()
	}
}

// UsedBytes is the size of the pages in use in the bbolt file at path (its high-water mark).
func UsedBytes(t testing.TB, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var used int64
	if err := db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return used
}
