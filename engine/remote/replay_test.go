package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
)

// replay is a test server answering "METHOD /path" with a file of testdata/replay (or of
// another directory when the name has a slash), or a handler; it records request bodies.
type replay struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]map[string]any
}

func readReplay(t testing.TB, name string) []byte {
	t.Helper()
	p := name
	if !strings.Contains(name, "/") {
		p = filepath.Join("testdata", "replay", name)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newReplay(t *testing.T, routes map[string]any) *replay {
	t.Helper()
	r := &replay{bodies: map[string][]map[string]any{}}
	files := map[string][]byte{}
	for k, v := range routes {
		if name, ok := v.(string); ok {
			files[k] = readReplay(t, name)
		}
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := req.Method + " " + req.URL.Path
		b, _ := io.ReadAll(req.Body)
		if len(b) > 0 {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				http.Error(w, "bad json", 400)
				return
			}
			r.mu.Lock()
			r.bodies[key] = append(r.bodies[key], m)
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		switch v := routes[key].(type) {
		case string:
			w.Header().Set("Content-Type", "application/json")
			w.Write(files[key])
		case http.HandlerFunc:
			v(w, req)
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// last returns the last body sent to route.
func (r *replay) last(t *testing.T, route string) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := r.bodies[route]
	if len(bs) == 0 {
		t.Fatalf("no request to %s", route)
	}
	return bs[len(bs)-1]
}

func greedy(name string) engine.Task {
	return engine.Task{Kind: engine.KindText, Model: engine.ModelRef{Name: name}, Prompt: "Once upon a time", Seed: 9,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 5}}
}

func wantFields(t *testing.T, body map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, _ := json.Marshal(body[k])
		w, _ := json.Marshal(v)
		if !bytes.Equal(got, w) {
			t.Errorf("request field %s = %s, want %s", k, got, w)
		}
	}
}

// TestLlamaServerB4748Replay reads real llama-server b4748 answers: /props (one slot, build
// recorded) and a /completion with return_tokens and n_probs 3.
func TestLlamaServerB4748Replay(t *testing.T) {
	const dir = "../../testdata/llamacpp/"
	r := newReplay(t, map[string]any{
		"GET /props":       dir + "server-props.json",
		"POST /tokenize":   dir + "api/tokenize.response.json",
		"POST /completion": dir + "api/completion-ids-greedy.response.json",
	})
	e := openSpec(t, "tiny-llama-a-f32=llamacpp:"+r.URL+"?n_probs=3")
	if s := e.Settings(); s["slots"] != "1" || s["build"] != "b4748-c392e5094" || s["n_ctx"] != "1024" || s["cache_prompt"] != "false" {
		t.Errorf("settings %v: want slots 1, build b4748-c392e5094, n_ctx 1024, cache_prompt false", s)
	}
	if !strings.Contains(e.Name(), "slots=1") || len(e.Name()) > maxLabelBytes {
		t.Errorf("Name() = %q: want the pinned settings, at most %d bytes", e.Name(), maxLabelBytes)
	}
	task := greedy("tiny-llama-a-f32")
	task.Prompt = "In the beginning"
	a, err := e.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{29725, 3841, 736, 6410, 31707}; !slices.Equal(a.Tokens, want) {
		t.Errorf("tokens %v, want %v (the response's)", a.Tokens, want)
	}
	if string(a.Data) != "corr days return loss藏" || len(a.Margins) != 5 {
		t.Errorf("text %q, %d margins; want the response's content and 5 margins", a.Data, len(a.Margins))
	}
	if m := a.Margins[0]; m < 1.617 || m > 1.618 { // -0.8179890513 - -2.4350488186
		t.Errorf("margin 0 = %v, want 1.6170598 (top-1 minus top-2 log-prob)", m)
	}
	wantFields(t, r.last(t, "POST /completion"), map[string]any{"prompt": []int{1, 512, 278, 6763}, "cache_prompt": false,
		"seed": 9, "n_probs": 3, "return_tokens": true, "temperature": 0, "samplers": []string{"top_k", "top_p", "temperature"}})
	wantFields(t, r.last(t, "POST /tokenize"), map[string]any{"content": "In the beginning", "add_special": true})
}

// TestLlamaServerChecks: several slots and another model are refused at Open.
func TestLlamaServerChecks(t *testing.T) {
	props := func(slots int, path string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"total_slots": slots, "model_path": path, "build_info": "b6000"})
		}
	}
	for _, tt := range []struct {
		name    string
		h       http.HandlerFunc
		want    error
		message string
	}{
		{"four slots", props(4, "models/m.gguf"), ErrNondeterministic, "-np 1"},
		{"other model", props(1, "models/other.gguf"), ErrWrongModel, "models/other.gguf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t, map[string]any{"GET /props": tt.h})
			sp, _ := ParseSpec("m=llamacpp:" + r.URL)
			_, err := Open(t.Context(), sp)
			if err == nil || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Open = %v, want %v naming %q", err, tt.want, tt.message)
			}
		})
	}
}

