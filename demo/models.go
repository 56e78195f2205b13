package demo

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/userfile"
)

// OpenTextModels opens every .gguf file in dir ("": models.LLMDir) with the built-in LLM
// engine, in file name order, and returns them registered, with their model references. Only
// regular files are opened; an empty folder is an error that says how to name one.
func OpenTextModels(dir string) (*engine.Registry, []engine.ModelRef, error) {
	if dir == "" {
		dir, _ = models.LLMDir()
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("demo: no .gguf model in %s: give --models-dir DIR or set %s=DIR "+
			"(a clone has the test models in testdata/llamacpp/models)", dir, models.LLMDirEnv)
	}
	slices.Sort(paths)
	var reg engine.Registry
	var refs []engine.ModelRef
	for _, p := range paths {
		if err := userfile.Check(p, 0); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		e, err := llm.Open(p, llm.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		if err := reg.Register(e); err != nil {
			return nil, nil, err
		}
		refs = append(refs, e.Models()...)
	}
	return &reg, refs, nil
}
