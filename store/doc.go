// Package store is a node's local, crash-safe state: a content-addressed artifact store and a
// small key/value section for the node's own bookkeeping, both in one bbolt file.
//
// # Artifacts
//
// An artifact (an image, a text record, a checkpoint) is stored under its [Digest], the
// SHA-256 of its bytes. The store does not read artifacts: what the bytes mean is the
// caller's business (package node stores a text task's text together with its token ids, as
// a fingerprint.TextRecord, so that the token fingerprint can be recomputed). [Store.Put] computes the digest itself, so nothing can be stored under a
// digest that does not match its bytes; putting the same bytes twice is a no-op and keeps the
// first [ArtifactMeta]. [Store.Get] hashes the bytes it reads again and reports [ErrCorrupt] if
// the file was damaged or edited behind the store's back (unless [Options.SkipVerify]).
//
// Artifacts larger than [Options.MaxArtifactSize] (default [DefaultMaxArtifactSize], 64 MiB)
// are refused with [ErrTooLarge]. Bytes are kept in chunks of [ChunkSize] so that bbolt never
// needs one huge contiguous run of pages for a value.
//
// Metadata holds no wall-clock time: an artifact's age is the block height of the task that
// made it ([ArtifactMeta.Height]).
//
// # Node state
//
// [Store.PutState], [Store.State], [Store.States] and [Store.WriteState] keep small values under
// string keys: the last processed height, and above all the salt and fingerprint a node has
// committed to and must reveal later, across restarts. Keys are ordered bytewise, so a prefix
// like "pending/" groups related entries for [Store.States].
//
// # Crash safety and concurrency
//
// Every mutating call (Put, Delete, PutState, DeleteState, WriteState) is exactly one bbolt
// read-write transaction: after a crash the file holds either all of its effects or none. A
// transaction returns only after bbolt has written and fsynced the file, so a value returned as
// stored survives a power loss, unless [Options.NoSync] is set (tests and benchmarks only).
// [Store.WriteState] applies several state changes atomically.
//
// A *Store is safe for concurrent use. bbolt admits one writer at a time and any number of
// readers; readers see a consistent snapshot. Only one process can open a file at a time: a
// second [Open] waits [Options.LockTimeout] and then fails with [ErrLocked].
//
// Returned byte slices are fresh copies owned by the caller. Put and PutState do not retain the
// slices passed to them.
//
// # Use
//
//	s, err := store.Open(filepath.Join(home, "node.db"), store.Options{})
//	if err != nil { ... }
//	defer s.Close()
//	d, err := s.Put(ctx, png, store.ArtifactMeta{MediaType: "image/png", TaskID: id, Height: h})
//	...
//	data, meta, err := s.Get(d) // errors.Is(err, store.ErrNotFound) when absent
//
// *Store also has the method Artifact(ctx, digest) that p2p.ArtifactSource asks for, so a
// store can be served to other nodes directly.
package store
