package remote

import (
	"encoding/json"
	"math"
	"slices"
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

// The scoring parsers must return one evaluation per claimed token, for the claimed id, with a
// finite or +Inf margin and a rank of at least 0, or an error.
func checkScores(t *testing.T, sc []TokenScore, claim []int32) {
	t.Helper()
	if len(sc) != len(claim) {
		t.Fatalf("%d scores for %d claimed tokens", len(sc), len(claim))
	}
	for i, s := range sc {
		if s.ID != claim[i] || math.IsNaN(s.Margin) || math.IsInf(s.Margin, -1) && !math.IsInf(s.LogProb, -1) || s.Rank < 0 || len(s.Top) == 0 {
			t.Errorf("score %d: %+v for claimed id %d", i, s, claim[i])
		}
	}
}

func FuzzParseVLLMScore(f *testing.F) {
	f.Add(readReplay(f, "vllm-prompt-logprobs.json"), 5)
	f.Add([]byte(`{"choices":[{"prompt_logprobs":[null,{"2":{"logprob":-1,"rank":1}},{"3":{"logprob":null,"rank":9},"4":{"logprob":-0.5}}]}]}`), 2)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		input := []int32{12522, 5193, 264, 882, 1052, 572, 264, 2632, 3743}
		if n < 0 || n > len(input) {
			return
		}
		sc, err := parseVLLMScore(b, input, n)
		if err == nil {
			checkScores(t, sc, input[len(input)-n:])
		}
	})
}

func FuzzParseSGLangScore(f *testing.F) {
	f.Add(readReplay(f, "sglang-generate-score.json"))
	f.Add(readReplay(f, "sglang-generate.json"))
	f.Add([]byte(`{"meta_info":{"input_token_logprobs":[[null,374],[-1,12366]],"input_top_logprobs":[null,[[-0.5,3]]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		prompt, claim := []int32{128000, 791, 6864, 315, 9822, 374}, []int32{12366, 11, 279, 3363, 315}
		for _, c := range [][]int32{claim, claim[:1]} {
			sc, err := parseSGLangScore(b, prompt, c)
			if err == nil {
				checkScores(t, sc, c)
			}
		}
	})
}

func FuzzParseSGLangGenerate(f *testing.F) {
	for _, n := range []string{"sglang-generate.json", "sglang-generate-prompt.json", "sglang-generate-score.json"} {
		f.Add(readReplay(f, n))
	}
	f.Add([]byte(`{"text":"a","output_ids":[1],"meta_info":{"completion_tokens":1,"output_token_logprobs":[[-1,2,null]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseSGLangGenerate(b)
		if err != nil {
			return
		}
		if res.margins != nil && len(res.margins) != len(res.ids) {
			t.Errorf("%d margins for %d ids", len(res.margins), len(res.ids))
		}
		var a sglangAnswer
		if json.Unmarshal(b, &a) != nil || a.Meta == nil || a.Meta.CompletionTokens != len(res.ids) {
			t.Errorf("%d ids accepted from an answer that does not count them", len(res.ids))
		}
		if a.OutputIDs != nil && !slices.Equal(*a.OutputIDs, res.ids) {
			t.Errorf("ids %v, output_ids %v", res.ids, *a.OutputIDs)
		}
	})
}

func FuzzParseSGLangTok(f *testing.F) {
	f.Add([]byte(`[-0.5, 12, null]`))
	f.Add([]byte(`[null, 0, "a"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tk sglangTok
		if tk.UnmarshalJSON(b) == nil && tk.ID < 0 {
			t.Errorf("accepted negative id %d", tk.ID)
		}
	})
}
