//go:build linux

package filedigest

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// counting returns a hash function over the file at path and a counter of its calls.
func counting(t *testing.T, path string) (func() ([32]byte, error), *int) {
	n := new(int)
	return func() ([32]byte, error) {
		*n++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b), nil
	}, n
}

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestCache(t *testing.T) {
	later := func() time.Time { return time.Now().Add(time.Hour) }
	tests := []struct {
		name string
		// change modifies the file after the first (cached) digest; nil leaves it.
		change   func(t *testing.T, path string)
		now      func() time.Time
		wantHits int // hits among the second call
	}{
		{name: "unchanged file hits", now: later, wantHits: 1},
		{name: "fresh file is not cached", now: time.Now, wantHits: 0},
		{name: "appended file misses", now: later, change: func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("more"))
			f.Close()
		}},
		{name: "same-size rewrite with mtime put back misses", now: later, change: func(t *testing.T, p string) {
			before := stat(t, p)
			old, _ := IdentityOf(before)
			// Rewrite until the kernel's clock has ticked (ctime differs): a condition, not a sleep.
			for i := 0; ; i++ {
				if err := os.WriteFile(p, []byte("hello, world!!"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, before.ModTime(), before.ModTime()); err != nil {
					t.Fatal(err)
				}
				if id, _ := IdentityOf(stat(t, p)); id.CtimeNs != old.CtimeNs {
					if id.MtimeNs != old.MtimeNs || id.Size != old.Size {
						t.Fatalf("mtime or size not put back: %+v vs %+v", id, old)
					}
					return
				}
			}
		}},
		{name: "file replaced by rename misses", now: later, change: func(t *testing.T, p string) {
			q := p + ".new"
			if err := os.WriteFile(q, []byte("hello, world!?"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(q, p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "model.gguf")
			if err := os.WriteFile(p, []byte("hello, world!\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c := &Cache{Dir: filepath.Join(dir, "cache"), Now: tt.now}
			h, calls := counting(t, p)
			d1, hit, err := c.SHA256(stat(t, p), h)
			if err != nil || hit || *calls != 1 {
				t.Fatalf("first call: hit %v, calls %d, err %v", hit, *calls, err)
			}
			if tt.change != nil {
				tt.change(t, p)
			}
			h2, calls2 := counting(t, p)
			d2, hit, err := c.SHA256(stat(t, p), h2)
			if err != nil {
				t.Fatal(err)
			}
			if got := map[bool]int{true: 1}[hit]; got != tt.wantHits {
				t.Fatalf("second call: hit %v, want %d hits", hit, tt.wantHits)
			}
			b, _ := os.ReadFile(p)
			if want := sha256.Sum256(b); d2 != want {
				t.Fatalf("digest %x, want %x of the file's current bytes", d2, want)
			}
			if hit && *calls2 != 0 || !hit && *calls2 != 1 {
				t.Fatalf("hash called %d times on hit=%v", *calls2, hit)
			}
			if tt.change == nil && d1 != d2 {
				t.Fatal("digest changed for an unchanged file")
			}
		})
	}
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("x"), 0o644)
	fi := stat(t, p)
	id, _ := IdentityOf(fi)
	c := &Cache{Dir: filepath.Join(dir, "c"), Now: func() time.Time { return time.Now().Add(time.Hour) }}
	os.MkdirAll(c.Dir, 0o755)
	for _, junk := range []string{"", "sha256:zz", "sha256:" + string(make([]byte, 64)), "md5:00"} {
		os.WriteFile(filepath.Join(c.Dir, id.key()), []byte(junk), 0o644)
		h, calls := counting(t, p)
		d, hit, err := c.SHA256(fi, h)
		if err != nil || hit || *calls != 1 || d != sha256.Sum256([]byte("x")) {
			t.Fatalf("entry %q: hit %v calls %d err %v", junk, hit, *calls, err)
		}
	}
}

func TestNilCacheAlwaysHashes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("x"), 0o644)
	var c *Cache
	for range 2 {
		h, calls := counting(t, p)
		if _, hit, err := c.SHA256(stat(t, p), h); err != nil || hit || *calls != 1 {
			t.Fatalf("nil cache: hit %v calls %d err %v", hit, *calls, err)
		}
	}
}

func TestDefaultOff(t *testing.T) {
	t.Setenv(EnvCache, "off")
	if Default() != nil {
		t.Fatal("GENQUORUM_DIGEST_CACHE=off should disable the cache")
	}
	t.Setenv(EnvCache, "/x/y")
	if c := Default(); c == nil || c.Dir != "/x/y" {
		t.Fatalf("Default() = %+v", c)
	}
}
