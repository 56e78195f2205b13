package server

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genquorum/genquorum/engine/llm"
)

const apiDir = "../testdata/llamacpp/api"

// logprobTol is engine/llm's tolerance for tiny-llama-a-f32's log-probs against llama.cpp's
// (engine/llm conformance_test.go): the engine agrees with llama.cpp to float32 summation
// order, not to the bit.
const logprobTol = 1e-3

// The api/ examples were made with tiny-llama-a-f32.gguf (testdata/llamacpp/README.md).
const modelPath = "../testdata/llamacpp/models/tiny-llama-a-f32.gguf"

var loadLLM = sync.OnceValues(func() (*llm.Engine, error) { return llm.Open(modelPath, llm.Options{}) })

func testEngine(t testing.TB) *llm.Engine { return must(t, loadLLM) }

// must returns what load returns, failing t when it fails.
func must[T any](t testing.TB, load func() (T, error)) T {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newTest returns a Server on eng with cfg's limits and an httptest.Server serving it.
func newTest(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	cfg.LLMs = []*llm.Engine{testEngine(t)}
	return serveTest(t, cfg)
}

// serveTest returns a Server of cfg and an httptest.Server serving it.
func serveTest(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func readAPI(t *testing.T, name string) []byte { return readAPIB(t, name) }

func readAPIB(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apiDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response %q is not a JSON object: %v", b, err)
	}
	return v
}

// do sends a request and returns the status and the body.
func do(t *testing.T, method, url, body string) (int, []byte) {
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
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON", method, url, ct)
	}
	return resp.StatusCode, b
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// checkShape reports keys of want missing from got (when all is set) and keys of got that
// want lacks or holds with another JSON type; arrays of objects are compared by first element.
func checkShape(t *testing.T, path string, got, want map[string]any, all bool) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[k]; !ok && all {
			t.Errorf("%s: key %q missing", path, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: key %q not in llama-server's response", path, k)
			continue
		}
		g := got[k]
		if jsonType(g) != jsonType(w) {
			t.Errorf("%s.%s: type %s, want %s", path, k, jsonType(g), jsonType(w))
			continue
		}
		switch g := g.(type) {
		case map[string]any:
			checkShape(t, path+"."+k, g, w.(map[string]any), all && k != "generation_settings" && k != "timings")
		case []any:
			wa := w.([]any)
			if len(g) > 0 && len(wa) > 0 {
				if go_, ok := g[0].(map[string]any); ok {
					checkShape(t, path+"."+k+"[0]", go_, wa[0].(map[string]any), all)
				} else if jsonType(g[0]) != jsonType(wa[0]) {
					t.Errorf("%s.%s[0]: type %s, want %s", path, k, jsonType(g[0]), jsonType(wa[0]))
				}
			}
		}
	}
}

// probIDs lists the chosen and top ids of completion_probabilities, and the largest log-prob
// difference from want's.
func compareProbs(t *testing.T, name string, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d positions of probabilities, want %d", name, len(got), len(want))
	}
	var maxDiff float64
	for i := range got {
		g, w := got[i].(map[string]any), want[i].(map[string]any)
		gt, wt := g["top_logprobs"].([]any), w["top_logprobs"].([]any)
		if g["id"] != w["id"] || g["token"] != w["token"] || len(gt) != len(wt) {
			t.Errorf("%s: position %d: id %v token %q (%d top), want %v %q (%d)", name, i, g["id"], g["token"], len(gt), w["id"], w["token"], len(wt))
			continue
		}
		maxDiff = max(maxDiff, math.Abs(g["logprob"].(float64)-w["logprob"].(float64)))
		for j := range gt {
			ge, we := gt[j].(map[string]any), wt[j].(map[string]any)
			if ge["id"] != we["id"] || ge["token"] != we["token"] || !slices.Equal(ge["bytes"].([]any), we["bytes"].([]any)) {
				t.Errorf("%s: position %d top %d: %v %q, want %v %q", name, i, j, ge["id"], ge["token"], we["id"], we["token"])
			}
			maxDiff = max(maxDiff, math.Abs(ge["logprob"].(float64)-we["logprob"].(float64)))
		}
	}
	// engine/llm's conformance tolerance for this model's log-probs against llama.cpp
	// (engine/llm conformance_test.go); the server only passes them on.
	if maxDiff > logprobTol {
		t.Errorf("%s: log-probs differ from llama-server's by up to %g", name, maxDiff)
	}
	t.Logf("%s: largest log-prob difference from llama-server %g", name, maxDiff)
}