// TestVLLMReplay: ids from vLLM's token_ids (0.10.2+) and from its "token_id:N" logprob tokens
// (older, return_tokens_as_token_ids); the request asks for both and pins the seed.
func TestVLLMReplay(t *testing.T) {
	const model = "Qwen/Qwen2.5-1.5B-Instruct"
	want := []int32{1052, 572, 264, 2632, 3743}
	for _, file := range []string{"vllm-completion.json", "vllm-completion-token-id-strings.json"} {
		t.Run(file, func(t *testing.T) {
			r := newReplay(t, map[string]any{"GET /v1/models": "vllm-models.json", "POST /v1/completions": file})
			e := openSpec(t, "qwen=openai:"+r.URL+"?model="+model+"&server=vllm&batch_invariant=1")
			if s := e.Settings(); s["batch_invariant"] != "declared" || s["server"] != "vllm" {
				t.Errorf("settings %v", s)
			}
			task := greedy("qwen")
			enginetest.Run(t, e, task)
			a, err := e.Run(t.Context(), task)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Tokens, want) || string(a.Data) != " there was a little girl" || !strings.HasPrefix(a.Info["ids"], "exact") {
				t.Errorf("tokens %v text %q ids %q, want %v and the response's text, exact", a.Tokens, a.Data, a.Info["ids"], want)
			}
			if len(a.Margins) != 5 || a.Margins[0] < 0.889 || a.Margins[0] > 0.8892 {
				t.Errorf("margins %v, want 5 with the first 0.8891", a.Margins)
			}
			wantFields(t, r.last(t, "POST /v1/completions"), map[string]any{"model": model, "prompt": "Once upon a time", "seed": 9,
				"temperature": 0, "logprobs": 2, "return_token_ids": true, "return_tokens_as_token_ids": true, "n": 1, "stream": false})
		})
	}
}

