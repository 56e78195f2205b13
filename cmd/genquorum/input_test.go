//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// specialInputs makes, in a temporary directory, a FIFO named x.png (opening it for reading
// would block until a writer comes) and a sparse file of 1 GiB named big.png (reading it whole
// would take a gigabyte of memory). Both must be rejected at once.
func specialInputs(t *testing.T) (dir, fifo, big string) {
	t.Helper()
	dir = t.TempDir()
	fifo = filepath.Join(dir, "x.png")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big = filepath.Join(dir, "big.png")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	return dir, fifo, big
}

// TestSpecialFilesRejected: every command that reads a user's file rejects a FIFO and an
// oversize file with a message instead of hanging or reading it whole. A hang fails the test
// by the test binary's timeout.
func TestSpecialFilesRejected(t *testing.T) {
	dir, fifo, big := specialInputs(t)
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"hash fifo", []string{"hash", fifo}, exitPartial, "not a regular file: named pipe"},
		{"hash big", []string{"hash", big}, exitPartial, "file too large"},
		{"hash dir with both", []string{"hash", dir}, exitPartial, "not a regular file"},
		{"hash /dev/zero", []string{"hash", "/dev/zero"}, exitPartial, "not a regular file: device"},
		{"compare", []string{"compare", fifo, big}, exitError, "not a regular file"},
		{"consensus", []string{"consensus", "--group-by", `^(\w+)\.png`, dir}, exitPartial, "not a regular file"},
		{"consensus manifest", []string{"consensus", "--manifest", fifo}, exitError, "not a regular file"},
		{"collisions", []string{"collisions", fifo}, exitError, "not a regular file"},
		{"tokenize", []string{"tokenize", "--model", fifo}, exitError, "not a regular file"},
		{"generate text", []string{"generate", "text", "--model", fifo, "--prompt", "hi"}, exitError, "not a regular file"},
		{"generate image", []string{"generate", "image", "--model", fifo, "--prompt", "a bag"}, exitError, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.want || !strings.Contains(stderr, tt.msg) {
				t.Errorf("genquorum %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), code, stderr, tt.want, tt.msg)
			}
		})
	}
}