func TestCompletionMatchesLlamaServer(t *testing.T) {
	_, ts := newTest(t, Config{})
	for _, name := range []string{"completion-text-greedy", "completion-ids-greedy", "completion-sample"} {
		t.Run(name, func(t *testing.T) {
			code, body := do(t, "POST", ts.URL+"/completion", string(readAPI(t, name+".request.json")))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			got, want := decode(t, body), decode(t, readAPI(t, name+".response.json"))
			checkShape(t, name, got, want, true)
			for _, k := range []string{"tokens_predicted", "tokens_evaluated", "prompt", "stop", "stop_type", "tokens_cached", "has_new_line", "truncated"} {
				if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
					t.Errorf("%s = %v, want %v", k, got[k], want[k])
				}
			}
			if strings.HasSuffix(name, "greedy") {
				if fmt.Sprint(got["tokens"]) != fmt.Sprint(want["tokens"]) || got["content"] != want["content"] {
					t.Errorf("tokens %v %q, want %v %q", got["tokens"], got["content"], want["tokens"], want["content"])
				}
				compareProbs(t, name, got["completion_probabilities"].([]any), want["completion_probabilities"].([]any))
				return
			}
			// Sampling is engine/llm's sampler, not llama.cpp's: only the first position's
			// alternatives, which do not depend on the draw, can be compared.
			g0 := got["completion_probabilities"].([]any)[0].(map[string]any)
			w0 := want["completion_probabilities"].([]any)[0].(map[string]any)
			g0["id"], g0["token"], g0["logprob"] = w0["id"], w0["token"], w0["logprob"]
			compareProbs(t, name+" position 0", []any{g0}, []any{w0})
		})
	}
}

func TestOpenAIMatchesLlamaServer(t *testing.T) {
	_, ts := newTest(t, Config{})
	code, body := do(t, "POST", ts.URL+"/v1/completions", string(readAPI(t, "v1-completions-greedy.request.json")))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	got, want := decode(t, body), decode(t, readAPI(t, "v1-completions-greedy.response.json"))
	// Our logprobs carry OpenAI's legacy fields beside llama-server's content: compare the
	// choice without them, then check them.
	gc := got["choices"].([]any)[0].(map[string]any)
	lp := gc["logprobs"].(map[string]any)
	legacy := map[string]any{}
	for _, k := range []string{"tokens", "token_logprobs", "top_logprobs", "text_offset"} {
		legacy[k] = lp[k]
		delete(lp, k)
	}
	checkShape(t, "v1", got, want, true)
	wc := want["choices"].([]any)[0].(map[string]any)
	if gc["text"] != wc["text"] || gc["finish_reason"] != wc["finish_reason"] || fmt.Sprint(got["usage"]) != fmt.Sprint(want["usage"]) {
		t.Errorf("choice %q %v usage %v, want %q %v %v", gc["text"], gc["finish_reason"], got["usage"], wc["text"], wc["finish_reason"], want["usage"])
	}
	compareProbs(t, "v1", lp["content"].([]any), wc["logprobs"].(map[string]any)["content"].([]any))
	if got["object"] != "text_completion" || !strings.HasPrefix(got["id"].(string), "cmpl-") {
		t.Errorf("object %v id %v", got["object"], got["id"])
	}
	wantTokens := []any{"corr", " days", " return", " loss", "藏"}
	if fmt.Sprint(legacy["tokens"]) != fmt.Sprint(wantTokens) || fmt.Sprint(legacy["text_offset"]) != "[0 4 9 16 21]" {
		t.Errorf("legacy tokens %v offsets %v", legacy["tokens"], legacy["text_offset"])
	}
	if top := legacy["top_logprobs"].([]any)[0].(map[string]any); len(top) != 3 || top["corr"] == nil {
		t.Errorf("legacy top_logprobs[0] = %v", top)
	}
	if lps := legacy["token_logprobs"].([]any); len(lps) != 5 || lps[0] != lp["content"].([]any)[0].(map[string]any)["logprob"] {
		t.Errorf("legacy token_logprobs %v", lps)
	}
}