// TestSGLangReplay: SGLang's /v1/completions carries no ids, so the default ids=response
// refuses it; ids=tokenize accepts re-tokenized ids (not exact). Deterministic inference is
// read from /get_server_info, and its absence refused.
func TestSGLangReplay(t *testing.T) {
	routes := map[string]any{"GET /v1/models": "sglang-models.json", "POST /v1/completions": "sglang-completion.json",
		"GET /get_server_info": "sglang-server-info.json", "POST /tokenize": "sglang-tokenize.json"}
	r := newReplay(t, routes)
	base := "llama=openai:" + r.URL + "?model=meta-llama/Llama-3.1-8B-Instruct&server=sglang"
	e := openSpec(t, base)
	if e.Settings()["deterministic_inference"] != "on" {
		t.Errorf("settings %v: want deterministic_inference on", e.Settings())
	}
	_, err := e.Run(t.Context(), greedy("llama"))
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "ids=tokenize") || !strings.Contains(err.Error(), "api=native") {
		t.Errorf("Run without ids = %v, want ErrBadResponse naming api=native and ids=tokenize", err)
	}

	e = openSpec(t, base+"&ids=tokenize")
	if e.ExactTokens() {
		t.Error("ids=tokenize: ExactTokens() = true, want false")
	}
	enginetest.Run(t, e, greedy("llama"))
	a, err := e.Run(t.Context(), greedy("llama"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{12366, 11, 279, 3363, 315}; !slices.Equal(a.Tokens, want) || !strings.HasPrefix(a.Info["ids"], "re-tokenized") {
		t.Errorf("tokens %v (%s), want %v re-tokenized", a.Tokens, a.Info["ids"], want)
	}
	wantFields(t, r.last(t, "POST /tokenize"), map[string]any{"prompt": " Paris, the city of", "add_special_tokens": false})

	off := newReplay(t, map[string]any{"GET /v1/models": "sglang-models.json", "GET /get_server_info": http.HandlerFunc(
		func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"enable_deterministic_inference": false}`))
		})})
	sp, _ := ParseSpec("llama=openai:" + off.URL + "?model=meta-llama/Llama-3.1-8B-Instruct&server=sglang")
	if _, err := Open(t.Context(), sp); !errors.Is(err, ErrNondeterministic) || !strings.Contains(err.Error(), "--enable-deterministic-inference") {
		t.Errorf("Open on SGLang without deterministic inference = %v, want ErrNondeterministic naming the flag", err)
	}
}

// TestOllamaReplay: raw:true, every sampling setting inside options (none top-level), a
// text artifact without ids, prompt ids refused, a missing model refused at Open.
func TestOllamaReplay(t *testing.T) {
	r := newReplay(t, map[string]any{"POST /api/show": "ollama-show.json", "POST /api/generate": "ollama-generate.json"})
	e := openSpec(t, "llama=ollama:"+r.URL+"?model=llama3.1:8b&num_ctx=4096")
	if e.ExactTokens() || e.Settings()["quant"] != "Q4_0" {
		t.Errorf("ExactTokens %v settings %v: want false and quant Q4_0", e.ExactTokens(), e.Settings())
	}
	task := greedy("llama")
	enginetest.Run(t, e, task)
	a, err := e.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	if a.Tokens != nil || a.MediaType != "text/plain; charset=utf-8" || string(a.Data) != " there was a small village by the sea." {
		t.Errorf("artifact %q %q tokens %v", a.MediaType, a.Data, a.Tokens)
	}
	body := r.last(t, "POST /api/generate")
	wantFields(t, body, map[string]any{"model": "llama3.1:8b", "prompt": "Once upon a time", "raw": true, "stream": false})
	opts, _ := body["options"].(map[string]any)
	wantFields(t, opts, map[string]any{"seed": 9, "temperature": 0, "num_predict": 5, "num_ctx": 4096, "top_k": 1})
	for _, k := range []string{"seed", "temperature", "num_ctx"} {
		if _, ok := body[k]; ok {
			t.Errorf("request has top-level %q, which Ollama ignores: it belongs in options", k)
		}
	}
	task.Text.PromptIDs = []int32{1, 2, 3}
	if _, err := e.Run(t.Context(), task); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("Run with prompt ids = %v, want ErrUnsupported", err)
	}

	missing := newReplay(t, map[string]any{"POST /api/show": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"model 'llama3.1:8b' not found"}`, 404)
	})})
	sp, _ := ParseSpec("llama=ollama:" + missing.URL + "?model=llama3.1:8b")
	if _, err := Open(t.Context(), sp); !errors.Is(err, ErrWrongModel) {
		t.Errorf("Open with a missing model = %v, want ErrWrongModel", err)
	}
}

// tinyPNG is a 1x1 PNG.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UWCgAAAABJRU5ErkJggg==")

// TestComfyUIReplay: the template's placeholders are filled with the task's values and JSON
// types, /history is polled until the prompt is done, and the output image (not the temp
// preview) is fetched with /view.
func TestComfyUIReplay(t *testing.T) {
	var mu sync.Mutex
	polls := 0
	var viewed []string
	r := newReplay(t, map[string]any{
		"GET /system_stats": "comfyui-system-stats.json",
		"POST /prompt":      "comfyui-prompt.json",
		"GET /history/6f962d0e-40d9-45e8-b378-7247258cadde": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			polls++
			if polls%2 == 1 { // queued: ComfyUI answers {} until the prompt has run
				w.Write([]byte("{}"))
				return
			}
			w.Write(readReplay(t, "comfyui-history.json"))
		}),
		"GET /view": http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			viewed = append(viewed, req.URL.RawQuery)
			mu.Unlock()
			w.Write(tinyPNG)
		}),
	})
	e := openSpec(t, "sd15=comfyui:"+r.URL+"?workflow=testdata/replay/comfyui-workflow.json&backoff=1ms")
	if s := e.Settings(); s["version"] != "0.3.66" || s["device"] != "cuda" || len(s["workflow"]) != 16 {
		t.Errorf("settings %v", s)
	}
	task := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "sd15"}, Prompt: `a "red" fox`, Seed: 1 << 40,
		Image: &engine.ImageParams{NegativePrompt: "blurry", Steps: 20, CFGScale: 7.5, Width: 512, Height: 768}}
	enginetest.Run(t, e, task)
	a, err := e.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, tinyPNG) || a.MediaType != "image/png" {
		t.Errorf("artifact %s of %d bytes, want the PNG /view served", a.MediaType, len(a.Data))
	}
	wf, _ := r.last(t, "POST /prompt")["prompt"].(map[string]any)
	node := func(id string) map[string]any {
		n, _ := wf[id].(map[string]any)
		in, _ := n["inputs"].(map[string]any)
		return in
	}
	wantFields(t, node("3"), map[string]any{"seed": 1 << 40, "steps": 20, "cfg": 7.5, "sampler_name": "euler"})
	wantFields(t, node("5"), map[string]any{"width": 512, "height": 768, "batch_size": 1})
	wantFields(t, node("6"), map[string]any{"text": `a "red" fox`})
	wantFields(t, node("7"), map[string]any{"text": "blurry"})
	mu.Lock()
	defer mu.Unlock()
	if len(viewed) == 0 || viewed[0] != "filename=genquorum_00001_.png&subfolder=&type=output" {
		t.Errorf("/view queries %q, want the output image of node 9", viewed)
	}
}

