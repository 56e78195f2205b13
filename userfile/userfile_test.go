//go:build unix

package userfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.png")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	small := filepath.Join(dir, "small.txt")
	if err := os.WriteFile(small, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 1 GiB file: rejected from its size, never read.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name  string
		path  string
		limit int64
		want  error
	}{
		{"regular", small, 10, nil},
		{"regular, exact limit", small, 5, nil},
		{"regular, no limit", small, 0, nil},
		{"over the limit", small, 4, ErrTooLarge},
		{"sparse 1 GiB", big, 1 << 20, ErrTooLarge},
		{"fifo", fifo, 10, ErrNotRegular},
		{"directory", dir, 10, ErrNotRegular},
		{"device", "/dev/zero", 10, ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 10, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := ReadFile(tt.path, tt.limit)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ReadFile(%s, %d) = %v, want %v", tt.path, tt.limit, err, tt.want)
			}
			if err == nil && string(data) != "hello" {
				t.Errorf("data = %q", data)
			}
			if err := Check(tt.path, tt.limit); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.json")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{"new file", filepath.Join(dir, "new.json"), true},
		{"existing file", existing, true},
		{"missing folder", filepath.Join(dir, "no", "such.json"), false},
		{"directory", dir, false},
		{"fifo", fifo, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWritable(tt.path)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckWritable(%s) = %v, want ok %v", tt.path, err, tt.ok)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the checked new file was left behind: %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Errorf("existing file changed to %q", b)
	}
}
