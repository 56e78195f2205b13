package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine/llm"
)

// stream posts body to url and returns the decoded events of the server-sent-event response
// and whether it ended with "data: [DONE]".
func stream(t *testing.T, url, body string) (events []map[string]any, done bool) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: status %d, Content-Type %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not a data line", line)
		}
		if done {
			t.Fatalf("event %q after [DONE]", data)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events, done
}

// The greedy continuation of "In the beginning" by tiny-llama-a-f32 is "corr days return
// loss藏" (tokens corr, ▁days, ▁return, ▁loss, 藏), as llama-server's (testdata api/).

func TestAnyModelName(t *testing.T) {
	_, ts := newTest(t, Config{})
	for _, path := range []string{"/completion", "/v1/completions"} {
		code, b := do(t, "POST", ts.URL+path, `{"model": "gpt-3.5-turbo-instruct", "prompt": "In the beginning", "max_tokens": 5, "n_predict": 5, "temperature": 0}`)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		v := decode(t, b)
		want := "tiny-llama-a-f32" // llama-server's native API names the model it ran
		if path == "/v1/completions" {
			want = "gpt-3.5-turbo-instruct" // the OpenAI API answers with the name asked for
		}
		if v["model"] != want {
			t.Errorf("%s: model %v, want %s", path, v["model"], want)
		}
	}
}

func TestStop(t *testing.T) {
	_, ts := newTest(t, Config{})
	tests := []struct {
		stop      string
		content   string
		word      string
		predicted int
	}{
		{`" return"`, "corr days", " return", 3},
		{`["ys ret", "zzz"]`, "corr da", "ys ret", 3},                          // inside tokens
		{`["loss", " days"]`, "corr", " days", 2},                              // the earliest wins
		{`"藏"`, "corr days return loss", "藏", 5},                               // a whole multi-byte token
		{`["never"]`, "corr days return loss藏", "", 5},                         // no match: limit
		{`["", "rr"]`, "co", "rr", 1},                                          // empty strings are ignored
		{`"corr days return loss藏 and more"`, "corr days return loss藏", "", 5}, // a partial match at the end is sent
	}
	for _, tt := range tests {
		t.Run(tt.stop, func(t *testing.T) {
			code, b := do(t, "POST", ts.URL+"/completion", `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0, "n_probs": 2, "stop": `+tt.stop+`}`)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, b)
			}
			v := decode(t, b)
			wantType := "word"
			if tt.word == "" {
				wantType = "limit"
			}
			if v["content"] != tt.content || v["stop_type"] != wantType || v["stopping_word"] != tt.word || v["tokens_predicted"] != float64(tt.predicted) {
				t.Errorf("content %q stop_type %v stopping_word %q predicted %v; want %q %s %q %d",
					v["content"], v["stop_type"], v["stopping_word"], v["tokens_predicted"], tt.content, wantType, tt.word, tt.predicted)
			}
			// llama-server drops as many entries as the stop string has tokens alone.
			probs, _ := v["completion_probabilities"].([]any)
			wantProbs := tt.predicted
			if tt.word != "" {
				wantProbs -= min(tt.predicted, len(testEngine(t).Model().Tok.Encode(tt.word, false, false)))
			}
			if len(probs) != wantProbs {
				t.Errorf("%d probability entries, want %d", len(probs), wantProbs)
			}
			code, b = do(t, "POST", ts.URL+"/v1/completions", `{"model": "x", "prompt": "In the beginning", "max_tokens": 5, "temperature": 0, "stop": `+tt.stop+`}`)
			c := decode(t, b)["choices"].([]any)[0].(map[string]any)
			wantFinish := "stop"
			if tt.word == "" {
				wantFinish = "length"
			}
			if code != http.StatusOK || c["text"] != tt.content || c["finish_reason"] != wantFinish {
				t.Errorf("/v1/completions: %d text %q finish_reason %v, want %q %s", code, c["text"], c["finish_reason"], tt.content, wantFinish)
			}
		})
	}
}

