package remote

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/genquorum/genquorum/engine"
)

// fakeLlama is a llama-server double for failure tests: /props with one slot, /tokenize, and
// a /completion whose tokens come from gen (n is the request's number, from 1).
func fakeLlama(t *testing.T, gen func(n int64, w http.ResponseWriter, r *http.Request) []int32) *replay {
	var n atomic.Int64
	return newReplay(t, map[string]any{
		"GET /props": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"total_slots":1,"model_path":"m.gguf","build_info":"fake"}`))
		}),
		"POST /tokenize": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"tokens":[1,2,3]}`)) }),
		"POST /completion": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ids := gen(n.Add(1), w, r)
			if ids == nil {
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"content": "x", "tokens": ids, "tokens_predicted": len(ids), "tokens_evaluated": 3})
		}),
	})
}

// TestSelfTestRefusesNondeterministic: an engine whose answers change from one request to
// the next is refused in the repeat phase, one whose answers change only when another request
// runs beside it in the interleaved phase; both errors name the setting to change.
func TestSelfTestRefusesNondeterministic(t *testing.T) {
	// Drifts on every request, like a server with a prompt cache or random seeds.
	drifting := fakeLlama(t, func(n int64, _ http.ResponseWriter, _ *http.Request) []int32 { return []int32{5, int32(n)} })
	// Deterministic alone, different when two requests overlap, like a batching server. The
	// self-test's third and fourth requests are the concurrent ones: each waits for the other,
	// so they do overlap.
	var both sync.WaitGroup
	both.Add(2)
	batching := fakeLlama(t, func(n int64, _ http.ResponseWriter, r *http.Request) []int32 {
		if n >= 3 {
			both.Done()
			both.Wait()
			return []int32{5, 7, 9}
		}
		return []int32{5, 7, 8}
	})
	honest := fakeLlama(t, func(int64, http.ResponseWriter, *http.Request) []int32 { return []int32{5, 7, 8} })
	for _, tt := range []struct {
		name  string
		url   string
		phase string
	}{
		{"drifting", drifting.URL, "repeat"},
		{"batching", batching.URL, "interleaved"},
		{"honest", honest.URL, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := openSpec(t, "m=llamacpp:"+tt.url)
			probe, other := ProbeTasks(e)
			rep, err := SelfTest(t.Context(), e, probe, other)
			if tt.phase == "" {
				if err != nil || rep.Runs != 4 {
					t.Fatalf("SelfTest = %+v, %v; want a pass after 4 runs", rep, err)
				}
				return
			}
			var nd *NondeterministicError
			if !errors.As(err, &nd) || !errors.Is(err, ErrNondeterministic) {
				t.Fatalf("SelfTest = %v, want a *NondeterministicError", err)
			}
			if nd.Phase != tt.phase || !strings.Contains(err.Error(), "-np 1") || !strings.Contains(err.Error(), "cache") {
				t.Errorf("SelfTest error %q: want phase %s and the settings to change (-np 1, prompt cache)", err, tt.phase)
			}
		})
	}
}

