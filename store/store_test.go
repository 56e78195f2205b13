package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a fresh store in a temporary directory; it is closed when the test ends.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "node.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// randomBytes returns n seeded pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPutGetRoundTrip(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	tests := []struct {
		name string
		size int
		meta ArtifactMeta
	}{
		{"empty", 0, ArtifactMeta{}},
		{"one byte", 1, ArtifactMeta{MediaType: "application/octet-stream"}},
		{"just under a chunk", ChunkSize - 1, ArtifactMeta{TaskID: "t1", Height: 7}},
		{"one chunk", ChunkSize, ArtifactMeta{MediaType: "image/png", TaskID: "t2", Height: 1 << 40}},
		{"one chunk and a byte", ChunkSize + 1, ArtifactMeta{Height: -1}},
		{"8 MiB", 8 << 20, ArtifactMeta{MediaType: "image/png", TaskID: "task-8"}},
		{"long strings", 100, ArtifactMeta{MediaType: string(bytes.Repeat([]byte("m"), MaxMetaString)), TaskID: string(bytes.Repeat([]byte("t"), MaxMetaString))}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := randomBytes(uint64(i), tt.size)
			d, err := s.Put(t.Context(), data, tt.meta)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if want := Sum(data); d != want {
				t.Errorf("Put = %s, want %s", d, want)
			}
			got, meta, err := s.Get(d)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(data))
			}
			if meta != tt.meta {
				t.Errorf("Get meta = %+v, want %+v", meta, tt.meta)
			}
			info, err := s.Stat(d)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if want := (ArtifactInfo{Digest: d, Size: int64(tt.size), Meta: tt.meta}); info != want {
				t.Errorf("Stat = %+v, want %+v", info, want)
			}
			if ok, err := s.Has(d); !ok || err != nil {
				t.Errorf("Has = %v, %v, want true, nil", ok, err)
			}
		})
	}
}

func TestGetReturnsCopy(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	data := []byte("hello artifact")
	d, err := s.Put(t.Context(), data, ArtifactMeta{})
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // Put must not have kept the caller's slice
	got, _, err := s.Get(d)
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'Y' // the caller owns what Get returns
	again, _, err := s.Get(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != "hello artifact" {
		t.Errorf("Get after mutations = %q, want %q", again, "hello artifact")
	}
}

func TestPutIdempotent(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	data := randomBytes(1, 3*ChunkSize+5)
	first := ArtifactMeta{MediaType: "image/png", TaskID: "first", Height: 1}
	d1, err := s.Put(t.Context(), data, first)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.Put(t.Context(), data, ArtifactMeta{TaskID: "second", Height: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("second Put = %s, want %s", d2, d1)
	}
	_, meta, err := s.Get(d1)
	if err != nil {
		t.Fatal(err)
	}
	if meta != first {
		t.Errorf("meta after second Put = %+v, want the first %+v", meta, first)
	}
	var n int
	for _, err := range s.Artifacts() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("Artifacts yielded %d entries, want 1", n)
	}
}

func TestNotFound(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	d := Sum([]byte("never stored"))
	if _, _, err := s.Get(d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(absent) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Artifact(t.Context(), d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Artifact(absent) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(absent) error = %v, want ErrNotFound", err)
	}
	if ok, err := s.Has(d); ok || err != nil {
		t.Errorf("Has(absent) = %v, %v, want false, nil", ok, err)
	}
	if err := s.Delete(d); err != nil {
		t.Errorf("Delete(absent) = %v, want nil", err)
	}
	if _, err := s.State("no/such/key"); !errors.Is(err, ErrNotFound) {
		t.Errorf("State(absent) error = %v, want ErrNotFound", err)
	}
}

func TestDelete(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	keep, err := s.Put(t.Context(), randomBytes(1, 2*ChunkSize+1), ArtifactMeta{})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.Put(t.Context(), randomBytes(2, 12*ChunkSize+1), ArtifactMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(gone); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(gone); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(deleted) error = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Get(keep); err != nil {
		t.Errorf("Get(kept) after deleting another: %v", err)
	}
	// No chunk of the deleted artifact may remain.
	s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketData).Cursor()
		if k, _ := c.Seek(gone[:]); k != nil && bytes.HasPrefix(k, gone[:]) {
			t.Errorf("chunk %x of the deleted artifact remains", k)
		}
		return nil
	})
}

