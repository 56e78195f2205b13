package models

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"testing"
)

// TestDiffusion loads every built-in model and checks that its digest is its file's SHA-256
// (an adapter's digest is the adapter file's; it pins its base by digest inside).
func TestDiffusion(t *testing.T) {
	for _, name := range DiffusionNames {
		t.Run(name, func(t *testing.T) {
			b, err := DiffusionFile(name)
			if err != nil {
				t.Fatal(err)
			}
			nm, err := Diffusion(name)
			if err != nil {
				t.Fatal(err)
			}
			if nm.Name != name || nm.Digest != sha256.Sum256(b) {
				t.Errorf("loaded %q with digest %s, want %q with %x", nm.Name, nm.Digest, name, sha256.Sum256(b))
			}
		})
	}
}

func TestDiffusionUnknown(t *testing.T) {
	for _, name := range []string{"", "base.gguf", "../base", "sd-1.5"} {
		if _, err := Diffusion(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Diffusion(%q): %v, want fs.ErrNotExist", name, err)
		}
	}
}
