package remote

import (
	"testing"
)

// The fuzz targets feed the response parsers arbitrary bytes: they must return a value or an
// error, never panic, and never accept ids that disagree with the counts the answer gives.

func FuzzParseLlamaCompletion(f *testing.F) {
	f.Add(readReplay(f, "../../testdata/llamacpp/api/completion-ids-greedy.response.json"))
	f.Add(readReplay(f, "../../testdata/llamacpp/api/completion-sample.response.json"))
	f.Add([]byte(`{"content":"a","tokens_predicted":1,"completion_probabilities":[{"id":3,"top_logprobs":[{"logprob":-1},{"logprob":-2}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, ids, mg, err := parseLlamaCompletion(b)
		if err != nil {
			return
		}
		if len(ids) != res.TokensPredicted || (mg != nil && len(mg) != len(ids)) {
			t.Errorf("%d ids, %d predicted, %d margins", len(ids), res.TokensPredicted, len(mg))
		}
	})
}

func FuzzParseOpenAICompletion(f *testing.F) {
	for _, n := range []string{"vllm-completion.json", "vllm-completion-token-id-strings.json", "sglang-completion.json"} {
		f.Add(readReplay(f, n))
	}
	f.Add(readReplay(f, "../../testdata/llamacpp/api/v1-completions-greedy.response.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseOpenAICompletion(b)
		if err != nil {
			return
		}
		if res.ids != nil && res.completion >= 0 && len(res.ids) != res.completion {
			t.Errorf("%d ids for %d completion tokens", len(res.ids), res.completion)
		}
		if res.margins != nil && len(res.margins) != len(res.ids) {
			t.Errorf("%d margins for %d ids", len(res.margins), len(res.ids))
		}
	})
}

func FuzzParseOllamaGenerate(f *testing.F) {
	f.Add(readReplay(f, "ollama-generate.json"))
	f.Add([]byte(`{"response":"","done":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := parseOllamaGenerate(b)
		if err == nil && (g.Response == nil || !g.Done) {
			t.Error("accepted an answer that is not final")
		}
	})
}

func FuzzParseTxt2img(f *testing.F) {
	f.Add([]byte(`{"images":["iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UWCgAAAABJRU5ErkJggg=="],"info":"{\"seed\": 5, \"all_seeds\": [5]}"}`))
	f.Add([]byte(`{"images":[],"info":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		png, _, err := parseTxt2img(b)
		if err == nil && (len(png) < 8 || string(png[:8]) != "\x89PNG\r\n\x1a\n") {
			t.Error("accepted an image that is not a PNG")
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	f.Add(readReplay(f, "comfyui-history.json"), "6f962d0e-40d9-45e8-b378-7247258cadde")
	f.Add([]byte(`{}`), "x")
	f.Fuzz(func(t *testing.T, b []byte, id string) {
		done, img, err := parseHistory(b, id)
		if err == nil && done && (img.Filename == "" || img.Type != "output") {
			t.Errorf("done without an output image: %+v", img)
		}
	})
}

func FuzzParseExecText(f *testing.F) {
	f.Add([]byte(`{"text":"a","tokens":[1,2],"margins":[0.5,1]}`))
	f.Add([]byte(`{"text":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseExecText(b)
		if err == nil && o.Margins != nil && len(o.Margins) != len(o.Tokens) {
			t.Errorf("%d margins for %d tokens", len(o.Margins), len(o.Tokens))
		}
	})
}

func FuzzParseWorkflow(f *testing.F) {
	f.Add(readReplay(f, "comfyui-workflow.json"))
	f.Fuzz(func(t *testing.T, b []byte) { parseWorkflow(b) })
}

func FuzzParseSpec(f *testing.F) {
	f.Add("tiny=llamacpp:http://127.0.0.1:8080?digest=" + "00000000000000000000000000000000000000000000000000000000000000ab")
	f.Add("q=openai:https://h/v?server=vllm&batch_invariant=1&ids=tokenize&retries=2&timeout=1m")
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		back, err := ParseSpec(sp.String())
		if err != nil || back.String() != sp.String() {
			t.Errorf("ParseSpec(%q).String() = %q does not read back: %v", s, sp.String(), err)
		}
	})
}