func TestOpenAIChoices(t *testing.T) {
	_, ts := newTest(t, Config{})
	text := func(body string) []string {
		t.Helper()
		code, b := do(t, "POST", ts.URL+"/v1/completions", body)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", body, code, b)
		}
		var out []string
		for i, c := range decode(t, b)["choices"].([]any) {
			c := c.(map[string]any)
			if c["index"].(float64) != float64(i) || c["logprobs"] != nil {
				t.Errorf("%s: choice %d: index %v logprobs %v", body, i, c["index"], c["logprobs"])
			}
			out = append(out, c["text"].(string))
		}
		return out
	}
	greedy := text(`{"prompt": ["In the beginning", [1, 512, 278, 6763], "Once"], "max_tokens": 4, "temperature": 0, "n": 2}`)
	if len(greedy) != 6 || greedy[0] != greedy[1] || greedy[0] != greedy[2] || greedy[0] != "corr days return loss" || greedy[4] == greedy[0] {
		t.Errorf("greedy choices %q", greedy)
	}
	sampled := text(`{"prompt": "In the beginning", "max_tokens": 6, "temperature": 1, "top_p": 1, "seed": 7, "n": 2}`)
	second := text(`{"prompt": "In the beginning", "max_tokens": 6, "temperature": 1, "top_p": 1, "seed": 8}`)
	if len(sampled) != 2 || sampled[1] != second[0] {
		t.Errorf("choice 1 of seed 7 = %q, want seed 8's %q", sampled, second)
	}
}

func TestTokenize(t *testing.T) {
	_, ts := newTest(t, Config{})
	tests := []struct {
		endpoint, body, want string
	}{
		{"/tokenize", `{"content": "In the beginning", "add_special": true}`, string(readAPI(t, "tokenize.response.json"))},
		{"/tokenize", `{"content": "In the beginning"}`, `{"tokens":[512,278,6763]}`},
		{"/tokenize", `{"content": "<s> hello </s> world", "add_special": true}`, `{"tokens":[1,1,29871,22172,29871,2,29871,3186]}`},
		{"/tokenize", `{"content": ""}`, `{"tokens":[]}`},
		{"/tokenize", `{"content": "In the", "with_pieces": true}`, `{"tokens":[{"id":512,"piece":" In"},{"id":278,"piece":" the"}]}`},
		{"/tokenize", `{"content": "藏", "with_pieces": true}`, `{"tokens":[{"id":29871,"piece":" "},{"id":31707,"piece":"藏"}]}`},
		{"/detokenize", `{"tokens": [1, 512, 278, 6763]}`, `{"content":"<s> In the beginning"}`},
		{"/detokenize", `{"tokens": []}`, `{"content":""}`},
	}
	for _, tt := range tests {
		code, got := do(t, "POST", ts.URL+tt.endpoint, tt.body)
		if code != http.StatusOK || strings.TrimSpace(string(got)) != strings.TrimSpace(tt.want) {
			t.Errorf("POST %s %s = %d %s, want %s", tt.endpoint, tt.body, code, got, tt.want)
		}
	}
}

func TestModelsAndHealth(t *testing.T) {
	_, ts := newTest(t, Config{})
	code, b := do(t, "GET", ts.URL+"/health", "")
	if code != http.StatusOK || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("GET /health = %d %s", code, b)
	}
	code, b = do(t, "GET", ts.URL+"/v1/models", "")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/models = %d %s", code, b)
	}
	v := decode(t, b)
	data := v["data"].([]any)
	if v["object"] != "list" || len(data) != 1 {
		t.Fatalf("GET /v1/models = %s", b)
	}
	m := data[0].(map[string]any)
	meta := m["meta"].(map[string]any)
	if m["id"] != "tiny-llama-a-f32" || m["object"] != "model" || meta["n_vocab"] != 32000.0 || meta["n_ctx_train"] != 1024.0 || meta["profile"] != "exact" {
		t.Errorf("model entry %v", m)
	}
}

