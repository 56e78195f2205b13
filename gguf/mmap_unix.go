//go:build unix

package gguf

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of fh read-only and shared (pages come from the page cache; nothing
// is copied). populate asks the kernel to map every page at once (Linux), which is cheaper
// than faulting them in one by one when the caller reads the whole file. The returned
// function unmaps.
func mapFile(fh *os.File, size int64, populate bool) ([]byte, func() error, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, errNoMap
	}
	flags := unix.MAP_SHARED
	if populate {
		flags |= populateFlag
	}
	b, err := unix.Mmap(int(fh.Fd()), 0, int(size), unix.PROT_READ, flags)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