// TestRetries: 503 and connection failures are retried with back-off; 400 is not; a server
// that keeps failing gives ErrUnreachable.
func TestRetries(t *testing.T) {
	var calls atomic.Int64
	flaky := fakeLlama(t, func(n int64, w http.ResponseWriter, _ *http.Request) []int32 {
		calls.Add(1)
		if n <= 2 {
			http.Error(w, `{"error":{"code":503,"message":"busy"}}`, 503)
			return nil
		}
		return []int32{4}
	})
	e := openSpec(t, "m=llamacpp:"+flaky.URL+"?backoff=1ms&retries=3")
	if _, err := e.Run(t.Context(), greedy("m")); err != nil || calls.Load() != 3 {
		t.Errorf("Run after two 503s = %v after %d calls, want success on the third", err, calls.Load())
	}

	calls.Store(0)
	bad := fakeLlama(t, func(n int64, w http.ResponseWriter, _ *http.Request) []int32 {
		calls.Add(1)
		http.Error(w, `{"error":{"code":400,"message":"bad"}}`, 400)
		return nil
	})
	e = openSpec(t, "m=llamacpp:"+bad.URL+"?backoff=1ms")
	var se *StatusError
	if _, err := e.Run(t.Context(), greedy("m")); !errors.As(err, &se) || se.Code != 400 || calls.Load() != 1 || !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("Run on a 400 = %v after %d calls, want one call and a StatusError 400 that is a refusal (ErrUnsupported)", err, calls.Load())
	}

	always := fakeLlama(t, func(n int64, w http.ResponseWriter, _ *http.Request) []int32 {
		http.Error(w, "down", 502)
		return nil
	})
	e = openSpec(t, "m=llamacpp:"+always.URL+"?backoff=1ms&retries=2")
	if _, err := e.Run(t.Context(), greedy("m")); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("Run on a server that keeps failing = %v, want ErrUnreachable after 3 attempts", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	sp, _ := ParseSpec("m=llamacpp:http://" + addr + "?backoff=1ms&retries=1")
	if _, err := Open(t.Context(), sp); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Open on a closed port = %v, want ErrUnreachable", err)
	}
}

// TestRefusals: a server's answers that refuse the task itself (400, 413, 422) wrap
// engine.ErrUnsupported, so that a node commits to the unrunnable fingerprint instead of
// missing its window; answers that say the operator's setup is wrong (401, 403, 404) or the
// server failed (500) do not.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		code    int
		refusal bool
	}{{400, true}, {413, true}, {422, true}, {401, false}, {403, false}, {500, false}} {
		srv := fakeLlama(t, func(n int64, w http.ResponseWriter, _ *http.Request) []int32 {
			http.Error(w, `{"error":{"message":"no"}}`, tc.code)
			return nil
		})
		e := openSpec(t, "m=llamacpp:"+srv.URL+"?backoff=1ms&retries=0")
		_, err := e.Run(t.Context(), greedy("m"))
		if err == nil || errors.Is(err, engine.ErrUnsupported) != tc.refusal {
			t.Errorf("Run on HTTP %d = %v, want refusal %v", tc.code, err, tc.refusal)
		}
	}
}

// TestResponseLimit: a body over max_bytes is refused, not read whole.
func TestResponseLimit(t *testing.T) {
	big := fakeLlama(t, func(n int64, w http.ResponseWriter, _ *http.Request) []int32 {
		w.Write([]byte(`{"content":"` + strings.Repeat("a", 4096) + `"}`))
		return nil
	})
	e := openSpec(t, "m=llamacpp:"+big.URL+"?max_bytes=2048")
	if _, err := e.Run(t.Context(), greedy("m")); !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "2048") {
		t.Errorf("Run on an oversized answer = %v, want ErrBadResponse naming the limit", err)
	}
}

// TestCancelStopsRequest: cancelling the task's context cancels the request in flight (the
// server sees its request context end) and Run returns context.Canceled.
func TestCancelStopsRequest(t *testing.T) {
	arrived := make(chan struct{})
	gone := make(chan struct{})
	hang := fakeLlama(t, func(n int64, w http.ResponseWriter, r *http.Request) []int32 {
		close(arrived)
		<-r.Context().Done()
		close(gone)
		return nil
	})
	e := openSpec(t, "m=llamacpp:"+hang.URL)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, greedy("m"))
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run cancelled mid-request = %v, want context.Canceled", err)
	}
	<-gone // the server saw the request end
}

