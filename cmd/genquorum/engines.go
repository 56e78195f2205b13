package main

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/userfile"
)

// engineOptions are the flags that choose the engines a node serves.
type engineOptions struct {
	fakeModels []string
	llm        []string
}

func (o *engineOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.llm, "llm", nil, "GGUF model files served by the built-in LLM engine (each named by its file name without .gguf)")
	cmd.Flags().StringSliceVar(&o.fakeModels, "fake-models", nil,
		"serve these model names with the deterministic test engine (for tests and benchmarks that exclude engine time)")
}

// fakeModelRef is the model a --fake-models name stands for: its digest is the SHA-256 of
// the name, so every process derives the same one.
func fakeModelRef(name string) engine.ModelRef {
	return engine.ModelRef{Name: name, Digest: sha256.Sum256([]byte("genquorum fake model " + name))}
}

// build returns the registry of the chosen engines.
func (o *engineOptions) build() (*engine.Registry, error) {
	var r engine.Registry
	if len(o.fakeModels) > 0 {
		var refs []engine.ModelRef
		for _, n := range o.fakeModels {
			n = strings.TrimSpace(n)
			if n == "" {
				return nil, usagef("--fake-models: empty model name")
			}
			refs = append(refs, fakeModelRef(n))
		}
		if err := r.Register(enginetest.NewFake(refs...)); err != nil {
			return nil, err
		}
	}
	for _, path := range o.llm {
		if err := userfile.Check(path, 0); err != nil {
			return nil, err
		}
		e, err := llm.Open(path, llm.Options{})
		if err != nil {
			return nil, err
		}
		if err := r.Register(e); err != nil {
			return nil, err
		}
	}
	if len(r.Engines()) == 0 {
		return nil, usagef("no engine: give --llm FILE.gguf (or --fake-models for tests)")
	}
	return &r, nil
}

// modelRef resolves a model name against the registry.
func modelRef(r *engine.Registry, name string) (engine.ModelRef, error) {
	for _, m := range r.Models() {
		if m.Name == name {
			return m, nil
		}
	}
	return engine.ModelRef{}, fmt.Errorf("unknown model %q", name)
}
