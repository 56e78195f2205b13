package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/genquorum/genquorum/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(filepath.Join(dir, "node.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	d, err := s.Put(context.Background(), []byte("abc"), store.ArtifactMeta{MediaType: "text/plain", TaskID: "t1", Height: 7})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d)

	data, meta, err := s.Get(d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %+v\n", data, meta)

	_, _, err = s.Get(store.Sum([]byte("never stored")))
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
	// abc {MediaType:text/plain TaskID:t1 Height:7}
	// true
}

// A node remembers the salt and fingerprint it committed to until it reveals them, across
// restarts; after the reveal it drops them and records its progress in one transaction.
func ExampleStore_WriteState() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "node.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if err := s.PutState("pending/task-9", []byte("salt|fingerprint")); err != nil {
		log.Fatal(err)
	}
	pending, err := s.States("pending/")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range pending {
		fmt.Printf("%s = %s\n", e.Key, e.Value)
	}

	var b store.StateBatch
	b.Delete("pending/task-9")
	b.Put("height", []byte("120"))
	if err := s.WriteState(&b); err != nil {
		log.Fatal(err)
	}
	_, err = s.State("pending/task-9")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// pending/task-9 = salt|fingerprint
	// true
}

func ExampleParseDigest() {
	d, err := store.ParseDigest("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d == store.Sum([]byte("abc")), d.Short())
	_, err = store.ParseDigest("ab12")
	fmt.Println(err)
	// Output:
	// true ba7816bf8f01
	// store: digest has 4 characters, want 64: store: bad digest
}
