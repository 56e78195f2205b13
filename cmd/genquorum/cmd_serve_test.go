package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	serveModel      = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"
	serveImageModel = "../../testdata/diffusion/base-preliminary.gguf"
)

// serveTestOptions are runServe's options for a test: an ephemeral port and small limits.
func serveTestOptions(onListen func(net.Addr)) serveOptions {
	return serveOptions{addr: "127.0.0.1:0", profile: "exact", slots: 1, maxTokens: 64, maxImageSize: 64, maxImages: 2,
		maxImageSteps: 4, shutdownTimeout: 5 * time.Second, onListen: onListen}
}

func TestServe(t *testing.T) {
	tests := []struct {
		name         string
		llms, images []string
		requests     []struct{ method, path, body, want string }
	}{
		{"text", []string{serveModel}, nil, []struct{ method, path, body, want string }{
			{"GET", "/health", "", `{"status":"ok"}`},
			{"POST", "/tokenize", `{"content": "In the beginning", "add_special": true}`, `{"tokens":[1,512,278,6763]}`},
			{"POST", "/completion", `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0}`, `"content":"corr days return loss藏"`},
			{"POST", "/completion", `{"prompt": "x", "n_predict": 65}`, `"code":400`},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "x"}`, `"detail":"no endpoint POST /sdapi/v1/txt2img"`},
		}},
		{"image", nil, []string{serveImageModel}, []struct{ method, path, body, want string }{
			{"GET", "/health", "", `{"status":"ok"}`},
			{"GET", "/sdapi/v1/sd-models", "", `"model_name":"base-preliminary"`},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "width": 64, "height": 64, "batch_size": 2}`,
				`\"all_seeds\":[1,2]`},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "steps": 5}`, `"detail":"bad request: steps 5: want 1 to 4"`},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "steps": 1, "width": 65}`, `"errors":"400: `},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "steps": 1, "batch_size": 3}`, `want 1 to 2 images`},
			{"POST", "/completion", `{"prompt": "x"}`, `"code":404`},
		}},
		{"both", []string{serveModel}, []string{serveImageModel}, []struct{ method, path, body, want string }{
			{"POST", "/completion", `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0}`, `"content":"corr days return loss藏"`},
			{"POST", "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "seed": 3, "steps": 1}`, `\"all_seeds\":[3]`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			addrs := make(chan net.Addr, 1)
			done := make(chan error, 1)
			g := &globalOptions{logger: discardLogger()}
			opts := serveTestOptions(func(a net.Addr) { addrs <- a })
			opts.llms, opts.imageModels = tt.llms, tt.images
			go func() { done <- runServe(ctx, g, opts) }()
			var url string
			select {
			case a := <-addrs:
				url = "http://" + a.String()
			case err := <-done:
				t.Fatalf("runServe returned before listening: %v", err)
			}
			for _, rq := range tt.requests {
				if got := request(t, rq.method, url+rq.path, rq.body); !strings.Contains(got, rq.want) {
					t.Errorf("%s %s = %.300s, want %s", rq.method, rq.path, got, rq.want)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("runServe after cancel: %v, want nil (graceful shutdown)", err)
			}
		})
	}
}

// request sends a request and returns its status and body as "<status> <body>".
func request(t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(resp.StatusCode) + " " + string(b)
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
		{[]string{"serve", "--image-model", "no/such/model.gguf"}, exitError},
		{[]string{"serve", "--image-model", "no-such-model"}, exitError},
		{[]string{"serve", "--image-model", serveModel}, exitError}, // a text model
		{[]string{"serve", "--image-model", serveImageModel, "--max-images", "0"}, exitUsage},
		{[]string{"serve", "--image-model", serveImageModel, "--max-image-size", "-1"}, exitUsage},
		{[]string{"serve", "--image-model", serveImageModel, "--max-image-steps", "0"}, exitUsage},
		{[]string{"serve", "--image-model", serveImageModel, "--image-model", serveImageModel, "--addr", "127.0.0.1:0"}, exitError}, // one name twice
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.want {
			t.Errorf("genquorum %v: exit %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
		}
	}
}
