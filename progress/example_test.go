package progress_test

import (
	"bytes"
	"fmt"

	"github.com/genquorum/genquorum/progress"
)

// On a file or a pipe (here a buffer) there is no bar: Callback returns nil, which the
// Progress options of packages study, demo and hashscan take as "no progress", and New's bar
// draws nothing.
func ExampleCallback() {
	var stderr bytes.Buffer
	fmt.Println(progress.Callback(&stderr, 100, "hashing") == nil)
	bar := progress.New(&stderr, 100, "hashing")
	_ = bar.Add(50)
	fmt.Println(stderr.Len())
	// Output:
	// true
	// 0
}