func TestErrors(t *testing.T) {
	_, ts := newTest(t, Config{MaxTokens: 2000, MaxBodyBytes: 4096})
	big := `{"prompt": "` + strings.Repeat("a", 5000) + `"}`
	ids := strings.Repeat("1,", 1023) + "1" // 1024 tokens: the whole context
	tests := []struct {
		name, method, path, body string
		code                     int
	}{
		{"bad JSON", "POST", "/completion", `{"prompt": "x",`, 400},
		{"not an object", "POST", "/completion", `["x"]`, 400},
		{"empty body", "POST", "/v1/completions", ``, 400},
		{"no prompt", "POST", "/completion", `{"n_predict": 1}`, 400},
		{"prompt of wrong type", "POST", "/completion", `{"prompt": {"a": 1}}`, 400},
		{"nested prompt on /completion", "POST", "/completion", `{"prompt": [[1, 2]]}`, 400},
		{"empty prompt array", "POST", "/v1/completions", `{"prompt": []}`, 400},
		{"token id out of range", "POST", "/completion", `{"prompt": [1, 32000], "n_predict": 1}`, 400},
		{"negative token id", "POST", "/completion", `{"prompt": [-1], "n_predict": 1}`, 400},
		{"oversize body", "POST", "/completion", big, 413},
		{"stop not a string", "POST", "/completion", `{"prompt": "x", "stop": 5}`, 400},
		{"stop of wrong type", "POST", "/v1/completions", `{"prompt": "x", "stop": [1]}`, 400},
		{"too many stops", "POST", "/v1/completions", `{"prompt": "x", "stop": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`, 400},
		{"stop too long", "POST", "/completion", `{"prompt": "x", "stop": ["` + strings.Repeat("s", 1025) + `"]}`, 400},
		{"echo with logprobs", "POST", "/v1/completions", `{"prompt": "x", "echo": true, "logprobs": 1}`, 400},
		{"chat without messages", "POST", "/v1/chat/completions", `{"max_tokens": 1}`, 400},
		{"chat empty messages", "POST", "/v1/chat/completions", `{"messages": []}`, 400},
		{"chat message without role", "POST", "/v1/chat/completions", `{"messages": [{"content": "hi"}]}`, 400},
		{"chat image part", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}`, 400},
		{"chat top_logprobs without logprobs", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}`, 400},
		{"chat top_logprobs too large", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 21}`, 400},
		{"chat logprobs not a bool", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "logprobs": 3}`, 400},
		{"chat max_tokens too large", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5000}`, 400},
		{"wrong method on props", "POST", "/props", `{}`, 405},
		{"n_predict too large", "POST", "/completion", `{"prompt": "x", "n_predict": 2001}`, 400},
		{"n_predict below -1", "POST", "/completion", `{"prompt": "x", "n_predict": -2}`, 400},
		{"context overflow", "POST", "/completion", `{"prompt": "x", "n_predict": 1023}`, 400},
		{"prompt fills the context", "POST", "/completion", `{"prompt": [` + ids + `]}`, 400},
		{"max_tokens too large", "POST", "/v1/completions", `{"prompt": "x", "max_tokens": 5000}`, 400},
		{"n_probs too large", "POST", "/completion", `{"prompt": "x", "n_probs": 21}`, 400},
		{"logprobs too large", "POST", "/v1/completions", `{"prompt": "x", "logprobs": 21}`, 400},
		{"logprobs bool", "POST", "/v1/completions", `{"prompt": "x", "logprobs": true}`, 400},
		{"n too large", "POST", "/v1/completions", `{"prompt": "x", "n": 9}`, 400},
		{"n zero", "POST", "/v1/completions", `{"prompt": "x", "n": 0}`, 400},
		{"choices too many", "POST", "/v1/completions", `{"prompt": ["a","b","c"], "n": 3}`, 400},
		{"bad seed", "POST", "/completion", `{"prompt": "x", "seed": -5}`, 400},
		{"fractional seed", "POST", "/completion", `{"prompt": "x", "seed": 1.5}`, 400},
		{"bad top_p", "POST", "/completion", `{"prompt": "x", "top_p": 2}`, 400},
		{"n_predict not a number", "POST", "/completion", `{"prompt": "x", "n_predict": "5"}`, 400},
		{"bad detokenize id", "POST", "/detokenize", `{"tokens": [40000]}`, 400},
		{"bad tokenize body", "POST", "/tokenize", `{"content": 5}`, 400},
		{"unknown path", "GET", "/v2/whatever", ``, 404},
		{"wrong method", "GET", "/completion", ``, 405},
		{"wrong method on models", "POST", "/v1/models", `{}`, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := do(t, tt.method, ts.URL+tt.path, tt.body)
			if code != tt.code {
				t.Errorf("status %d, want %d (%s)", code, tt.code, b)
			}
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != tt.code || e.Error.Message == "" || e.Error.Type == "" {
				t.Errorf("error body %s, want {\"error\": {\"code\": %d, ...}}", b, tt.code)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	s, ts := newTest(t, Config{Slots: 2})
	held := []int{<-s.slots, <-s.slots} // every slot taken, as by two running generations
	code, b := do(t, "POST", ts.URL+"/completion", `{"prompt": "x", "n_predict": 1}`)
	var e errorBody
	if json.Unmarshal(b, &e); code != http.StatusServiceUnavailable || e.Error.Code != 503 || e.Error.Type != "unavailable_error" {
		t.Errorf("busy /completion = %d %s, want 503", code, b)
	}
	if code, b := do(t, "POST", ts.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 1}`); code != http.StatusServiceUnavailable {
		t.Errorf("busy /v1/completions = %d %s, want 503", code, b)
	}
	if code, b := do(t, "POST", ts.URL+"/tokenize", `{"content": "x"}`); code != http.StatusOK {
		t.Errorf("busy /tokenize = %d %s, want 200 (takes no slot)", code, b)
	}
	s.release(held[1])
	code, b = do(t, "POST", ts.URL+"/completion", `{"prompt": "x", "n_predict": 1}`)
	if code != http.StatusOK || decode(t, b)["id_slot"] != float64(held[1]) {
		t.Errorf("after a release: %d %s, want 200 on slot %d", code, b, held[1])
	}
	if len(s.slots) != 1 {
		t.Errorf("%d free slots after the request, want 1", len(s.slots))
	}
}

