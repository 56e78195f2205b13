package models

import (
	"path/filepath"
	"testing"
)

// TestLLMDirFromElsewhere: from a directory outside the clone, LLMDir finds the test models
// of the source tree the binary was built from; the environment variable wins over both.
func TestLLMDirFromElsewhere(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(LLMDirEnv, "")
	dir, ok := LLMDir()
	if !ok || !filepath.IsAbs(dir) {
		t.Fatalf("LLMDir() = %q, %v; want the source tree's absolute test folder", dir, ok)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if len(paths) != 3 {
		t.Errorf("%s holds %d .gguf files, want the 3 test models", dir, len(paths))
	}
	t.Setenv(LLMDirEnv, "/some/where")
	if dir, ok := LLMDir(); !ok || dir != "/some/where" {
		t.Errorf("with $%s set: LLMDir() = %q, %v", LLMDirEnv, dir, ok)
	}
}
