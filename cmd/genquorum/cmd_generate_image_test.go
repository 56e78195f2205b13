package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
)

// tinyDiffusionModel writes a randomly initialised tiny diffusion model into dir as NAME.gguf.
func tinyDiffusionModel(t *testing.T, dir, name string) string {
	t.Helper()
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".gguf")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGenerateImage(t *testing.T) {
	dir := t.TempDir()
	tinyDiffusionModel(t, dir, "base")
	out := filepath.Join(dir, "a.png")
	args := []string{"generate", "image", "--models-dir", dir, "--model", "base", "--prompt", "A photo of a bag",
		"--seed", "42", "--steps", "3", "--out", out}
	stdout, stderr, code := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("generate image: exit %d, stderr %q", code, stderr)
	}
	first, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(first, []byte("\x89PNG")) {
		t.Fatalf("generate image wrote %d bytes (%v), want a PNG", len(first), err)
	}
	if !strings.HasSuffix(strings.TrimSpace(stdout), out) {
		t.Errorf("stdout %q, want a digest and %s", stdout, out)
	}
	_, _, code = runCLI(t, append(args, "--log-level", "error")...)
	again, _ := os.ReadFile(out)
	if code != exitOK || !bytes.Equal(first, again) {
		t.Errorf("second run: exit %d, same PNG %v; want 0 and identical bytes", code, bytes.Equal(first, again))
	}

	batch := filepath.Join(dir, "batch")
	stdout, stderr, code = runCLI(t, "generate", "image", "--models-dir", dir, "--model", "base", "--prompt", "A photo of a bag",
		"--prompt", "A photo of a coat", "--seed", "1-2", "--steps", "2", "--out-dir", batch)
	if code != exitOK {
		t.Fatalf("batch: exit %d, stderr %q", code, stderr)
	}
	// stderr is not a terminal here: no progress bar (it redraws with carriage returns).
	if strings.ContainsRune(stderr, '\r') {
		t.Errorf("batch wrote a progress bar to a non-terminal stderr: %q", stderr)
	}
	// Images run in parallel, but lines come in prompt-then-seed order, and each image is the
	// one a single run makes.
	var paths []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		paths = append(paths, filepath.Base(line[strings.LastIndexByte(line, ' ')+1:]))
	}
	if want := []string{"p0-s1.png", "p0-s2.png", "p1-s1.png", "p1-s2.png"}; !slices.Equal(paths, want) {
		t.Errorf("batch printed %v, want %v", paths, want)
	}
	single := filepath.Join(dir, "single.png")
	if _, stderr, code := runCLI(t, "generate", "image", "--models-dir", dir, "--model", "base", "--prompt", "A photo of a coat",
		"--seed", "2", "--steps", "2", "--out", single); code != exitOK {
		t.Fatalf("single: exit %d, stderr %q", code, stderr)
	}
	a, _ := os.ReadFile(single)
	b, _ := os.ReadFile(filepath.Join(batch, "p1-s2.png"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("batch image p1-s2 differs from the single run's (%d and %d bytes)", len(b), len(a))
	}
	ents, _ := os.ReadDir(batch)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"p0-s1.png", "p0-s2.png", "p1-s1.png", "p1-s2.png"}; !slices.Equal(names, want) {
		t.Errorf("batch wrote %v, want %v", names, want)
	}
}

func TestGenerateImageBadInput(t *testing.T) {
	dir := t.TempDir()
	tinyDiffusionModel(t, dir, "base")
	base := []string{"generate", "image", "--models-dir", dir, "--out", filepath.Join(dir, "x.png"), "--steps", "2"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown model", []string{"--model", "nope", "--prompt", "a bag"}, exitError, "not a file"},
		{"no prompt", []string{"--model", "base"}, exitUsage, "--prompt"},
		{"empty prompt", []string{"--model", "base", "--prompt", " "}, exitUsage, "empty prompt"},
		{"zero steps", []string{"--model", "base", "--prompt", "a bag", "--steps", "0"}, exitUsage, "steps 0"},
		{"huge size", []string{"--model", "base", "--prompt", "a bag", "--width", "100000"}, exitUsage, "size"},
		{"bad sampler", []string{"--model", "base", "--prompt", "a bag", "--sampler", "plms"}, exitUsage, "sampler"},
		{"bad profile", []string{"--model", "base", "--prompt", "a bag", "--profile", "tpu"}, exitUsage, "profile"},
		{"bad seeds", []string{"--model", "base", "--prompt", "a bag", "--seed", "9-1"}, exitUsage, "seed"},
		{"batch without dir", []string{"--model", "base", "--prompt", "a bag", "--seed", "1-2"}, exitUsage, "--out-dir"},
	} {
		_, stderr, code := runCLI(t, append(slices.Clone(base), tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tc.name, code, stderr, tc.code, tc.msg)
		}
	}
}
