package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// driftingLlamaServer is a deliberately non-deterministic llama-server double: one slot, but
// every /completion answers different tokens (as with a prompt cache or unseeded sampling).
func driftingLlamaServer(t *testing.T) *httptest.Server {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/props":
			w.Write([]byte(`{"total_slots":1,"model_path":"tiny.gguf","build_info":"drift"}`))
		case "/tokenize":
			w.Write([]byte(`{"tokens":[1,2,3]}`))
		case "/completion":
			ids := []int32{7, int32(n.Add(1))}
			json.NewEncoder(w).Encode(map[string]any{"content": "x", "tokens": ids, "tokens_predicted": 2, "tokens_evaluated": 3})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestNodeRefusesNondeterministicEngine: genquorum node will not start with a remote engine
// that answers the same probe twice differently, and says which setting to change.
func TestNodeRefusesNondeterministicEngine(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, "testnet", "--validators", "1", "--out", dir, "--base-port", fmt.Sprint(freeBasePort(t, 1))); code != 0 {
		t.Fatal(stderr)
	}
	ts := driftingLlamaServer(t)
	_, stderr, code := runCLI(t, "node", "--home", filepath.Join(dir, "node0"),
		"--engine", "tiny=llamacpp:"+ts.URL+"?digest="+strings.Repeat("ab", 32))
	if code == 0 || !strings.Contains(stderr, "not deterministic") || !strings.Contains(stderr, "-np 1") {
		t.Errorf("node with a drifting engine: exit %d, stderr %q; want a failure naming -np 1", code, stderr)
	}
	// Without a digest the node refuses before any request.
	_, stderr, code = runCLI(t, "node", "--home", filepath.Join(dir, "node0"), "--engine", "tiny=llamacpp:"+ts.URL)
	if code == 0 || !strings.Contains(stderr, "digest") {
		t.Errorf("node with an engine without digest: exit %d, stderr %q; want a failure asking for digest=", code, stderr)
	}
}

// TestEngineSelftest runs genquorum engine selftest on a reproducible engine (genquorum
// serve's handler) and a drifting one.
func TestEngineSelftest(t *testing.T) {
	good := serveForTest(t)
	bad := driftingLlamaServer(t)
	stdout, _, code := runCLI(t, "engine", "selftest", "tiny-llama-a-f32=llamacpp:"+good.URL, "tiny=llamacpp:"+bad.URL)
	if code != 3 {
		t.Errorf("exit %d, want 3 (one of two failed)", code)
	}
	for _, want := range []string{"PASS remote/llamacpp:tiny-llama-a-f32{", "pinned    cache_prompt=false", "8 token ids",
		"node      refuses it: no digest=", "FAIL tiny=llamacpp:", "repeat run: token ids differ from position 1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("selftest output lacks %q:\n%s", want, stdout)
		}
	}
}