// TestComfyUICancel: a task cancelled while its prompt waits in ComfyUI's queue is deleted
// from the queue and interrupted, and Run returns context.Canceled.
func TestComfyUICancel(t *testing.T) {
	polled := make(chan struct{}, 1)
	var mu sync.Mutex
	var cleanup []string
	record := func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		cleanup = append(cleanup, req.URL.Path)
		mu.Unlock()
		w.Write([]byte("{}"))
	}
	r := newReplay(t, map[string]any{
		"GET /system_stats": "comfyui-system-stats.json",
		"POST /prompt":      "comfyui-prompt.json",
		"GET /history/6f962d0e-40d9-45e8-b378-7247258cadde": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			select {
			case polled <- struct{}{}:
			default:
			}
			w.Write([]byte("{}")) // still queued
		}),
		"POST /queue":     http.HandlerFunc(record),
		"POST /interrupt": http.HandlerFunc(record),
	})
	e := openSpec(t, "sd15=comfyui:"+r.URL+"?workflow=testdata/replay/comfyui-workflow.json&backoff=1ms")
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "sd15"}, Prompt: "a fox", Seed: 1,
			Image: &engine.ImageParams{Steps: 2}})
		errc <- err
	}()
	<-polled
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run cancelled while queued = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(cleanup, []string{"/queue", "/interrupt"}) {
		t.Errorf("cleanup requests %q, want /queue (delete) then /interrupt", cleanup)
	}
	if d, _ := json.Marshal(r.last(t, "POST /queue")); !strings.Contains(string(d), `"delete":["6f962d0e-40d9-45e8-b378-7247258cadde"]`) {
		t.Errorf("queue request %s, want the prompt deleted", d)
	}
}

// TestLlamaServerB4748OpenAIReplay: the openai adapter reads exact ids from llama-server
// b4748's real /v1/completions answer (logprobs.content[].id). /v1/models is not recorded;
// its stand-in lists the model by path, as llama-server does.
func TestLlamaServerB4748OpenAIReplay(t *testing.T) {
	r := newReplay(t, map[string]any{
		"GET /v1/models": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"object":"list","data":[{"id":"models/tiny-llama-a-f32.gguf","object":"model","owned_by":"llamacpp"}]}`))
		}),
		"POST /v1/completions": "../../testdata/llamacpp/api/v1-completions-greedy.response.json",
	})
	e := openSpec(t, "tiny-llama-a-f32=openai:"+r.URL+"?server=llamacpp&n_probs=3")
	a, err := e.Run(t.Context(), greedy("tiny-llama-a-f32"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{29725, 3841, 736, 6410, 31707}; !slices.Equal(a.Tokens, want) || a.Info["ids"] != "exact (logprobs.content ids)" {
		t.Errorf("tokens %v (%s), want %v from logprobs.content", a.Tokens, a.Info["ids"], want)
	}
	if len(a.Margins) != 5 || a.Margins[0] < 1.617 || a.Margins[0] > 1.618 {
		t.Errorf("margins %v, want 5 with the first 1.6170598", a.Margins)
	}
}
