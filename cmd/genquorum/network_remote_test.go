package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
)

const remoteTextModel = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"

// serveForTest starts genquorum serve's handler (package server) on the tiny text model and
// the built-in base image model, as a stand-in for llama-server, vLLM and AUTOMATIC1111.
func serveForTest(t *testing.T) *httptest.Server {
	t.Helper()
	txt, err := llm.Open(remoteTextModel, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nm, err := loadImageModel("", "base", "", "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := diffusion.New(nm)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{LLMs: []*llm.Engine{txt}, Image: img})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

// TestRemoteEnginesOnTestnet runs a 3-validator testnet as three node processes: node 0 on the
// built-in engines (--llm, --image-model base), node 1 on the llamacpp and a1111 adapters and
// node 2 on the openai and a1111 adapters, each against its own genquorum serve (package
// server). Each node self-tests its remote engines at start. Text (greedy, and sampled: serve
// implements genquorum's sampler, detected from /props by the llamacpp adapter and declared with
// sampler=genquorum to the openai one) and image tasks submitted through the CLI are accepted
// with all three executors agreeing, and the ledger records the adapters' pinned settings in
// the engine names.
func TestRemoteEnginesOnTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 validator processes")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 3)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", dir, "--base-port", fmt.Sprint(base),
		"--commit-window", "10", "--reveal-window", "10"); code != 0 {
		t.Fatal(stderr)
	}
	textDigest := fileSHA256(t, remoteTextModel)
	nm, err := loadImageModel("", "base", "", "")
	if err != nil {
		t.Fatal(err)
	}
	imageDigest := nm.Digest.String()
	srv1, srv2 := serveForTest(t), serveForTest(t)
	args := [][]string{
		{"--llm", remoteTextModel, "--image-model", "base"},
		{"--engine", "tiny-llama-a-f32=llamacpp:" + srv1.URL + "?digest=" + textDigest + "&retries=10",
			"--engine", "base=a1111:" + srv1.URL + "?digest=" + imageDigest + "&retries=10"},
		{"--engine", "tiny-llama-a-f32=openai:" + srv2.URL + "?digest=" + textDigest + "&retries=10&sampler=genquorum",
			"--engine", "base=a1111:" + srv2.URL + "?digest=" + imageDigest + "&retries=10"},
	}
	rpc := func(i int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", base+2*i+1) }
	procs := make([]*proc, 3)
	for i := range procs {
		a := append([]string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--log-level", "warn"}, args[i]...)
		procs[i] = startProc(t, filepath.Join(dir, fmt.Sprintf("node%d.log", i)), a...)
	}
	defer func() {
		for _, p := range procs {
			p.stop(t)
		}
	}()
	nodes := waitModelNodes(t, rpc(0), procs, 3, "tiny-llama-a-f32", "base")
	waitModelNodes(t, rpc(1), procs, 3, "tiny-llama-a-f32", "base") // the validator the client submits to
	var engines []string
	for _, nv := range nodes {
		engines = append(engines, nv.Engines...)
	}
	all := strings.Join(engines, " ")
	for _, want := range []string{"remote/llamacpp:tiny-llama-a-f32{", "cache_prompt=false", "slots=1", "sampler=genquorum", "remote/openai:tiny-llama-a-f32{",
		"ids=response", "remote/a1111:base{", "randn_source=CPU", "sha256=checked"} {
		if !strings.Contains(all, want) {
			t.Errorf("ledger engine names %q: want one with %q", engines, want)
		}
	}

	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"text-greedy", []string{"--kind", "text", "--model", "tiny-llama-a-f32", "--prompt", "Once upon a time", "--max-tokens", "12", "--seed", "3"}},
		{"text-greedy-2", []string{"--kind", "text", "--model", "tiny-llama-a-f32", "--prompt", "The capital of France is", "--max-tokens", "8", "--seed", "9"}},
		{"text-sample", []string{"--kind", "text", "--model", "tiny-llama-a-f32", "--prompt", "The capital of France is", "--max-tokens", "8", "--seed", "9",
			"--decode", "sample", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95"}},
		{"image", []string{"--kind", "image", "--model", "base", "--prompt", "A photo of a bag", "--steps", "3", "--seed", "5",
			"--sampler", "euler", "--tolerance", "2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := append([]string{"submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc(1), "--replicas", "3",
				"--timeout", "120s", "--format", "json"}, tt.flags...)
			stdout, stderr, code := runCLI(t, a...)
			if code != 0 {
				t.Fatalf("submit: exit %d: %s", code, stderr)
			}
			var tv chain.TaskView
			if err := json.Unmarshal([]byte(stdout), &tv); err != nil {
				t.Fatal(err)
			}
			if tv.Status != "accepted" || tv.Support != 3 {
				for i, p := range procs {
					b, _ := os.ReadFile(p.log)
					t.Logf("node %d log:\n%s", i, tail(string(b), 1500))
				}
				t.Fatalf("task %s: %s with support %d, want accepted with support 3 (built-in, and two adapters agreeing)", tv.ID, tv.Status, tv.Support)
			}
		})
	}
}

// waitModelNodes waits until n nodes are registered serving every one of models, and returns
// the registered nodes.
func waitModelNodes(t *testing.T, rpc string, procs []*proc, n int, models ...string) []chain.NodeView {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	for {
		cc, _, err := (&rpcOptions{rpc: []string{rpc}}).client(ctx, &globalOptions{logger: discardLogger()})
		if err == nil {
			var nodes []chain.NodeView
			if err := cc.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err == nil {
				var serving []chain.NodeView
				for _, nv := range nodes {
					has := map[string]bool{}
					for _, m := range nv.Models {
						name, _, _ := strings.Cut(m, "@")
						has[name] = true
					}
					ok := true
					for _, m := range models {
						ok = ok && has[m]
					}
					if ok {
						serving = append(serving, nv)
					}
				}
				if len(serving) >= n {
					return serving
				}
			}
		}
		select {
		case <-ctx.Done():
			for i, p := range procs {
				b, _ := os.ReadFile(p.log)
				t.Logf("node %d log:\n%s", i, tail(string(b), 2000))
			}
			t.Fatalf("fewer than %d nodes registered serving %v", n, models)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
