package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/userfile"
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
	if base != "" {
		if err := userfile.Check(base, 0); err != nil {
			return diffusion.Named{}, fmt.Errorf("--base: %w", err)
		}
	}
	return diffusion.LoadAny(name, path, base)
}

// imageModelFlags are the flags that name a diffusion model: --model, --models-dir, --base.
type imageModelFlags struct {
	model, dirs, base string
}

func (mf *imageModelFlags) register(f *pflag.FlagSet) {
	f.StringVar(&mf.model, "model", "", "model or adapter file, NAME for NAME.gguf in --models-dir, or a built-in model: base, finetuned, lora, ti (required)")
	f.StringVar(&mf.dirs, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories searched for model names (default $GENQUORUM_MODELS)")
	f.StringVar(&mf.base, "base", "", "base model of an adapter (lora, ti) file (default base.gguf next to it)")
}

// load loads the model the flags name (see loadImageModel).
func (mf *imageModelFlags) load() (diffusion.Named, error) {
	return loadImageModel("", mf.model, mf.dirs, mf.base)
}

// loadImageEngine loads the named diffusion models (--image-model of node and serve) into one
// engine, each resolved as genquorum generate image resolves --model (loadImageModel) and
// logged at INFO on logger; each is registered on the ledger under its name and the SHA-256 of
// its GGUF encoding, as text models are.
func loadImageEngine(names []string, dirs, base string, logger *slog.Logger) (*diffusion.Engine, error) {
	var models []diffusion.Named
	for _, name := range names {
		nm, err := loadImageModel("", name, dirs, base)
		if err != nil {
			return nil, fmt.Errorf("--image-model %s: %w", name, err)
		}
		logger.Info("image model loaded", "model", nm.Name, "digest", nm.Digest.String(), "size", nm.Model.Config.ImageSize)
		models = append(models, nm)
	}
	return diffusion.New(models...)
}
