package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Size limits.
const (
	// DefaultMaxArtifactSize is the per-artifact limit when [Options.MaxArtifactSize] is 0.
	DefaultMaxArtifactSize = 64 << 20
	// MaxArtifactSizeLimit is the largest value [Options.MaxArtifactSize] may take.
	MaxArtifactSizeLimit = 1 << 30
	// ChunkSize is how many bytes of an artifact one bbolt value holds.
	ChunkSize = 1 << 20
	// MaxStateKey and MaxStateValue bound the node-state section.
	MaxStateKey   = 1024
	MaxStateValue = 16 << 20

	maxChunkSize       = 64 << 20 // what decodeRecord accepts from the file
	defaultLockTimeout = time.Second
	listPage           = 256 // artifacts read per transaction by Artifacts
)

// Errors callers branch on. They come back wrapped, with the digest or key in the message.
var (
	ErrNotFound = errors.New("store: not found")
	ErrTooLarge = errors.New("store: too large")
	// ErrCorrupt means the file holds bytes or records that do not match what was stored:
	// damage or tampering. The node should not serve or use the artifact.
	ErrCorrupt = errors.New("store: corrupt")
	// ErrLocked means another process holds the file open.
	ErrLocked = errors.New("store: file is locked by another process")
	ErrClosed = errors.New("store: closed")
)

// Options configure [Open]. The zero value gives the defaults.
type Options struct {
	// MaxArtifactSize bounds each artifact in bytes; 0 means DefaultMaxArtifactSize. At most
	// MaxArtifactSizeLimit.
	MaxArtifactSize int64
	// SkipVerify makes Get trust the file instead of hashing the bytes it returns.
	SkipVerify bool
	// LockTimeout is how long Open waits for another process to release the file; 0 means one
	// second.
	LockTimeout time.Duration
	// NoSync skips fsync after each transaction. Faster, but a crash can lose or damage data:
	// for tests and benchmarks only.
	NoSync bool
}

// Store is an open store file. Safe for concurrent use; see the package doc.
type Store struct {
	db      *bolt.DB
	path    string
	maxSize int64
	verify  bool
}

var (
	bucketInfo  = []byte("info")
	bucketMeta  = []byte("artifact-meta")
	bucketData  = []byte("artifact-data")
	bucketState = []byte("state")

	keySchema   = []byte("schema")
	schemaValue = []byte("genquorum-store/1")
)

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	maxSize := opts.MaxArtifactSize
	switch {
	case maxSize == 0:
		maxSize = DefaultMaxArtifactSize
	case maxSize < 0 || maxSize > MaxArtifactSizeLimit:
		return nil, fmt.Errorf("store: max artifact size %d out of range [1, %d]", maxSize, MaxArtifactSizeLimit)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: open %s: waited %v: %w", path, timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		info, err := tx.CreateBucketIfNotExists(bucketInfo)
		if err != nil {
			return err
		}
		switch v := info.Get(keySchema); {
		case v == nil:
			if err := info.Put(keySchema, schemaValue); err != nil {
				return err
			}
		case !bytes.Equal(v, schemaValue):
			return fmt.Errorf("schema %q, want %q", v, schemaValue)
		}
		for _, name := range [][]byte{bucketMeta, bucketData, bucketState} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &Store{db: db, path: path, maxSize: maxSize, verify: !opts.SkipVerify}, nil
}

// Close releases the file. Calls after Close fail with ErrClosed.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// MaxArtifactSize returns the per-artifact limit in bytes.
func (s *Store) MaxArtifactSize() int64 { return s.maxSize }

// view and update run fn in a transaction and map bbolt's closed-database error.
func (s *Store) view(fn func(tx *bolt.Tx) error) error   { return closedErr(s.db.View(fn)) }
func (s *Store) update(fn func(tx *bolt.Tx) error) error { return closedErr(s.db.Update(fn)) }

func closedErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Put stores data under its digest and returns the digest. If the digest is already stored,
// Put changes nothing (the first metadata stays) and returns the digest. Data larger than the
// store's limit fails with ErrTooLarge. ctx is checked before the write starts; a write that
// has started is not interrupted.
func (s *Store) Put(ctx context.Context, data []byte, meta ArtifactMeta) (Digest, error) {
	if int64(len(data)) > s.maxSize {
		return Digest{}, fmt.Errorf("store: artifact of %d bytes exceeds the limit of %d bytes: %w", len(data), s.maxSize, ErrTooLarge)
	}
	if err := meta.validate(); err != nil {
		return Digest{}, err
	}
	d := Sum(data)
	if err := ctx.Err(); err != nil {
		return Digest{}, fmt.Errorf("store: put %s: %w", d.Short(), err)
	}
	// A read first, so that putting a known artifact costs no write (and no fsync).
	switch ok, err := s.Has(d); {
	case err != nil:
		return Digest{}, err
	case ok:
		return d, nil
	}
	rec := record{size: int64(len(data)), chunkSize: ChunkSize, meta: meta}
	err := s.update(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if mb.Get(d[:]) != nil {
			return nil // stored by a concurrent Put since our read
		}
		db := tx.Bucket(bucketData)
		for i := range rec.chunks() {
			end := min((i+1)*ChunkSize, rec.size)
			if err := db.Put(chunkKey(d, i), data[i*ChunkSize:end]); err != nil {
				return err
			}
		}
		return mb.Put(d[:], encodeRecord(rec))
	})
	if err != nil {
		return Digest{}, fmt.Errorf("store: put %s: %w", d.Short(), err)
	}
	return d, nil
}