func TestTextGenPartialStop(t *testing.T) {
	for _, tt := range []struct {
		stop, text string
		want       int
	}{
		{"hello", "say hel", 4},
		{"hello", "say h", 4},
		{"hello", "say x", -1},
		{"abab", "xaba", 1},
		{"", "x", -1},
		{"x", "", -1},
	} {
		if got := partialStop(tt.stop, tt.text); got != tt.want {
			t.Errorf("partialStop(%q, %q) = %d, want %d", tt.stop, tt.text, got, tt.want)
		}
	}
	for _, tt := range []struct {
		b    string
		want int
	}{
		{"abc", 3}, {"a\xe8", 1}, {"a\xe8\x97", 1}, {"a\xe8\x97\x8f", 4}, {"\xf0\x9f\x98", 0}, {"\xf0\x9f\x98\x80", 4}, {"\xc3", 0}, {"\xc3\xa9", 2}, {"", 0},
	} {
		if got := validUTF8Len([]byte(tt.b)); got != tt.want {
			t.Errorf("validUTF8Len(%q) = %d, want %d", tt.b, got, tt.want)
		}
	}
}

// TestStreamEqualsResponse streams each text endpoint, with and without a stop string, and
// checks that the events put together give the non-streamed response's text, and the shapes.
func TestStreamEqualsResponse(t *testing.T) {
	_, ts := newTest(t, Config{})
	for _, stop := range []string{`null`, `" return"`, `"ys ret"`, `"藏"`} {
		t.Run("completion stop "+stop, func(t *testing.T) {
			body := `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0, "n_probs": 2, "return_tokens": true, "stop": ` + stop
			_, b := do(t, "POST", ts.URL+"/completion", body+`}`)
			want := decode(t, b)
			events, done := stream(t, ts.URL+"/completion", body+`, "stream": true}`)
			if done || len(events) == 0 {
				t.Fatalf("%d events, [DONE] %v: llama-server's native stream has no [DONE]", len(events), done)
			}
			var text strings.Builder
			var ids []any
			nprobs := 0
			for i, e := range events {
				text.WriteString(e["content"].(string))
				last := i == len(events)-1
				if e["stop"] != last {
					t.Errorf("event %d: stop %v", i, e["stop"])
				}
				if !last {
					ids = append(ids, e["tokens"].([]any)...)
					nprobs += len(e["completion_probabilities"].([]any))
				}
			}
			fin := events[len(events)-1]
			if text.String() != want["content"] || fin["stop_type"] != want["stop_type"] || fin["stopping_word"] != want["stopping_word"] ||
				fmt.Sprint(ids) != fmt.Sprint(want["tokens"]) {
				t.Errorf("streamed %q %v %v %v, want %q %v %v %v", text.String(), fin["stop_type"], fin["stopping_word"], ids,
					want["content"], want["stop_type"], want["stopping_word"], want["tokens"])
			}
			if stop == `null` && nprobs != len(want["completion_probabilities"].([]any)) {
				t.Errorf("%d streamed probability entries, want %d", nprobs, len(want["completion_probabilities"].([]any)))
			}
			if _, ok := fin["timings"].(map[string]any)["prompt_ms"]; !ok {
				t.Errorf("final event without timings.prompt_ms: %v", fin)
			}
		})
		t.Run("v1 stop "+stop, func(t *testing.T) {
			body := `{"model": "m", "prompt": ["In the beginning", "Once upon"], "n": 2, "max_tokens": 5, "temperature": 0.9, "seed": 3, "logprobs": 2, "stop": ` + stop
			_, b := do(t, "POST", ts.URL+"/v1/completions", body+`}`)
			want := decode(t, b)["choices"].([]any)
			events, done := stream(t, ts.URL+"/v1/completions", body+`, "stream": true}`)
			if !done {
				t.Error("no [DONE]")
			}
			texts := map[float64]string{}
			finish := map[float64]any{}
			lpTokens := map[float64][]any{}
			lpOffsets := map[float64][]any{}
			for i, e := range events {
				if e["object"] != "text_completion" || e["model"] != "m" {
					t.Errorf("event %d: object %v model %v", i, e["object"], e["model"])
				}
				c := e["choices"].([]any)[0].(map[string]any)
				idx := c["index"].(float64)
				texts[idx] += c["text"].(string)
				if lp, ok := c["logprobs"].(map[string]any); ok {
					lpTokens[idx] = append(lpTokens[idx], lp["tokens"].([]any)...)
					lpOffsets[idx] = append(lpOffsets[idx], lp["text_offset"].([]any)...)
				}
				if c["finish_reason"] != nil {
					finish[idx] = c["finish_reason"]
				}
				if _, ok := e["usage"]; ok != (i == len(events)-1) {
					t.Errorf("event %d: usage present %v", i, ok)
				}
			}
			for _, w := range want {
				w := w.(map[string]any)
				idx := w["index"].(float64)
				if texts[idx] != w["text"] || finish[idx] != w["finish_reason"] {
					t.Errorf("choice %v: streamed %q %v, want %q %v", idx, texts[idx], finish[idx], w["text"], w["finish_reason"])
				}
				wlp := w["logprobs"].(map[string]any)
				// Streamed entries go out with each released token; without streaming the
				// stop string's entries are dropped, so compare the stream's prefix.
				n := len(wlp["tokens"].([]any))
				if len(lpTokens[idx]) < n || fmt.Sprint(lpTokens[idx][:n]) != fmt.Sprint(wlp["tokens"]) || fmt.Sprint(lpOffsets[idx][:n]) != fmt.Sprint(wlp["text_offset"]) {
					t.Errorf("choice %v: streamed logprobs tokens %q offsets %v, want %q %v", idx, lpTokens[idx], lpOffsets[idx], wlp["tokens"], wlp["text_offset"])
				}
			}
		})
		t.Run("chat stop "+stop, func(t *testing.T) {
			body := `{"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}], "max_tokens": 6, "temperature": 0, "stop": ` + stop
			_, b := do(t, "POST", ts.URL+"/v1/chat/completions", body+`}`)
			resp := decode(t, b)
			wc := resp["choices"].([]any)[0].(map[string]any)
			if resp["object"] != "chat.completion" || !strings.HasPrefix(resp["id"].(string), "chatcmpl-") || wc["message"].(map[string]any)["role"] != "assistant" {
				t.Errorf("chat response %s", b)
			}
			events, done := stream(t, ts.URL+"/v1/chat/completions", body+`, "stream": true}`)
			if !done || len(events) < 2 {
				t.Fatalf("%d events, [DONE] %v", len(events), done)
			}
			var text strings.Builder
			for i, e := range events {
				if e["object"] != "chat.completion.chunk" || e["model"] != "gpt-4o" {
					t.Errorf("event %d: object %v model %v", i, e["object"], e["model"])
				}
				d := e["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
				if (i == 0) != (d["role"] == "assistant") {
					t.Errorf("event %d: delta %v", i, d)
				}
				if c, ok := d["content"].(string); ok {
					text.WriteString(c)
				}
			}
			fin := events[len(events)-1]["choices"].([]any)[0].(map[string]any)
			if text.String() != wc["message"].(map[string]any)["content"] || fin["finish_reason"] != wc["finish_reason"] {
				t.Errorf("streamed %q %v, want %q %v", text.String(), fin["finish_reason"], wc["message"].(map[string]any)["content"], wc["finish_reason"])
			}
		})
	}
}

// TestChatPrompt checks that a chat request is the completion of its ChatML text (the test
// model has no template) and that chat logprobs have OpenAI's shape.
func TestChatPrompt(t *testing.T) {
	_, ts := newTest(t, Config{})
	msgs := `[{"role": "system", "content": "You are terse."}, {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]}]`
	code, b := do(t, "POST", ts.URL+"/v1/chat/completions", `{"model": "any", "messages": `+msgs+`, "max_tokens": 4, "temperature": 0, "logprobs": true, "top_logprobs": 2}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	chat := decode(t, b)
	prompt := "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHello\nthere<|im_end|>\n<|im_start|>assistant\n"
	pj, _ := json.Marshal(prompt)
	_, b = do(t, "POST", ts.URL+"/completion", `{"prompt": `+string(pj)+`, "n_predict": 4, "temperature": 0}`)
	comp := decode(t, b)
	c := chat["choices"].([]any)[0].(map[string]any)
	if c["message"].(map[string]any)["content"] != comp["content"] || chat["usage"].(map[string]any)["prompt_tokens"] != comp["tokens_evaluated"] {
		t.Errorf("chat %q (%v prompt tokens), completion of the ChatML text %q (%v)", c["message"], chat["usage"], comp["content"], comp["tokens_evaluated"])
	}
	lp := c["logprobs"].(map[string]any)["content"].([]any)
	if len(lp) != 4 {
		t.Fatalf("%d logprobs entries, want 4", len(lp))
	}
	e := lp[0].(map[string]any)
	if keys := slices.Sorted(maps.Keys(e)); fmt.Sprint(keys) != "[bytes id logprob token top_logprobs]" || len(e["top_logprobs"].([]any)) != 2 {
		t.Errorf("entry %v", e)
	}
}

func TestChatTemplates(t *testing.T) {
	msgs := []chatMessage{{"system", "S"}, {"user", " hi "}, {"assistant", "yo"}, {"user", "bye"}}
	for _, tt := range []struct {
		tmpl, format, want string
	}{
		{"", "chatml", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n hi <|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n"},
		{chatmlJinja, "chatml", ""},
		{"{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>...", "llama3",
			"<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nyo<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nbye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"<start_of_turn>...", "gemma", "<start_of_turn>user\nS\n\nhi<end_of_turn>\n<start_of_turn>model\nyo<end_of_turn>\n<start_of_turn>user\nbye<end_of_turn>\n<start_of_turn>model\n"},
		{"<|assistant|> ... <|end|>", "phi3", "<|system|>\nS<|end|>\n<|user|>\n hi <|end|>\n<|assistant|>\nyo<|end|>\n<|user|>\nbye<|end|>\n<|assistant|>\n"},
		{"<|user|> ... <|endoftext|>", "zephyr", "<|system|>\nS<|endoftext|>\n<|user|>\n hi <|endoftext|>\n<|assistant|>\nyo<|endoftext|>\n<|user|>\nbye<|endoftext|>\n<|assistant|>\n"},
		{"{{ bos_token }}[INST] ...", "", ""},
		{"<|im_start|> ... <|im_sep|>", "", ""},
		{"{{ something unknown }}", "", ""},
	} {
		f := chatFormat(tt.tmpl)
		if f != tt.format {
			t.Errorf("chatFormat(%.30q) = %q, want %q", tt.tmpl, f, tt.format)
			continue
		}
		if tt.want != "" {
			if got := applyChat(f, msgs); got != tt.want {
				t.Errorf("applyChat(%s) = %q, want %q", f, got, tt.want)
			}
		}
	}
	// A model whose template this server does not apply gets a clear 400.
	m := *testEngine(t).Model()
	m.ChatTemplate = "{{ bos_token }}[INST] {{ content }} [/INST]"
	_, ts := serveTest(t, Config{LLMs: []*llm.Engine{llm.New(&m)}})
	code, b := do(t, "POST", ts.URL+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}]}`)
	if code != http.StatusBadRequest || !strings.Contains(string(b), "chat template") {
		t.Errorf("unsupported template: %d %s", code, b)
	}
}

// TestIncompleteUTF8Entries replays a llama-server b4748 record (testdata/llamacpp
// greedy.jsonl, tiny-llama-b-gqa-f16) whose generated text passes through an incomplete UTF-8
// sequence: llama-server reported no probabilities for that token, and neither does this
// server: the entries are the generated tokens without it, in order.
func TestIncompleteUTF8Entries(t *testing.T) {
	f, err := os.Open("../testdata/llamacpp/greedy.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec struct {
		Model        string          `json:"model"`
		PromptIDs    []int32         `json:"prompt_ids"`
		NPredict     int             `json:"n_predict"`
		GeneratedIDs []int32         `json:"generated_ids"`
		Top5         [][][2]any      `json:"top5"`
		Text         *string         `json:"generated_text"`
		Request      json.RawMessage `json:"request"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	found := false
	for sc.Scan() && !found {
		rec.Top5 = nil
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		found = rec.Model == "tiny-llama-b-gqa-f16.gguf" && rec.NPredict == 30 && slices.ContainsFunc(rec.Top5, func(p [][2]any) bool { return p == nil })
	}
	if !found {
		t.Fatal("no record with a null position")
	}
	gqa, err := llm.Open("../testdata/llamacpp/models/tiny-llama-b-gqa-f16.gguf", llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, ts := serveTest(t, Config{LLMs: []*llm.Engine{gqa}})
	ids, _ := json.Marshal(rec.PromptIDs)
	code, b := do(t, "POST", ts.URL+"/completion", fmt.Sprintf(`{"prompt": %s, "n_predict": %d, "temperature": 0, "n_probs": 5, "return_tokens": true}`, ids, rec.NPredict))
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	v := decode(t, b)
	if fmt.Sprint(v["tokens"]) != fmt.Sprint(rec.GeneratedIDs) {
		t.Skipf("greedy tokens differ from llama-server's on this record (%v vs %v): alignment not comparable", v["tokens"], rec.GeneratedIDs)
	}
	var want []int32
	for i, id := range rec.GeneratedIDs {
		if rec.Top5[i] != nil {
			want = append(want, id)
		}
	}
	var got []int32
	for _, e := range v["completion_probabilities"].([]any) {
		got = append(got, int32(e.(map[string]any)["id"].(float64)))
	}
	if !slices.Equal(got, want) || len(got) == len(rec.GeneratedIDs) {
		t.Errorf("entries for %v, want %v (of %d tokens)", got, want, len(rec.GeneratedIDs))
	}
	if rec.Text != nil && v["content"] != *rec.Text {
		t.Errorf("content %q, want llama-server's %q", v["content"], *rec.Text)
	}
}

// TestProps checks /props against llama-server b4748's (testdata/llamacpp/server-props.json):
// every top-level key, every key of default_generation_settings, and params' keys a subset.
func TestProps(t *testing.T) {
	_, ts := newTest(t, Config{Slots: 2})
	code, b := do(t, "GET", ts.URL+"/props", "")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	got := decode(t, b)
	want := decode(t, readAPIB(t, "../server-props.json"))
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	gs, ws := got["default_generation_settings"].(map[string]any), want["default_generation_settings"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(ws)) {
		if _, ok := gs[k]; !ok {
			t.Errorf("default_generation_settings.%s missing", k)
		}
	}
	checkShape(t, "params", gs["params"].(map[string]any), ws["params"].(map[string]any), false)
	if got["chat_template"] != want["chat_template"] || got["total_slots"] != 2.0 || gs["n_ctx"] != 1024.0 || got["bos_token"] != "<s>" || got["eos_token"] != "</s>" {
		t.Errorf("props %s", b)
	}
}

// TestTimingsShape checks that timings has llama-server's keys, prompt ones included.
func TestTimingsShape(t *testing.T) {
	_, ts := newTest(t, Config{})
	_, b := do(t, "POST", ts.URL+"/completion", `{"prompt": "In the beginning", "n_predict": 3}`)
	got := decode(t, b)["timings"].(map[string]any)
	want := decode(t, readAPI(t, "completion-sample.response.json"))["timings"].(map[string]any)
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Errorf("timings keys %v, want %v", g, w)
	}
	if got["prompt_n"] != 4.0 || got["predicted_n"] != 3.0 || got["prompt_ms"].(float64) <= 0 {
		t.Errorf("timings %v", got)
	}
}

func TestEcho(t *testing.T) {
	_, ts := newTest(t, Config{})
	_, b := do(t, "POST", ts.URL+"/v1/completions", `{"prompt": "In the beginning", "max_tokens": 5, "temperature": 0, "echo": true}`)
	c := decode(t, b)["choices"].([]any)[0].(map[string]any)
	if c["text"] != "In the beginningcorr days return loss藏" {
		t.Errorf("echo text %q", c["text"])
	}
	_, b = do(t, "POST", ts.URL+"/v1/completions", `{"prompt": "In the beginning", "max_tokens": 0, "echo": true}`)
	if c := decode(t, b)["choices"].([]any)[0].(map[string]any); c["text"] != "In the beginning" {
		t.Errorf("echo with max_tokens 0: %q", c["text"])
	}
}

// hangUpWriter is a ResponseWriter whose client goes away (cancel) after its first event.
type hangUpWriter struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
	events int
}

func (w *hangUpWriter) Write(b []byte) (int, error) {
	w.events += strings.Count(string(b), "data: ")
	w.cancel()
	return w.ResponseRecorder.Write(b)
}

// TestStreamClientGone runs streams that would generate hundreds of tokens and cancels the
// request's context when the first event is written, as when the client hangs up: the
// generation stops at the next token and the slot is released.
func TestStreamClientGone(t *testing.T) {
	s, _ := newTest(t, Config{})
	for _, tt := range []struct{ path, body string }{
		{"/completion", `{"prompt": "x", "n_predict": 500, "ignore_eos": true, "stream": true}`},
		{"/v1/completions", `{"prompt": "x", "max_tokens": 500, "stream": true}`},
		{"/v1/chat/completions", `{"messages": [{"role": "user", "content": "x"}], "max_tokens": 500, "stream": true}`},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		w := &hangUpWriter{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
		s.Handler().ServeHTTP(w, httptest.NewRequestWithContext(ctx, "POST", tt.path, strings.NewReader(tt.body)))
		if w.events == 0 || w.events > 3 {
			t.Errorf("%s: %d events written after the client left at the first (want the generation stopped):\n%s", tt.path, w.events, w.Body.String())
		}
		if len(s.slots) != cap(s.slots) {
			t.Errorf("%s: slot not released", tt.path)
		}
	}
}
