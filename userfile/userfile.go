// Package userfile opens and reads the files a user names on the command line so that a wrong
// name can neither hang the process nor exhaust its memory: only regular files are accepted (a
// FIFO, a device such as /dev/zero, a socket or a directory is rejected at once, without
// blocking in open), and reads stop at a size limit.
//
// Open never blocks on a FIFO: it opens with O_NONBLOCK (which changes nothing for regular
// files) and checks the file's type on the open descriptor, so a file swapped between a check
// and the open cannot slip through.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Errors returned by Open, ReadFile and Check, wrapped with the path; test with errors.Is.
var (
	// ErrNotRegular: the path names a FIFO, device, socket, directory or other non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the limit.
	ErrTooLarge = errors.New("file too large")
)

// Open opens path for reading if it is a regular file. It does not block on a FIFO.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: notRegular(st.Mode())}
	}
	return f, nil
}

// notRegular names the kind of a non-regular file in an error that wraps ErrNotRegular.
func notRegular(m os.FileMode) error {
	kind := "special file"
	switch {
	case m.IsDir():
		kind = "directory"
	case m&os.ModeNamedPipe != 0:
		kind = "named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		kind = "socket"
	case m&os.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("%w: %s", ErrNotRegular, kind)
}

// Check reports whether path is a regular file of at most limit bytes (limit <= 0: no limit),
// for callers that must hand the path to a library that opens it itself.
func Check(path string, limit int64) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkSize(f, path, limit)
}

func checkSize(f *os.File, path string, limit int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if limit > 0 && st.Size() > limit {
		return &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, st.Size(), limit)}
	}
	return nil
}

// ReadFile reads the whole regular file path, failing with ErrTooLarge if it holds more than
// limit bytes (limit <= 0: no limit). The size is checked before reading and again while
// reading, so a file that grows cannot exceed the limit either.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSize(f, path, limit); err != nil {
		return nil, err
	}
	var r io.Reader = f
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	if limit > 0 && int64(len(data)) > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over the limit of %d bytes", ErrTooLarge, limit)}
	}
	return data, nil
}

// CheckWritable reports whether path can be created or overwritten as a regular file, before a
// long job spends its time and then fails to write its result: the folder must exist, and path
// must not be a directory or a special file. It leaves an existing file unchanged and removes
// the file it created to check.
func CheckWritable(path string) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return &os.PathError{Op: "write", Path: path, Err: notRegular(st.Mode())}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	existed := err == nil
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !existed {
		return os.Remove(path)
	}
	return nil
}