// TestUnsupported: beam search, sampling on an engine with its own sampler, another kind and
// another model are refused with engine.ErrUnsupported before any request.
func TestUnsupported(t *testing.T) {
	e := openSpec(t, "m=llamacpp:"+fakeLlama(t, func(int64, http.ResponseWriter, *http.Request) []int32 { return []int32{1} }).URL)
	beam := greedy("m")
	beam.Text.Decode = "beam:4"
	img := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "m"}, Prompt: "x", Image: &engine.ImageParams{Steps: 1}}
	other := greedy("other")
	digest := greedy("m")
	digest.Model.Digest = engine.Digest{9}
	sample := greedy("m")
	sample.Text.Decode, sample.Text.Temperature = "sample", 0.8 // llama.cpp's own sampler: not genquorum's
	if e.Settings()["sampler"] != "native" {
		t.Errorf("settings %v: want sampler=native for a llama-server that is not genquorum serve", e.Settings())
	}
	for _, task := range []engine.Task{beam, img, other, digest, sample} {
		if _, err := e.Run(t.Context(), task); !errors.Is(err, engine.ErrUnsupported) {
			t.Errorf("Run(%s %s %v) = %v, want ErrUnsupported", task.Kind, task.Model, task.Text, err)
		}
	}
}

func TestParseSpec(t *testing.T) {
	d := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		in   string
		ok   bool
		want string // a field to check: "kind/url/model/retries"
	}{
		{"tiny=llamacpp:http://127.0.0.1:8080", true, "llamacpp http://127.0.0.1:8080 tiny 3"},
		{"tiny=llamacpp:http://h:1/?digest=" + d + "&retries=0&model=m.gguf", true, "llamacpp http://h:1 m.gguf 0"},
		{"q=openai:https://h/v?server=vllm&batch_invariant=1&ids=tokenize", true, "openai https://h/v q 3"},
		{"x=exec:/bin/cat?arg=-u&arg=-&kind=image&timeout=5s", true, "exec /bin/cat x 3"},
		{"tiny=llamacpp:http://h:1?ids=tokenize", false, ""}, // option of another kind
		{"tiny=llamacpp:ftp://h", false, ""},
		{"tiny=vllm:http://h", false, ""},
		{"=llamacpp:http://h", false, ""},
		{"tiny", false, ""},
		{"tiny=llamacpp:http://h?digest=12", false, ""},
		{"tiny=llamacpp:http://h?timeout=-1s", false, ""},
		{"tiny=llamacpp:http://h?retries=99", false, ""},
	} {
		sp, err := ParseSpec(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseSpec(%q) error %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		got := strings.Join([]string{sp.Kind, sp.URL, sp.Model, itoa(sp.Retries)}, " ")
		if got != tt.want {
			t.Errorf("ParseSpec(%q) = %s, want %s", tt.in, got, tt.want)
		}
		back, err := ParseSpec(sp.String())
		if err != nil || back.String() != sp.String() {
			t.Errorf("ParseSpec(%q).String() = %q does not read back (%v)", tt.in, sp.String(), err)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestStart: a node's Start requires a digest, refuses a text engine without ids (Ollama)
// and passes a reproducible engine.
func TestStart(t *testing.T) {
	d := "?digest=" + strings.Repeat("cd", 32)
	honest := fakeLlama(t, func(int64, http.ResponseWriter, *http.Request) []int32 { return []int32{5, 7, 8} })
	ollama := newReplay(t, map[string]any{"POST /api/show": "ollama-show.json", "POST /api/generate": "ollama-generate.json"})
	log := slog.New(slog.DiscardHandler)
	if _, err := Start(t.Context(), "m=llamacpp:"+honest.URL, log); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("Start without digest = %v, want an error asking for digest=", err)
	}
	if _, err := Start(t.Context(), "m=ollama:"+ollama.URL+d+"&model=llama3.1:8b", log); err == nil || !strings.Contains(err.Error(), "no token ids") {
		t.Errorf("Start on Ollama = %v, want a refusal for lack of exact token ids", err)
	}
	e, err := Start(t.Context(), "m=llamacpp:"+honest.URL+d, log)
	if err != nil {
		t.Fatalf("Start on a reproducible engine: %v", err)
	}
	if ok, why := NodeReady(e); !ok {
		t.Errorf("NodeReady = false (%s), want true", why)
	}
}
