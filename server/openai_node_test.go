package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeClientDir holds client.mjs, which runs the official OpenAI Node client (package.json
// pins the version; .ci/run installs it with npm ci) against a server, and requests.json, the
// exact requests that client sent, recorded by client.mjs.
const nodeClientDir = "testdata/openai-node"

// TestOpenAINodeClient runs the official OpenAI Node client against the server: completion,
// streamed completion, chat, streamed chat, stop strings and the model list, each with a
// model name the server does not serve. It skips when node or the installed package is
// missing (run npm ci in testdata/openai-node).
func TestOpenAINodeClient(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the OpenAI Node client test needs Node.js (TestOpenAINodeReplay checks its requests without it)")
	}
	if _, err := os.Stat(filepath.Join(nodeClientDir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("the openai package is not installed: run npm ci in server/%s (TestOpenAINodeReplay checks its requests without it)", nodeClientDir)
	}
	_, ts := newTest(t, Config{})
	record := filepath.Join(t.TempDir(), "requests.json")
	cmd := exec.CommandContext(t.Context(), nodeBin, "client.mjs", ts.URL, record)
	cmd.Dir = nodeClientDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.mjs: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var out struct {
		Completion       struct{ Text, FinishReason, Model string } `json:"completion"`
		CompletionStop   struct{ Text, FinishReason string }        `json:"completion_stop"`
		CompletionStream struct {
			Text, FinishReason string
			Chunks             int
		} `json:"completion_stream"`
		Chat       struct{ Content, Role, FinishReason, Model string } `json:"chat"`
		ChatStream struct {
			Content, FinishReason string
			Chunks                int
		} `json:"chat_stream"`
		ChatStop struct{ Stop, Content, FinishReason string } `json:"chat_stop"`
		Models   []string                                     `json:"models"`
		Failures []string                                     `json:"failures"`
	}
	if err := json.Unmarshal(bytes.ReplaceAll(stdout.Bytes(), []byte(`"finish_reason"`), []byte(`"finishreason"`)), &out); err != nil {
		t.Fatalf("client output %s: %v", stdout.String(), err)
	}
	t.Logf("OpenAI Node client against genquorum serve:\n%s", stdout.String())
	if len(out.Failures) > 0 {
		t.Errorf("client checks failed: %v", out.Failures)
	}
	if out.Completion.Text != "corr days return loss藏" || out.Completion.Model != "gpt-3.5-turbo-instruct" ||
		out.CompletionStop.Text != "corr days" || out.CompletionStop.FinishReason != "stop" ||
		out.CompletionStream.Text != out.Completion.Text || out.CompletionStream.FinishReason != "length" {
		t.Errorf("completions: %+v %+v %+v", out.Completion, out.CompletionStop, out.CompletionStream)
	}
	if out.Chat.Role != "assistant" || out.Chat.Model != "gpt-4o-mini" || out.ChatStream.Content != out.Chat.Content ||
		out.ChatStop.FinishReason != "stop" || !strings.HasPrefix(out.Chat.Content, out.ChatStop.Content) {
		t.Errorf("chat: %+v %+v %+v", out.Chat, out.ChatStream, out.ChatStop)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(filepath.Join(nodeClientDir, "requests.json")); !bytes.Equal(got, want) {
		t.Errorf("the client's requests differ from %s/requests.json (the replay test's input): re-record it with node client.mjs URL requests.json\n%s", nodeClientDir, got)
	}
}

// recordedRequest is one request of requests.json.
type recordedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// TestOpenAINodeReplay sends the exact requests the OpenAI Node client sent (requests.json,
// recorded by client.mjs with the pinned openai version) and checks every response field the
// client reads, so that the shapes are checked where Node is not installed.
func TestOpenAINodeReplay(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(nodeClientDir, "requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []recordedRequest
	if err := json.Unmarshal(b, &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 7 {
		t.Fatalf("%d recorded requests, want 7", len(reqs))
	}
	_, ts := newTest(t, Config{})
	type result struct {
		text, finish, model string
		chunks              int
	}
	results := make([]result, len(reqs))
	for i, rr := range reqs {
		var body *strings.Reader
		if rr.Body != nil {
			body = strings.NewReader(*rr.Body)
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(t.Context(), rr.Method, ts.URL+rr.Path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range rr.Headers {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		req.Header.Set("Authorization", "Bearer not-checked")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data := new(bytes.Buffer)
		data.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d %s %s: %d %s", i, rr.Method, rr.Path, resp.StatusCode, data)
		}
		chat := strings.Contains(rr.Path, "chat")
		if rr.Body != nil && strings.Contains(*rr.Body, `"stream":true`) {
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("request %d: Content-Type %q", i, ct)
			}
			lines := strings.Split(strings.TrimSpace(data.String()), "\n\n")
			if lines[len(lines)-1] != "data: [DONE]" {
				t.Errorf("request %d: stream does not end with [DONE]", i)
			}
			for _, l := range lines[:len(lines)-1] {
				var ev struct {
					Model   string `json:"model"`
					Choices []struct {
						Text         *string                    `json:"text"`
						Delta        *struct{ Content *string } `json:"delta"`
						FinishReason *string                    `json:"finish_reason"`
					} `json:"choices"`
				}
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &ev); err != nil || len(ev.Choices) != 1 {
					t.Fatalf("request %d: event %q: %v", i, l, err)
				}
				c := ev.Choices[0]
				switch {
				case chat && c.Delta != nil && c.Delta.Content != nil:
					results[i].text += *c.Delta.Content
				case !chat && c.Text != nil:
					results[i].text += *c.Text
				case chat && c.Delta == nil, !chat && c.Text == nil:
					t.Errorf("request %d: event without %s: %s", i, map[bool]string{true: "delta", false: "text"}[chat], l)
				}
				if c.FinishReason != nil {
					results[i].finish = *c.FinishReason
				}
				results[i].model = ev.Model
				results[i].chunks++
			}
			continue
		}
		if rr.Path == "/v1/models" {
			var list struct {
				Object string `json:"object"`
				Data   []struct{ ID, Object string }
			}
			if err := json.Unmarshal(data.Bytes(), &list); err != nil || list.Object != "list" || len(list.Data) != 1 || list.Data[0].Object != "model" {
				t.Errorf("models: %s", data)
			}
			continue
		}
		var r struct {
			Model   string `json:"model"`
			Object  string `json:"object"`
			Choices []struct {
				Text    string `json:"text"`
				Message struct {
					Role, Content string
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(data.Bytes(), &r); err != nil || len(r.Choices) != 1 || r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
			t.Fatalf("request %d: %s: %v", i, data, err)
		}
		results[i] = result{text: r.Choices[0].Text, finish: r.Choices[0].FinishReason, model: r.Model}
		if chat {
			results[i].text = r.Choices[0].Message.Content
			if r.Choices[0].Message.Role != "assistant" || r.Object != "chat.completion" {
				t.Errorf("request %d: %s", i, data)
			}
		}
	}
	// The requests are: completion, completion with stop " return", streamed completion,
	// chat, streamed chat, chat with a stop string taken from the chat's text, models.
	comp, stop, strm, chat, chatStream, chatStop := results[0], results[1], results[2], results[3], results[4], results[5]
	if comp.text != "corr days return loss藏" || comp.finish != "length" || comp.model != "gpt-3.5-turbo-instruct" {
		t.Errorf("completion %+v", comp)
	}
	if stop.text != "corr days" || stop.finish != "stop" {
		t.Errorf("completion with stop %+v", stop)
	}
	if strm.text != comp.text || strm.finish != "length" || strm.chunks < 2 || strm.model != "davinci-002" {
		t.Errorf("streamed completion %+v", strm)
	}
	if chatStream.text != chat.text || chatStream.finish != chat.finish || chat.model != "gpt-4o-mini" {
		t.Errorf("chat %+v, streamed %+v", chat, chatStream)
	}
	if chatStop.finish != "stop" || !strings.HasPrefix(chat.text, chatStop.text) || len(chatStop.text) >= len(chat.text) {
		t.Errorf("chat with stop %+v (chat %q)", chatStop, chat.text)
	}
}