func TestClientGone(t *testing.T) {
	s, _ := serveTest(t, Config{LLMs: []*llm.Engine{testEngine(t)}, Image: testImageEngine(t)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tt := range []struct{ path, body string }{
		{"/completion", `{"prompt": "x", "n_predict": 50}`},
		{"/sdapi/v1/txt2img", `{"prompt": "x", "steps": 50, "batch_size": 8}`},
	} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "POST", tt.path, strings.NewReader(tt.body)))
		if rec.Code != statusClientClosed {
			t.Errorf("%s: status %d, want %d", tt.path, rec.Code, statusClientClosed)
		}
		if len(s.slots) != cap(s.slots) {
			t.Errorf("%s: slot not released", tt.path)
		}
	}
}

// dropVolatile removes the fields that may differ between two identical requests.
func dropVolatile(t *testing.T, b []byte) string {
	v := decode(t, b)
	delete(v, "id")
	delete(v, "created")
	delete(v, "timings")
	out, _ := json.Marshal(v)
	return string(out)
}

func TestDeterminism(t *testing.T) {
	_, ts := newTest(t, Config{})
	tests := []struct{ path, body string }{
		{"/completion", `{"prompt": "Once upon a time", "n_predict": 8, "temperature": 0.9, "top_k": 0, "top_p": 0.9, "seed": 3, "n_probs": 2, "return_tokens": true}`},
		{"/completion", `{"prompt": "Once upon a time", "n_predict": 8}`},
		{"/v1/completions", `{"prompt": "Once upon a time", "max_tokens": 8, "temperature": 1, "seed": 3, "logprobs": 2, "n": 2}`},
	}
	for _, tt := range tests {
		c1, b1 := do(t, "POST", ts.URL+tt.path, tt.body)
		c2, b2 := do(t, "POST", ts.URL+tt.path, tt.body)
		if c1 != http.StatusOK || c2 != http.StatusOK || dropVolatile(t, b1) != dropVolatile(t, b2) {
			t.Errorf("POST %s %s twice:\n%d %s\n%d %s", tt.path, tt.body, c1, b1, c2, b2)
		}
	}
}

