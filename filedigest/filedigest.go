// Package filedigest computes the SHA-256 of model files and caches it by the file's identity,
// so that a process that loads a model it has loaded before need not read every byte again.
//
// # When the cache is trusted
//
// An entry is keyed by the identity of the open file as the kernel reports it (fstat of the
// descriptor whose bytes are used): device, inode, size, modification time and status-change
// time (ctime), all in nanoseconds. Any write to the file changes its mtime and ctime; moving
// another file into its place changes the inode; touching the mtime back does not restore the
// ctime, which no unprivileged call can set. So a changed file misses the cache and is hashed
// again. One race remains with any timestamp key: a file rewritten twice within one tick of
// the file system's clock keeps the same key. As git does for its index, an entry is written
// only for a file whose mtime and ctime are at least [Settle] older than the clock at hashing
// time, so a file still being written is hashed on every load until it has settled.
//
// Identity is only read where the ctime is available (Linux); elsewhere every call hashes.
//
// # Where
//
// Entries are small files under $GENQUORUM_DIGEST_CACHE, or the user cache directory
// (os.UserCacheDir, e.g. ~/.cache/genquorum/digests); GENQUORUM_DIGEST_CACHE=off disables the
// cache. Entries are written atomically (temporary file, then rename); a failure to write is
// ignored (the digest is simply computed again next time); an unreadable or malformed entry
// counts as a miss.
package filedigest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Settle is how long a file must have stayed unchanged before its digest is cached.
const Settle = 2 * time.Second

// EnvCache names the environment variable that overrides the cache directory ("off" disables).
const EnvCache = "GENQUORUM_DIGEST_CACHE"

// Identity is what the cache keys a digest by.
type Identity struct {
	Dev, Ino         uint64
	Size             int64
	MtimeNs, CtimeNs int64
}

func (id Identity) key() string {
	return fmt.Sprintf("%x-%x-%d-%d-%d", id.Dev, id.Ino, id.Size, id.MtimeNs, id.CtimeNs)
}

// IdentityOf returns the identity in fi (from os.File.Stat or os.Stat), and false where the
// platform does not report all of it.
func IdentityOf(fi os.FileInfo) (Identity, bool) { return identityOf(fi) }

// Cache is a directory of digests. A nil *Cache caches nothing.
type Cache struct {
	Dir string
	// Now is the clock of the settle rule; nil means time.Now.
	Now func() time.Time
}

// Default returns the cache described in the package doc, or nil when it is disabled or no
// cache directory is known.
func Default() *Cache {
	dir := os.Getenv(EnvCache)
	switch {
	case strings.EqualFold(dir, "off"):
		return nil
	case dir == "":
		base, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(base, "genquorum", "digests")
	}
	return &Cache{Dir: dir}
}

// SHA256 returns the digest of the file described by fi: from the cache when an entry for its
// identity exists, otherwise from hash (which must hash exactly the bytes of that open file),
// storing the result when the file has settled. cached reports a hit.
func (c *Cache) SHA256(fi os.FileInfo, hash func() ([32]byte, error)) (d [32]byte, cached bool, err error) {
	id, ok := identityOf(fi)
	if c == nil || fi == nil || !ok {
		d, err = hash()
		return d, false, err
	}
	path := filepath.Join(c.Dir, id.key())
	if b, err := os.ReadFile(path); err == nil {
		if s, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "sha256:"); ok && len(s) == 64 {
			if n, err := hex.Decode(d[:], []byte(s)); err == nil && n == 32 {
				return d, true, nil
			}
		}
	}
	if d, err = hash(); err != nil {
		return d, false, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if t := now(); t.UnixNano()-max(id.MtimeNs, id.CtimeNs) >= int64(Settle) {
		c.store(path, d)
	}
	return d, false, nil
}

func (c *Cache) store(path string, d [32]byte) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := fmt.Fprintf(tmp, "sha256:%x\n", d)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// Reader returns a hash function for SHA256 that reads size bytes from r.
func Reader(r io.ReaderAt, size int64) func() ([32]byte, error) {
	return func() ([32]byte, error) {
		var d [32]byte
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
			return d, fmt.Errorf("filedigest: %w", err)
		}
		h.Sum(d[:0])
		return d, nil
	}
}

// Bytes returns a hash function for SHA256 over b (a mapped file).
func Bytes(b []byte) func() ([32]byte, error) {
	return func() ([32]byte, error) { return sha256.Sum256(b), nil }
}
