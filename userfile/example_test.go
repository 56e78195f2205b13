package userfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genquorum/genquorum/userfile"
)

// A file a user names is read only when it is a regular file within the limit.
func ExampleReadFile() {
	dir, err := os.MkdirTemp("", "userfile-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		panic(err)
	}
	b, err := userfile.ReadFile(path, 1<<20)
	fmt.Printf("%q %v\n", b, err)
	_, err = userfile.ReadFile(path, 4)
	fmt.Println(errors.Is(err, userfile.ErrTooLarge))
	_, err = userfile.ReadFile(dir, 4)
	fmt.Println(errors.Is(err, userfile.ErrNotRegular))
	// Output:
	// "0123456789" <nil>
	// true
	// true
}
