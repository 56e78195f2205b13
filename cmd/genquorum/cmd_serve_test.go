package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const serveModel = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	g := &globalOptions{logger: discardLogger()}
	opts := serveOptions{llms: []string{serveModel}, addr: "127.0.0.1:0", profile: "exact", slots: 1,
		maxTokens: 64, shutdownTimeout: 5 * time.Second, onListen: func(a net.Addr) { addrs <- a }}
	go func() { done <- runServe(ctx, g, opts) }()
	var url string
	select {
	case a := <-addrs:
		url = "http://" + a.String()
	case err := <-done:
		t.Fatalf("runServe returned before listening: %v", err)
	}
	tests := []struct{ method, path, body, want string }{
		{"GET", "/health", "", `{"status":"ok"}`},
		{"POST", "/tokenize", `{"content": "In the beginning", "add_special": true}`, `{"tokens":[1,512,278,6763]}`},
		{"POST", "/completion", `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0}`, `"content":"corr days return loss藏"`},
		{"POST", "/completion", `{"prompt": "x", "n_predict": 65}`, `"code":400`},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, url+tt.path, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("%s %s = %d %s, want %s", tt.method, tt.path, resp.StatusCode, b, tt.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runServe after cancel: %v, want nil (graceful shutdown)", err)
	}
}

func TestServeUsage(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"serve"}, exitUsage},
		{[]string{"serve", "--llm", serveModel, "--profile", "no-such-profile"}, exitUsage},
		{[]string{"serve", "--llm", serveModel, "--slots", "0"}, exitUsage},
		{[]string{"serve", "--llm", "no/such/model.gguf"}, exitError},
		{[]string{"serve", "--llm", serveModel, "--llm", serveModel, "--addr", "127.0.0.1:0"}, exitError}, // one name twice
		{[]string{"serve", "--llm", serveModel, "--addr", "127.0.0.1:99999"}, exitError},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.want {
			t.Errorf("genquorum %v: exit %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
		}
	}
}
