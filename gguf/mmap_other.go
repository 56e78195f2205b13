//go:build !unix

package gguf

import "os"

// mapFile is not available on this platform: Open reads through the file instead.
func mapFile(fh *os.File, size int64, populate bool) ([]byte, func() error, error) {
	return nil, nil, errNoMap
}
