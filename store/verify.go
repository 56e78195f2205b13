package store

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// OpenVerified opens the store file at path like Open, and refuses a damaged one: an existing
// empty file (bbolt would silently start a new, empty store in it), a file bbolt cannot open,
// or one in which Verify finds damage. Panics and memory faults inside bbolt while reading a
// damaged file are turned into errors wrapping ErrCorrupt. Errors name the file and what to
// do about it.
func OpenVerified(ctx context.Context, path string, opts Options) (s *Store, err error) {
	if fi, serr := os.Stat(path); serr == nil && fi.Size() == 0 {
		return nil, damaged(path, "the file is empty")
	}
	defer func() {
		if r := recover(); r != nil {
			if s != nil {
				s.db.Close()
			}
			s, err = nil, damaged(path, fmt.Sprint(r))
		}
	}()
	old := debug.SetPanicOnFault(true) // a truncated mmap faults: make it a panic we recover
	defer debug.SetPanicOnFault(old)
	if err := checkLength(path, opts); err != nil {
		return nil, err
	}
	s, err = Open(path, opts)
	if err != nil {
		return nil, damaged(path, err.Error())
	}
	if err := s.Verify(ctx); err != nil {
		s.db.Close()
		return nil, damaged(path, err.Error())
	}
	return s, nil
}

// checkLength refuses a file shorter than its own high-water mark (the pages bbolt's newest
// meta page says are in use): the tail was cut off. It reads the file read-only, before Open's
// first write transaction could grow the file back over the hole and hide the loss. A file
// truncated only in its unused tail is intact and passes. Missing files pass (Open creates
// them); errors bbolt reports here are left to Open, which reports them with the same words.
func checkLength(path string, opts Options) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return nil
	}
	defer db.Close()
	var used int64
	if err := db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		return nil
	}
	if fi.Size() < used {
		return damaged(path, fmt.Sprintf("the file is %d bytes but its pages in use reach %d bytes: it was truncated", fi.Size(), used))
	}
	return nil
}

// damaged formats the error of a store that cannot be used.
func damaged(path, what string) error {
	return fmt.Errorf("%w: %s: %s; the node will not guess: restore the file from a backup, or move it away "+
		"to start with an empty store (its artifacts and saved openings are lost; the node reconciles "+
		"with the chain and reveals nothing it cannot open)", ErrCorrupt, path, what)
}

// Verify reads the whole file: every page of every bucket through bbolt (keys in order, page
// links), every record's encoding, and every artifact's bytes against its digest. It reports
// the first damage found, wrapping ErrCorrupt; a panic inside bbolt (a damaged page) is
// returned as an error.
func (s *Store) Verify(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketInfo, bucketMeta, bucketData, bucketState} {
			b := tx.Bucket(name)
			if b == nil {
				return fmt.Errorf("%w: bucket %q missing", ErrCorrupt, name)
			}
			var prev []byte
			if err := b.ForEach(func(k, v []byte) error {
				if prev != nil && string(k) <= string(prev) {
					return fmt.Errorf("%w: bucket %q: keys out of order", ErrCorrupt, name)
				}
				prev = append(prev[:0], k...)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return closedErr(err)
	}
	for info, err := range s.Artifacts() {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, _, err := s.Get(info.Digest); err != nil {
			return fmt.Errorf("artifact %s: %w", info.Digest.Short(), err)
		}
	}
	return nil
}
