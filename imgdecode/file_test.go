//go:build unix

package imgdecode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/genquorum/genquorum/userfile"
)

// TestDecodeFileSpecial: a FIFO is rejected without blocking, a file over MaxBytes from its
// size (a sparse 1 GiB file is never read), and Decode stops reading at MaxBytes.
func TestDecodeFileSpecial(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.png")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := DecodeFile(fifo, Options{}); !errors.Is(err, userfile.ErrNotRegular) {
		t.Errorf("DecodeFile(fifo) = %v, want ErrNotRegular", err)
	}
	if _, err := DecodeFile("/dev/zero", Options{}); !errors.Is(err, userfile.ErrNotRegular) {
		t.Errorf("DecodeFile(/dev/zero) = %v, want ErrNotRegular", err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeFile(big, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeFile(1 GiB) = %v, want ErrTooLarge", err)
	}
	png := mustRead(t, filepath.Join(corpusDir, "images/p13_rose__shift1.png"))
	if _, err := Decode(bytes.NewReader(png), Options{MaxBytes: int64(len(png)) - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Decode over MaxBytes = %v, want ErrTooLarge", err)
	}
	if _, err := Decode(bytes.NewReader(png), Options{MaxBytes: int64(len(png))}); err != nil {
		t.Errorf("Decode at MaxBytes: %v", err)
	}
}
