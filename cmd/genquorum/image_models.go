package main

import (
	"errors"
	"io/fs"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
)

// loadImageModel loads the diffusion model a --model value names: a file (an adapter file is
// applied to base, default base.gguf next to it), NAME.gguf in one of dirs, or else one of the
// built-in models (base, finetuned, lora, ti) shipped in the binary. name "" keeps the
// file's base name.
func loadImageModel(name, model, dirs, base string) (diffusion.Named, error) {
	path, err := resolveModelPath(model, dirs)
	if errors.Is(err, fs.ErrNotExist) && models.IsDiffusion(model) {
		nm, err := models.Diffusion(model)
		if err == nil && name != "" {
			nm.Name = name
		}
		return nm, err
	}
	if err != nil {
		return diffusion.Named{}, err
	}
	return diffusion.LoadAny(name, path, base)
}
