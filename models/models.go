// Package models owns the model weights genquorum trains itself and ships inside the binary:
// the built-in diffusion model ("base") and the paper's three variants of it ("finetuned", a
// full fine-tune; "lora", low-rank adapters; "ti", a textual inversion), so that
// `genquorum generate image --model base` and the demo work from any directory with nothing
// to download.
//
// Invariant: each file here is exactly what the command in diffusion/README.md writes
// (training is deterministic), and a model's digest is the SHA-256 of its file, so tasks name
// these models by name and digest like any other. The files are read-only; callers get fresh
// copies of the weights.
package models

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/genquorum/genquorum/engine/diffusion"
)

//go:embed diffusion/*.gguf
var files embed.FS

// DiffusionNames lists the built-in diffusion models: base, then its variants.
var DiffusionNames = []string{"base", "finetuned", "lora", "ti"}

// IsDiffusion reports whether name is a built-in diffusion model.
func IsDiffusion(name string) bool { return slices.Contains(DiffusionNames, name) }

// Diffusion loads the built-in diffusion model name (an adapter, lora or ti, comes applied to
// base). It fails with fs.ErrNotExist for a name that is not built in.
func Diffusion(name string) (diffusion.Named, error) {
	if !IsDiffusion(name) {
		return diffusion.Named{}, fmt.Errorf("models: diffusion model %q: %w (built in: %v)", name, fs.ErrNotExist, DiffusionNames)
	}
	sub, err := fs.Sub(files, "diffusion")
	if err != nil {
		return diffusion.Named{}, fmt.Errorf("models: %w", err)
	}
	return diffusion.LoadAnyFS(sub, name, name+".gguf", "base.gguf")
}

// DiffusionFile returns the bytes of the built-in model or adapter file name.
func DiffusionFile(name string) ([]byte, error) {
	if !IsDiffusion(name) {
		return nil, fmt.Errorf("models: diffusion model %q: %w", name, fs.ErrNotExist)
	}
	return files.ReadFile("diffusion/" + name + ".gguf")
}