func TestCompletionBudget(t *testing.T) {
	_, ts := newTest(t, Config{MaxTokens: 7})
	tests := []struct {
		body     string
		n        int
		stopType string
	}{
		{`{"prompt": "In the beginning", "temperature": 0}`, 7, "limit"}, // -1: the server's limit
		{`{"prompt": "In the beginning", "n_predict": 0}`, 0, "limit"},   // prompt only
		{`{"prompt": "In the beginning", "n_predict": 3, "temperature": 0}`, 3, "limit"},
	}
	// top_p 0 keeps only the most likely token, as in llama.cpp: sampling is then greedy.
	_, greedy := do(t, "POST", ts.URL+"/completion", `{"prompt": "Once upon a time", "n_predict": 7, "temperature": 0}`)
	_, topP0 := do(t, "POST", ts.URL+"/completion", `{"prompt": "Once upon a time", "n_predict": 7, "temperature": 1.5, "top_p": 0, "seed": 9}`)
	if g, s := decode(t, greedy)["content"], decode(t, topP0)["content"]; g != s {
		t.Errorf("top_p 0 sampled %q, want greedy %q", s, g)
	}
	for _, tt := range tests {
		code, b := do(t, "POST", ts.URL+"/completion", tt.body)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d %s", tt.body, code, b)
		}
		v := decode(t, b)
		if v["tokens_predicted"] != float64(tt.n) || v["stop_type"] != tt.stopType {
			t.Errorf("%s: %v tokens, stop %v; want %d, %s", tt.body, v["tokens_predicted"], v["stop_type"], tt.n, tt.stopType)
		}
		if _, ok := v["completion_probabilities"]; ok {
			t.Errorf("%s: completion_probabilities without n_probs", tt.body)
		}
		if fmt.Sprint(v["tokens"]) != "[]" {
			t.Errorf("%s: tokens %v without return_tokens", tt.body, v["tokens"])
		}
	}
}

func TestStopType(t *testing.T) {
	isEOG := func(id int32) bool { return id == 2 }
	tests := []struct {
		tokens []int32
		p      llm.Params
		want   string
	}{
		{[]int32{5, 6, 7}, llm.Params{MaxTokens: 3}, "limit"},
		{[]int32{5, 2}, llm.Params{MaxTokens: 3}, "eos"},
		{[]int32{2}, llm.Params{MaxTokens: 1}, "eos"}, // EOS as the last allowed token is still EOS
		{[]int32{5, 2, 7}, llm.Params{MaxTokens: 3, IgnoreEOG: true}, "limit"},
		{[]int32{5, 2}, llm.Params{MaxTokens: 2, IgnoreEOG: true}, "limit"},
		{nil, llm.Params{MaxTokens: 0}, "limit"},
	}
	for _, tt := range tests {
		if got := stopType(isEOG, tt.tokens, tt.p); got != tt.want {
			t.Errorf("stopType(%v, %+v) = %q, want %q", tt.tokens, tt.p, got, tt.want)
		}
	}
}

