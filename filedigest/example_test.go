package filedigest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/genquorum/genquorum/filedigest"
)

// The digest of a model file, cached by the file's identity: a second call for the same,
// unchanged file is served from the cache once the file has settled (see Settle).
func ExampleCache_SHA256() {
	dir, err := os.MkdirTemp("", "filedigest-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.gguf")
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		panic(err)
	}
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		panic(err)
	}
	c := &filedigest.Cache{Dir: filepath.Join(dir, "cache")}
	d, _, err := c.SHA256(fi, filedigest.Reader(f, fi.Size()))
	fmt.Printf("%x %v\n", d, err)
	// Output: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 <nil>
}