// corrupt applies fn to the store's buckets, bypassing the store, as damage or an attacker
// editing the file would.
func corrupt(t *testing.T, s *Store, fn func(meta, data *bolt.Bucket) error) {
	t.Helper()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return fn(tx.Bucket(bucketMeta), tx.Bucket(bucketData))
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionDetected(t *testing.T) {
	tests := []struct {
		name   string
		damage func(d Digest, meta, data *bolt.Bucket) error
	}{
		{"flipped byte", func(d Digest, meta, data *bolt.Bucket) error {
			v := bytes.Clone(data.Get(chunkKey(d, 1)))
			v[100] ^= 1
			return data.Put(chunkKey(d, 1), v)
		}},
		{"chunk swapped for other bytes of the same length", func(d Digest, meta, data *bolt.Bucket) error {
			return data.Put(chunkKey(d, 0), randomBytes(99, ChunkSize))
		}},
		{"missing chunk", func(d Digest, meta, data *bolt.Bucket) error {
			return data.Delete(chunkKey(d, 1))
		}},
		{"short chunk", func(d Digest, meta, data *bolt.Bucket) error {
			return data.Put(chunkKey(d, 2), []byte("short"))
		}},
		{"record truncated", func(d Digest, meta, data *bolt.Bucket) error {
			return meta.Put(d[:], meta.Get(d[:])[:10])
		}},
		{"record size too large", func(d Digest, meta, data *bolt.Bucket) error {
			v := bytes.Clone(meta.Get(d[:]))
			v[1] = 0xff
			return meta.Put(d[:], v)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{NoSync: true})
			d, err := s.Put(t.Context(), randomBytes(uint64(i), 2*ChunkSize+500), ArtifactMeta{})
			if err != nil {
				t.Fatal(err)
			}
			corrupt(t, s, func(meta, data *bolt.Bucket) error { return tt.damage(d, meta, data) })
			if _, _, err := s.Get(d); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Get after damage: error = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestSkipVerifyTrustsTheFile(t *testing.T) {
	s := openTest(t, Options{NoSync: true, SkipVerify: true})
	d, err := s.Put(t.Context(), []byte("original bytes"), ArtifactMeta{})
	if err != nil {
		t.Fatal(err)
	}
	corrupt(t, s, func(meta, data *bolt.Bucket) error {
		return data.Put(chunkKey(d, 0), []byte("tampered bytes"))
	})
	got, _, err := s.Get(d)
	if err != nil || string(got) != "tampered bytes" {
		t.Errorf("Get with SkipVerify = %q, %v, want the tampered bytes and no error", got, err)
	}
}

func TestLimits(t *testing.T) {
	const limit = 1000
	s := openTest(t, Options{NoSync: true, MaxArtifactSize: limit})
	if s.MaxArtifactSize() != limit {
		t.Errorf("MaxArtifactSize() = %d, want %d", s.MaxArtifactSize(), limit)
	}
	if _, err := s.Put(t.Context(), make([]byte, limit), ArtifactMeta{}); err != nil {
		t.Errorf("Put at the limit: %v", err)
	}
	_, err := s.Put(t.Context(), make([]byte, limit+1), ArtifactMeta{})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put over the limit: error = %v, want ErrTooLarge", err)
	}
	long := string(make([]byte, MaxMetaString+1))
	if _, err := s.Put(t.Context(), []byte("x"), ArtifactMeta{TaskID: long}); err == nil {
		t.Error("Put with an oversized task id succeeded")
	}
	if _, err := s.Put(t.Context(), []byte("x"), ArtifactMeta{MediaType: long}); err == nil {
		t.Error("Put with an oversized media type succeeded")
	}
	if err := s.PutState("big", make([]byte, MaxStateValue+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("PutState over the limit: error = %v, want ErrTooLarge", err)
	}
	for _, key := range []string{"", string(make([]byte, MaxStateKey+1))} {
		if err := s.PutState(key, []byte("v")); err == nil {
			t.Errorf("PutState with a %d-byte key succeeded", len(key))
		}
	}

	for _, size := range []int64{-1, MaxArtifactSizeLimit + 1} {
		if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{MaxArtifactSize: size}); err == nil {
			t.Errorf("Open with MaxArtifactSize %d succeeded", size)
		}
	}
}

func TestPutCancelled(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	data := []byte("late")
	if _, err := s.Put(ctx, data, ArtifactMeta{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: error = %v, want context.Canceled", err)
	}
	if ok, _ := s.Has(Sum(data)); ok {
		t.Error("a cancelled Put stored the artifact")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(5, 3*ChunkSize)
	meta := ArtifactMeta{MediaType: "image/png", TaskID: "t", Height: 42}
	d, err := s.Put(t.Context(), data, meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutState("pending/t", []byte("salt+fingerprint")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(d); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: error = %v, want ErrClosed", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, gotMeta, err := s.Get(d)
	if err != nil || !bytes.Equal(got, data) || gotMeta != meta {
		t.Errorf("Get after reopen = %d bytes, %+v, %v; want the %d bytes and %+v put", len(got), gotMeta, err, len(data), meta)
	}
	v, err := s.State("pending/t")
	if err != nil || string(v) != "salt+fingerprint" {
		t.Errorf("State after reopen = %q, %v, want %q", v, err, "salt+fingerprint")
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt takes an flock, which also excludes a second open in the same process.
	_, err = Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: error = %v, want ErrLocked", err)
	}
}

func TestOpenRejectsForeignSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketInfo)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("genquorum-store/999"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil {
		t.Error("Open of a file with another schema succeeded")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	const writers, perWriter = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Writers 0 and 1 put the same artifacts, to race the idempotent path.
				data := []byte(fmt.Sprintf("artifact %d/%d", w/2, i))
				d, err := s.Put(t.Context(), data, ArtifactMeta{Height: int64(i)})
				if err != nil {
					errs <- err
					continue
				}
				got, _, err := s.Get(d)
				if err != nil {
					errs <- err
				} else if !bytes.Equal(got, data) {
					errs <- fmt.Errorf("Get(%s) = %q, want %q", d.Short(), got, data)
				}
				if err := s.PutState(fmt.Sprintf("w%d", w), []byte{byte(i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	for _, err := range s.Artifacts() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if want := writers / 2 * perWriter; n != want {
		t.Errorf("stored %d distinct artifacts, want %d", n, want)
	}
	for w := range writers {
		v, err := s.State(fmt.Sprintf("w%d", w))
		if err != nil || !bytes.Equal(v, []byte{perWriter - 1}) {
			t.Errorf("State(w%d) = %v, %v, want [%d]", w, v, err, perWriter-1)
		}
	}
}

func TestArtifactsOrderAndPaging(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	const n = 2*listPage + 3 // crosses page boundaries
	var want []Digest
	for i := range n {
		d, err := s.Put(t.Context(), []byte(fmt.Sprint(i)), ArtifactMeta{Height: int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	slices.SortFunc(want, func(a, b Digest) int { return bytes.Compare(a[:], b[:]) })
	var got []Digest
	for info, err := range s.Artifacts() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info.Digest)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Artifacts yielded %d digests, want the %d stored in ascending order", len(got), len(want))
	}

	// Deleting while iterating must not deadlock; every artifact is visited once.
	var visited int
	for info, err := range s.Artifacts() {
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(info.Digest); err != nil {
			t.Fatal(err)
		}
		visited++
	}
	if visited != n {
		t.Errorf("delete-while-iterating visited %d, want %d", visited, n)
	}
	for range s.Artifacts() {
		t.Error("Artifacts yielded an entry after deleting everything")
		break
	}

	// Stopping early is allowed.
	for range 3 {
		if _, err := s.Put(t.Context(), randomBytes(uint64(visited), 10), ArtifactMeta{}); err != nil {
			t.Fatal(err)
		}
		visited++
	}
	for range s.Artifacts() {
		break
	}
}

func TestState(t *testing.T) {
	s := openTest(t, Options{NoSync: true})
	steps := []struct {
		name string
		do   func() error
	}{
		{"put height", func() error { return s.PutState("height", []byte{0, 0, 0, 9}) }},
		{"put pending a", func() error { return s.PutState("pending/a", []byte("salt-a")) }},
		{"put pending b", func() error { return s.PutState("pending/b", []byte("salt-b")) }},
		{"put empty", func() error { return s.PutState("pending/c", nil) }},
		{"overwrite a", func() error { return s.PutState("pending/a", []byte("salt-a2")) }},
		{"delete absent", func() error { return s.DeleteState("pending/zzz") }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	got, err := s.States("pending/")
	if err != nil {
		t.Fatal(err)
	}
	want := []StateEntry{{"pending/a", []byte("salt-a2")}, {"pending/b", []byte("salt-b")}, {"pending/c", []byte{}}}
	if !slices.EqualFunc(got, want, func(a, b StateEntry) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }) {
		t.Errorf("States(pending/) = %q, want %q", got, want)
	}
	if v, err := s.State("pending/c"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("State(empty value) = %v, %v, want a non-nil empty slice", v, err)
	}
	all, err := s.States("")
	if err != nil || len(all) != 4 {
		t.Errorf("States(\"\") = %d entries, %v, want 4", len(all), err)
	}

	// A batch applies all or nothing.
	var b StateBatch
	b.Delete("pending/a")
	b.Put("height", []byte{0, 0, 0, 10})
	b.Put("", []byte("bad key"))
	if err := s.WriteState(&b); err == nil {
		t.Fatal("WriteState with an empty key succeeded")
	}
	if _, err := s.State("pending/a"); err != nil {
		t.Errorf("a failed batch deleted pending/a: %v", err)
	}
	b = StateBatch{}
	b.Delete("pending/a")
	b.Put("height", []byte{0, 0, 0, 10})
	if err := s.WriteState(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.State("pending/a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("State(pending/a) after batch delete: error = %v, want ErrNotFound", err)
	}
	if v, _ := s.State("height"); !bytes.Equal(v, []byte{0, 0, 0, 10}) {
		t.Errorf("State(height) after batch = %v, want [0 0 0 10]", v)
	}
}