// chunkKey is the data-bucket key of chunk i of digest d: the digest then i as a big-endian
// uint32, so an artifact's chunks are adjacent and in order.
func chunkKey(d Digest, i int64) []byte {
	k := make([]byte, len(d)+4)
	copy(k, d[:])
	binary.BigEndian.PutUint32(k[len(d):], uint32(i))
	return k
}

// Get returns a copy of the artifact's bytes and its metadata. It fails with ErrNotFound when
// the digest is not stored, and with ErrCorrupt when the stored bytes do not hash to d.
func (s *Store) Get(d Digest) ([]byte, ArtifactMeta, error) {
	var (
		data []byte
		rec  record
	)
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(d[:])
		if v == nil {
			return ErrNotFound
		}
		var err error
		if rec, err = decodeRecord(v); err != nil {
			return err
		}
		// rec.size is at most MaxArtifactSizeLimit (decodeRecord checks it). Allocate no more
		// than the store's limit up front, in case the record is damaged; append grows it
		// for artifacts stored under a larger limit.
		data = make([]byte, 0, min(rec.size, s.maxSize))
		c := tx.Bucket(bucketData).Cursor()
		k, v := c.Seek(chunkKey(d, 0))
		for i := range rec.chunks() {
			if !bytes.Equal(k, chunkKey(d, i)) {
				return fmt.Errorf("chunk %d of %d missing: %w", i, rec.chunks(), ErrCorrupt)
			}
			if want := min(rec.chunkSize, rec.size-i*rec.chunkSize); int64(len(v)) != want {
				return fmt.Errorf("chunk %d has %d bytes, want %d: %w", i, len(v), want, ErrCorrupt)
			}
			data = append(data, v...) // copy out: v points into the mmap, valid only in tx
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return nil, ArtifactMeta{}, fmt.Errorf("store: get %s: %w", d, err)
	}
	if s.verify {
		if got := Sum(data); got != d {
			return nil, ArtifactMeta{}, fmt.Errorf("store: get %s: stored bytes hash to %s: %w", d, got, ErrCorrupt)
		}
	}
	return data, rec.meta, nil
}

// Artifact returns a copy of the artifact's bytes (see Get). It lets a *Store serve as a
// p2p.ArtifactSource.
func (s *Store) Artifact(ctx context.Context, d Digest) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get %s: %w", d, err)
	}
	data, _, err := s.Get(d)
	return data, err
}

// Has reports whether d is stored.
func (s *Store) Has(d Digest) (bool, error) {
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketMeta).Get(d[:]) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: has %s: %w", d, err)
	}
	return ok, nil
}

// Stat returns an artifact's size and metadata without reading its bytes, or ErrNotFound.
func (s *Store) Stat(d Digest) (ArtifactInfo, error) {
	var info ArtifactInfo
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(d[:])
		if v == nil {
			return ErrNotFound
		}
		rec, err := decodeRecord(v)
		info = rec.info(d)
		return err
	})
	if err != nil {
		return ArtifactInfo{}, fmt.Errorf("store: stat %s: %w", d, err)
	}
	return info, nil
}

// Delete removes an artifact. Deleting a digest that is not stored is not an error.
func (s *Store) Delete(d Digest) error {
	err := s.update(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if mb.Get(d[:]) == nil {
			return nil
		}
		if err := mb.Delete(d[:]); err != nil {
			return err
		}
		// Delete every chunk under the digest, even ones a damaged record does not count.
		// Keys are collected first: deleting under a moving cursor can skip keys in bbolt.
		db := tx.Bucket(bucketData)
		var keys [][]byte
		c := db.Cursor()
		for k, _ := c.Seek(d[:]); k != nil && bytes.HasPrefix(k, d[:]); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := db.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", d, err)
	}
	return nil
}

// Artifacts yields every stored artifact in ascending digest order. It reads a page of
// entries per short transaction, so the loop body may call any Store method (including
// Put and Delete); changes made during the loop may or may not be seen. An error ends the
// sequence with a final (zero, err) pair.
func (s *Store) Artifacts() iter.Seq2[ArtifactInfo, error] {
	return func(yield func(ArtifactInfo, error) bool) {
		var after []byte // last digest yielded; nil before the first page
		for {
			var page []ArtifactInfo
			err := s.view(func(tx *bolt.Tx) error {
				c := tx.Bucket(bucketMeta).Cursor()
				k, v := c.First()
				if after != nil {
					k, v = c.Seek(after)
					if bytes.Equal(k, after) {
						k, v = c.Next()
					}
				}
				for ; k != nil && len(page) < listPage; k, v = c.Next() {
					if len(k) != len(Digest{}) {
						return fmt.Errorf("meta key of %d bytes: %w", len(k), ErrCorrupt)
					}
					rec, err := decodeRecord(v)
					if err != nil {
						return fmt.Errorf("artifact %x: %w", k, err)
					}
					page = append(page, rec.info(Digest(k)))
				}
				return nil
			})
			if err != nil {
				yield(ArtifactInfo{}, fmt.Errorf("store: list artifacts: %w", err))
				return
			}
			for _, info := range page {
				if !yield(info, nil) {
					return
				}
			}
			if len(page) < listPage {
				return
			}
			last := page[len(page)-1].Digest
			after = last[:]
		}
	}
}