func TestTwoModels(t *testing.T) {
	gqa, err := llm.Open("../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf", llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, ts := serveTest(t, Config{LLMs: []*llm.Engine{testEngine(t), gqa}})
	texts := map[string]string{}
	for _, model := range []string{"", "tiny-llama-a-f32", "tiny-llama-b-gqa-f16"} {
		code, b := do(t, "POST", ts.URL+"/completion", `{"model": "`+model+`", "prompt": "In the beginning", "n_predict": 5, "temperature": 0}`)
		if code != http.StatusOK {
			t.Fatalf("model %q: %d %s", model, code, b)
		}
		v := decode(t, b)
		texts[model] = v["content"].(string)
		if want := cmp.Or(model, "tiny-llama-a-f32"); v["model"] != want {
			t.Errorf("model %q answered as %v, want %s", model, v["model"], want)
		}
	}
	if texts[""] != texts["tiny-llama-a-f32"] || texts[""] != "corr days return loss藏" || texts["tiny-llama-b-gqa-f16"] == texts[""] {
		t.Errorf("continuations %q", texts)
	}
	code, b := do(t, "GET", ts.URL+"/v1/models", "")
	if ids := fmt.Sprint(decode(t, b)["data"]); code != http.StatusOK || !strings.Contains(ids, "tiny-llama-b-gqa-f16") {
		t.Errorf("GET /v1/models = %d %s", code, b)
	}
	// With two models a name must name one of them (with one, any name is accepted).
	if code, b := do(t, "POST", ts.URL+"/v1/completions", `{"model": "gpt-4", "prompt": "x", "max_tokens": 1}`); code != http.StatusNotFound {
		t.Errorf("unknown model with two served: %d %s, want 404", code, b)
	}
	if _, err := New(Config{LLMs: []*llm.Engine{gqa, gqa}}); err == nil {
		t.Error("New with two models of one name: no error")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without models: no error")
	}
}

func BenchmarkCompletionGreedy5(b *testing.B) {
	benchPost(b, Config{LLMs: []*llm.Engine{testEngine(b)}}, "/completion", string(readAPIB(b, "completion-text-greedy.request.json")))
}

func BenchmarkTokenize(b *testing.B) {
	benchPost(b, Config{LLMs: []*llm.Engine{testEngine(b)}}, "/tokenize", `{"content": "In the beginning", "add_special": true}`)
}

// benchPost measures POST path with body on a Server of cfg, the whole handler included.
func benchPost(b *testing.B, cfg Config, path, body string) {
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Body.String())
		}
	}
}

// TestConcurrentRequests sends more generations at once than there are slots: each gets the
// reference answer or a 503, never anything else, and every slot comes back.
func TestConcurrentRequests(t *testing.T) {
	s, ts := newTest(t, Config{Slots: 2})
	const n = 6
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), "POST", ts.URL+"/completion",
				strings.NewReader(`{"prompt": "In the beginning", "n_predict": 5, "temperature": 0}`))
			if err != nil {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			codes[i], bodies[i] = resp.StatusCode, string(b)
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case codes[i] == http.StatusOK && strings.Contains(bodies[i], `"content":"corr days return loss藏"`):
			ok++
		case codes[i] == http.StatusServiceUnavailable:
		default:
			t.Errorf("request %d: %d %s", i, codes[i], bodies[i])
		}
	}
	if ok == 0 {
		t.Error("no request succeeded")
	}
	if len(s.slots) != 2 {
		t.Errorf("%d free slots after the requests, want 2", len(s.slots))
	}
}

// TestServe: Serve answers on its listener until ctx ends, then returns nil (graceful
// stop); a listener that fails makes it return that error.
func TestServe(t *testing.T) {
	s, err := New(Config{LLMs: []*llm.Engine{testEngine(t)}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 5*time.Second) }()
	if code, b := do(t, "GET", "http://"+ln.Addr().String()+"/health", ""); code != http.StatusOK || !strings.Contains(string(b), `"ok"`) {
		t.Errorf("GET /health = %d %s, want 200 ok", code, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v, want nil", err)
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := s.Serve(t.Context(), closed, time.Second); err == nil {
		t.Errorf("Serve on a closed listener: nil error")
	}
}
