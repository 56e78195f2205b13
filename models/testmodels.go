package models

import (
	"os"
	"path/filepath"
	"runtime"
)

// LLMDirEnv names the environment variable that points at a folder of GGUF language models
// for commands that serve every model of a folder (the demo).
const LLMDirEnv = "GENQUORUM_LLM_MODELS"

// testLLMDir is where a clone keeps the tiny test GGUF models (about 31 MB, too large to build
// into the binary), relative to the repository root.
var testLLMDir = filepath.Join("testdata", "llamacpp", "models")

// LLMDir returns the folder of GGUF language models to serve when none is named: $LLMDirEnv
// if set; else the test models under the current directory when it is a clone's root; else
// the test models of the source tree this binary was built from (`go build` and `go install`
// record its path; -trimpath drops it), if that tree still exists. ok is false when none
// applies; dir is then the relative test folder, for the error message.
func LLMDir() (dir string, ok bool) {
	if d := os.Getenv(LLMDirEnv); d != "" {
		return d, true
	}
	if isDir(testLLMDir) {
		return testLLMDir, true
	}
	if root, ok := sourceRoot(); ok && isDir(filepath.Join(root, testLLMDir)) {
		return filepath.Join(root, testLLMDir), true
	}
	return testLLMDir, false
}

// sourceRoot returns the repository root this file was compiled from, when the binary
// records an absolute source path and the tree holds go.mod.
func sourceRoot() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	root := filepath.Dir(filepath.Dir(file))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", false
	}
	return root, true
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
