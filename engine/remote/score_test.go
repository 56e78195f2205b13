package remote

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
)

// modelServer is an in-test server that answers in vLLM's or SGLang's shapes (as the replay
// files do, sources in testdata/README.md) with values computed by the built-in engine on the
// tiny model: vLLM's /tokenize and /v1/completions with prompt_logprobs (scoring only);
// SGLang's /generate (generation, input logprobs from logprob_start_len, top logprobs).
// So the adapters' request fields, position alignment and arithmetic are checked against the
// built-in verifier, which scores the same model.
func modelServer(t *testing.T, eng *llm.Engine, server string) *replay {
	t.Helper()
	m := eng.Model()
	ref := eng.Models()[0]
	// scoreAll evaluates ids[1:] after ids[:1]: entry p-1 scores position p.
	scoreAll := func(ids []int32, topN int) []llm.Scored {
		sc, err := m.Score(t.Context(), ids[:1], ids[1:], tensor.Exact, topN)
		if err != nil {
			t.Errorf("model server: score: %v", err)
			return nil
		}
		return sc
	}
	models := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": []any{map[string]any{"id": ref.Name, "object": "model", "owned_by": server}}})
	})
	fail := func(w http.ResponseWriter, code int, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "code": code})
	}
	routes := map[string]any{"GET /v1/models": models}
	switch server {
	case serverVLLM:
		routes["POST /tokenize"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Prompt string `json:"prompt"`
				Add    *bool  `json:"add_special_tokens"`
			}
			json.NewDecoder(r.Body).Decode(&in)
			ids := m.Tok.Encode(in.Prompt, in.Add == nil || *in.Add, true)
			json.NewEncoder(w).Encode(map[string]any{"count": len(ids), "max_model_len": m.Config.Context, "tokens": ids})
		})
		routes["POST /v1/completions"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Prompt         json.RawMessage `json:"prompt"`
				PromptLogprobs *int            `json:"prompt_logprobs"`
				MaxTokens      int             `json:"max_tokens"`
				ReturnIDs      bool            `json:"return_token_ids"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				fail(w, 400, "bad request")
				return
			}
			var ids []int32
			if json.Unmarshal(in.Prompt, &ids) != nil {
				var text string
				json.Unmarshal(in.Prompt, &text)
				ids = m.Tok.Encode(text, true, true)
			}
			if in.PromptLogprobs == nil { // generation (greedy), in vLLM 0.10.2's shape with return_token_ids
				a, err := eng.Run(r.Context(), engine.Task{Kind: engine.KindText, Model: ref, Prompt: "ids",
					Text: &engine.TextParams{PromptIDs: ids, Decode: "greedy", MaxTokens: in.MaxTokens}})
				if err != nil || !in.ReturnIDs {
					fail(w, 400, "this test server generates greedily with return_token_ids")
					return
				}
				json.NewEncoder(w).Encode(map[string]any{"id": "cmpl-2", "object": "text_completion", "model": ref.Name,
					"choices": []any{map[string]any{"index": 0, "text": string(a.Data), "logprobs": nil, "finish_reason": "length",
						"token_ids": a.Tokens, "prompt_token_ids": ids}},
					"usage": map[string]any{"prompt_tokens": len(ids), "completion_tokens": len(a.Tokens), "total_tokens": len(ids) + len(a.Tokens)}})
				return
			}
			in.Prompt = nil
			if len(ids) < 2 {
				fail(w, 400, "prompt_logprobs on fewer than 2 ids")
				return
			}
			sc := scoreAll(ids, *in.PromptLogprobs)
			pl := []any{nil}
			for _, s := range sc {
				pos := map[string]any{}
				for k, a := range s.Top {
					pos[strconv.Itoa(int(a.ID))] = map[string]any{"logprob": a.LogProb, "rank": k + 1, "decoded_token": m.Tok.Text(a.ID)}
				}
				pos[strconv.Itoa(int(s.ID))] = map[string]any{"logprob": s.LogProb, "rank": s.Rank + 1, "decoded_token": m.Tok.Text(s.ID)}
				pl = append(pl, pos)
			}
			json.NewEncoder(w).Encode(map[string]any{"id": "cmpl-1", "object": "text_completion", "model": ref.Name,
				"choices": []any{map[string]any{"index": 0, "text": "x", "logprobs": nil, "finish_reason": "length", "stop_reason": nil,
					"prompt_logprobs": pl}},
				"usage": map[string]any{"prompt_tokens": len(ids), "completion_tokens": 1, "total_tokens": len(ids) + 1}})
		})
	case serverSGLang:
		routes["GET /get_server_info"] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"enable_deterministic_inference": true, "version": "0.5.3"}`))
		})
		routes["POST /generate"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Text     string  `json:"text"`
				InputIDs []int32 `json:"input_ids"`
				Sampling struct {
					MaxNewTokens int `json:"max_new_tokens"`
				} `json:"sampling_params"`
				ReturnLogprob bool `json:"return_logprob"`
				Start         int  `json:"logprob_start_len"`
				TopN          int  `json:"top_logprobs_num"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Sampling.MaxNewTokens < 1 || (in.Text == "") == (len(in.InputIDs) == 0) {
				fail(w, 400, "bad /generate request")
				return
			}
			ids := in.InputIDs
			if in.Text != "" {
				ids = m.Tok.Encode(in.Text, true, true)
			}
			a, err := eng.Run(r.Context(), engine.Task{Kind: engine.KindText, Model: ref, Prompt: "ids",
				Text: &engine.TextParams{PromptIDs: ids, Decode: "greedy", MaxTokens: in.Sampling.MaxNewTokens}})
			if err != nil {
				fail(w, 500, err.Error())
				return
			}
			meta := map[string]any{"id": "r1", "finish_reason": map[string]any{"type": "length", "length": len(a.Tokens)},
				"prompt_tokens": len(ids), "completion_tokens": len(a.Tokens), "cached_tokens": 0}
			if in.ReturnLogprob {
				triple := func(lp any, id int32) []any { return []any{lp, id, nil} }
				tops := func(s llm.Scored) []any {
					var out []any
					for _, a := range s.Top {
						out = append(out, triple(a.LogProb, a.ID))
					}
					return out
				}
				out, err := m.Score(r.Context(), ids, a.Tokens, tensor.Exact, max(in.TopN, 1))
				if err != nil {
					fail(w, 500, err.Error())
					return
				}
				var otl, otop []any
				for _, s := range out {
					otl = append(otl, triple(s.LogProb, s.ID))
					otop = append(otop, tops(s))
				}
				itl, itop := []any{}, []any{}
				if in.Start >= 0 {
					sc := scoreAll(ids, max(in.TopN, 1))
					for p := in.Start; p < len(ids); p++ {
						if p == in.Start {
							itl, itop = append(itl, triple(nil, ids[p])), append(itop, nil)
							continue
						}
						itl, itop = append(itl, triple(sc[p-1].LogProb, ids[p])), append(itop, tops(sc[p-1]))
					}
				}
				meta["input_token_logprobs"], meta["output_token_logprobs"] = itl, otl
				if in.TopN > 0 {
					meta["input_top_logprobs"], meta["output_top_logprobs"] = itop, otop
				}
			}
			json.NewEncoder(w).Encode(map[string]any{"text": string(a.Data), "output_ids": a.Tokens, "meta_info": meta})
		})
	}
	return newReplay(t, routes)
}

// substitute returns claim with token i replaced by the rank-r token of the built-in
// teacher-forced evaluation at i.
func substitute(t *testing.T, eng *llm.Engine, task engine.Task, claim []int32, i, r int) []int32 {
	t.Helper()
	sc, err := eng.Model().Score(t.Context(), eng.Prompt(task), claim[:i+1], tensor.Exact, r+1)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(claim[:i+1])
	out[i] = sc[i].Top[r].ID
	return out
}

// TestVerifierMatchesBuiltin: through vLLM's prompt_logprobs and SGLang's /generate (served
// from the tiny model), the remote Verifier reaches the built-in verifier's verdicts and Need
// (to float32 rounding) on honest greedy claims, substituted tokens of several ranks and short
// claims; the requests carry the documented fields.
func TestVerifierMatchesBuiltin(t *testing.T) {
	eng := must(t, loadText)
	ref := eng.Models()[0]
	m := eng.Model()
	for _, srv := range []string{serverVLLM, serverSGLang} {
		t.Run(srv, func(t *testing.T) {
			r := modelServer(t, eng, srv)
			base := ref.Name + "=openai:" + r.URL + "?server=" + srv + "&digest=" + ref.Digest.String()
			e := openSpec(t, base+"&ids=response&vocab="+textModelPath)
			v, ok := e.Verifier()
			if !ok {
				t.Fatal("Verifier() = false on a scoring server")
			}
			cases, judged := 0, map[int]int{}
			for _, prompt := range []string{"Once upon a time", "The sky is", "In the beginning"} {
				task := engine.Task{Kind: engine.KindText, Model: ref, Prompt: prompt, Seed: 1, Text: &engine.TextParams{Decode: "greedy", MaxTokens: 6}}
				honest, err := eng.Run(t.Context(), task)
				if err != nil {
					t.Fatal(err)
				}
				claims := [][]int32{honest.Tokens}
				for _, sub := range [][2]int{{0, 1}, {2, 3}, {5, 12}} {
					c := substitute(t, eng, task, honest.Tokens, sub[0], sub[1])
					claims = append(claims, append(c, honest.Tokens[len(c):]...)) // the substitute then the honest rest
				}
				claims = append(claims, honest.Tokens[:3], append(slices.Clone(honest.Tokens[:3]), m.Tok.EOS()))
				for _, claim := range claims {
					cases++
					want, err := eng.JudgeTokens(t.Context(), task, claim)
					if err != nil {
						t.Fatal(err)
					}
					got, err := v.JudgeTokens(t.Context(), task, claim)
					judged[got]++
					if err != nil || got != want {
						t.Errorf("%q claim %v: remote judgement %d (%v), built-in %d", prompt, claim, got, err, want)
					}
					bv, err := m.VerifyGreedy(t.Context(), eng.Prompt(task), claim, tensor.Exact, llm.DefaultGreedyTol)
					if err != nil {
						t.Fatal(err)
					}
					rv, err := v.Check(t.Context(), task, claim, llm.DefaultGreedyTol)
					if err != nil {
						t.Fatal(err)
					}
					if math.Abs(rv.Need-bv.Need) > 1e-4 || rv.FirstReject != bv.FirstReject {
						t.Errorf("%q claim %v: remote need %v (first reject %d), built-in %v (%d)", prompt, claim, rv.Need, rv.FirstReject, bv.Need, bv.FirstReject)
					}
					for i, s := range rv.Tokens {
						if s.Rank != bv.Tokens[i].Rank && srv == serverVLLM {
							t.Errorf("%q claim %v token %d: rank %d, built-in %d", prompt, claim, i, s.Rank, bv.Tokens[i].Rank)
						}
					}
				}
				if srv == serverVLLM {
					wantFields(t, r.last(t, "POST /v1/completions"), map[string]any{"prompt": append(eng.Prompt(task), claims[len(claims)-1]...),
						"prompt_logprobs": 2, "max_tokens": 1, "temperature": 0, "n": 1, "stream": false})
					wantFields(t, r.last(t, "POST /tokenize"), map[string]any{"prompt": prompt, "add_special_tokens": true})
				} else {
					wantFields(t, r.last(t, "POST /generate"), map[string]any{"input_ids": append(eng.Prompt(task), claims[len(claims)-1]...),
						"return_logprob": true, "logprob_start_len": len(eng.Prompt(task)) - 1, "top_logprobs_num": 2})
				}
			}
			t.Logf("%s: %d claims judged as the built-in verifier judges them (valid %d, unsure %d, invalid %d)", srv, cases,
				judged[llm.JudgeValid], judged[llm.JudgeUnsure], judged[llm.JudgeInvalid])
			if judged[llm.JudgeValid] == 0 || judged[llm.JudgeInvalid] == 0 {
				t.Errorf("judgements %v: the claims must include valid and invalid ones", judged)
			}

			// Without vocab= or eog= a short claim's end cannot be checked: abstain.
			e2 := openSpec(t, base)
			v2, _ := e2.Verifier()
			task := greedy(ref.Name)
			honest, err := eng.Run(t.Context(), task)
			if err != nil {
				t.Fatal(err)
			}
			if j, err := v2.JudgeTokens(t.Context(), task, honest.Tokens[:2]); j != llm.JudgeUnsure || err != nil {
				t.Errorf("short claim, end-of-generation ids unknown: %d, %v; want unsure", j, err)
			}
			if j, err := v2.JudgeTokens(t.Context(), task, honest.Tokens); j != llm.JudgeValid || err != nil {
				t.Errorf("honest full-length claim: %d, %v; want valid", j, err)
			}
			e3 := openSpec(t, base+"&eog="+strconv.Itoa(int(m.Tok.EOS())))
			v3, _ := e3.Verifier()
			if j, err := v3.JudgeTokens(t.Context(), task, honest.Tokens[:2]); j != llm.JudgeInvalid || err != nil {
				t.Errorf("short claim not ending in eog=: %d, %v; want invalid", j, err)
			}
		})
	}
}

// TestVerifierAbstains: sampled and beam tasks, failing and refusing servers give unsure (no
// error) from JudgeTokens and an error from VerifyTokens; wrong-length claims are invalid
// without a request; another model is an error; engines whose server cannot score have no
// Verifier.
func TestVerifierAbstains(t *testing.T) {
	eng := must(t, loadText)
	ref := eng.Models()[0]
	r := modelServer(t, eng, serverVLLM)
	e := openSpec(t, ref.Name+"=openai:"+r.URL+"?server=vllm&backoff=1ms&retries=1")
	v, _ := e.Verifier()
	task := greedy(ref.Name)
	claim := []int32{1, 2, 3, 4, 5}
	sampled := task
	sampled.Text = &engine.TextParams{Decode: "sample", Temperature: 0.8, MaxTokens: 5}
	beam := task
	beam.Text = &engine.TextParams{Decode: "beam:2", MaxTokens: 5}
	for name, tk := range map[string]engine.Task{"sampled": sampled, "beam": beam} {
		if j, err := v.JudgeTokens(t.Context(), tk, claim); j != llm.JudgeUnsure || err != nil {
			t.Errorf("%s: JudgeTokens = %d, %v; want unsure, nil", name, j, err)
		}
		if ok, err := v.VerifyTokens(t.Context(), tk, claim); ok || !errors.Is(err, engine.ErrUnsupported) {
			t.Errorf("%s: VerifyTokens = %v, %v; want false, ErrUnsupported", name, ok, err)
		}
	}
	n := len(r.bodies["POST /v1/completions"])
	for _, c := range [][]int32{{}, {1, 2, 3, 4, 5, 6}, {1, -2, 3, 4, 5}} {
		if j, err := v.JudgeTokens(t.Context(), task, c); j != llm.JudgeInvalid || err != nil {
			t.Errorf("claim %v: %d, %v; want invalid", c, j, err)
		}
	}
	if got := len(r.bodies["POST /v1/completions"]); got != n {
		t.Errorf("invalid-length claims sent %d scoring requests, want none", got-n)
	}
	other := task
	other.Model = engine.ModelRef{Name: "other"}
	if j, err := v.JudgeTokens(t.Context(), other, claim); j != llm.JudgeInvalid || !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("another model: %d, %v; want an ErrUnsupported error", j, err)
	}

	for _, code := range []int{500, 400} {
		bad := newReplay(t, map[string]any{"GET /v1/models": "vllm-models.json", "POST /tokenize": "vllm-tokenize.json",
			"POST /v1/completions": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", code) })})
		be := openSpec(t, "qwen=openai:"+bad.URL+"?model=Qwen/Qwen2.5-1.5B-Instruct&server=vllm&backoff=1ms&retries=1")
		bv, _ := be.Verifier()
		if j, err := bv.JudgeTokens(t.Context(), greedy("qwen"), claim); j != llm.JudgeUnsure || err != nil {
			t.Errorf("server answering %d: %d, %v; want unsure, nil", code, j, err)
		}
		if ok, err := bv.VerifyTokens(t.Context(), greedy("qwen"), claim); ok || err == nil {
			t.Errorf("server answering %d: VerifyTokens = %v, %v; want an error", code, ok, err)
		}
	}

	for _, spec := range []string{"m=openai:" + r.URL, "m=openai:" + r.URL + "?server=llamacpp"} {
		e := openSpec(t, strings.Replace(spec, "m=", ref.Name+"=", 1))
		if _, ok := e.Verifier(); ok {
			t.Errorf("%s: Verifier() = true, want false (no scoring API)", spec)
		}
		if _, ok := e.NodeEngine().(interface {
			JudgeTokens(context.Context, engine.Task, []int32) (int, error)
		}); ok {
			t.Errorf("%s: NodeEngine() judges tokens, want the plain engine (equality votes)", spec)
		}
	}
	if _, ok := e.NodeEngine().(interface {
		JudgeTokens(context.Context, engine.Task, []int32) (int, error)
	}); !ok {
		t.Error("server=vllm: NodeEngine() does not judge tokens")
	}
}

// TestSGLangNative: api=native generates with SGLang's /generate: exact ids (output_ids, and
// the ids of output_token_logprobs), the built-in engine's tokens, text and margins (the
// test server runs it), enginetest passes, and the request carries the documented fields.
func TestSGLangNative(t *testing.T) {
	eng := must(t, loadText)
	ref := eng.Models()[0]
	r := modelServer(t, eng, serverSGLang)
	e := openSpec(t, ref.Name+"=openai:"+r.URL+"?server=sglang&api=native&digest="+ref.Digest.String())
	if !e.ExactTokens() || e.Settings()["api"] != "native" {
		t.Errorf("ExactTokens %v settings %v: want exact ids and api=native", e.ExactTokens(), e.Settings())
	}
	tasks := []engine.Task{textTasks(ref)[0], textTasks(ref)[2]} // greedy on text and on prompt ids
	enginetest.Run(t, e, tasks...)
	for _, task := range tasks {
		got, err := e.Run(t.Context(), task)
		if err != nil {
			t.Fatal(err)
		}
		want, err := eng.Run(t.Context(), task)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens, want.Tokens) || string(got.Data) != string(want.Data) || !strings.HasPrefix(got.Info["ids"], "exact") {
			t.Errorf("%q: tokens %v text %q (%s), built-in %v %q", task.Prompt, got.Tokens, got.Data, got.Info["ids"], want.Tokens, want.Data)
		}
		for i := range want.Margins {
			if i >= len(got.Margins) || math.Abs(float64(got.Margins[i]-want.Margins[i])) > 1e-3 {
				t.Fatalf("%q: margins %v, built-in %v", task.Prompt, got.Margins, want.Margins)
			}
		}
	}
	body := r.last(t, "POST /generate")
	wantFields(t, body, map[string]any{"input_ids": []int{1, 512, 278, 6763}, "return_logprob": true, "top_logprobs_num": 2, "stream": false,
		"sampling_params": map[string]any{"max_new_tokens": 5, "temperature": 0, "top_p": 1, "top_k": 1, "stop": []string{}}})
	if _, ok := body["text"]; ok {
		t.Error("request with prompt ids also sends text")
	}
	probe, other := ProbeTasks(e)
	if _, err := SelfTest(t.Context(), e, probe, other); err != nil {
		t.Errorf("SelfTest: %v", err)
	}

	for _, bad := range []string{"?server=vllm&api=native", "?server=sglang&api=native&ids=tokenize", "?server=sglang&api=grpc"} {
		sp, err := ParseSpec("m=openai:" + r.URL + bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Open(t.Context(), sp); err == nil || !strings.Contains(err.Error(), "api") {
			t.Errorf("%s: Open = %v, want an error naming api", bad, err)
		}
	}
}

// TestVLLMScoreReplay: the Verifier reads vLLM's prompt_logprobs shape (testdata/README.md):
// it tokenizes the prompt with /tokenize, sends prompt + claim as ids with prompt_logprobs 2
// and max_tokens 1, and reads the claimed tokens' log-probs, ranks and alternatives; a claimed
// token at rank 2 trailing by 0.29 is within the greedy tolerance. An answer whose positions do
// not match the ids sent is a bad response, on which JudgeTokens abstains.
func TestVLLMScoreReplay(t *testing.T) {
	r := newReplay(t, map[string]any{"GET /v1/models": "vllm-models.json", "POST /tokenize": "vllm-tokenize.json",
		"POST /v1/completions": "vllm-prompt-logprobs.json"})
	e := openSpec(t, "qwen=openai:"+r.URL+"?model=Qwen/Qwen2.5-1.5B-Instruct&server=vllm&batch_invariant=1")
	v, ok := e.Verifier()
	if !ok {
		t.Fatal("no Verifier for server=vllm")
	}
	task := greedy("qwen")
	claim := []int32{1052, 572, 264, 2632, 3743}
	vd, err := v.Check(t.Context(), task, claim, llm.DefaultGreedyTol)
	if err != nil {
		t.Fatal(err)
	}
	wantMargins := []float64{0.8891, 3.8709, 1.8205, -0.2919, 0.3481}
	for i, s := range vd.Tokens {
		if s.ID != claim[i] || math.Abs(s.Margin-wantMargins[i]) > 1e-9 || s.Rank != map[bool]int{true: 1, false: 0}[i == 3] {
			t.Errorf("token %d: %+v, want id %d, margin %v", i, s, claim[i], wantMargins[i])
		}
	}
	if !vd.Accept || math.Abs(vd.Need-0.2919) > 1e-9 || vd.FirstReject != -1 {
		t.Errorf("verdict %+v: want accepted with need 0.2919", vd)
	}
	if j, err := v.JudgeTokens(t.Context(), task, claim); j != llm.JudgeValid || err != nil {
		t.Errorf("JudgeTokens = %d, %v; want valid", j, err)
	}
	wantFields(t, r.last(t, "POST /v1/completions"), map[string]any{"model": "Qwen/Qwen2.5-1.5B-Instruct",
		"prompt": []int{12522, 5193, 264, 882, 1052, 572, 264, 2632, 3743}, "prompt_logprobs": 2, "max_tokens": 1, "temperature": 0})
	wantFields(t, r.last(t, "POST /tokenize"), map[string]any{"prompt": "Once upon a time", "add_special_tokens": true})

	// A tolerance below the rank-2 token's lag rejects it at position 3.
	if vd, err := v.Check(t.Context(), task, claim, 0.25); err != nil || vd.Accept || vd.FirstReject != 3 {
		t.Errorf("Check at tol 0.25 = %+v, %v; want token 3 rejected", vd, err)
	}
	// Four claimed ids: the answer's nine positions do not fit the eight ids sent.
	if _, err := v.Score(t.Context(), task, claim[:4]); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Score on a misaligned answer = %v, want ErrBadResponse", err)
	}
	if j, err := v.JudgeTokens(t.Context(), task, claim[:4]); j != llm.JudgeUnsure || err != nil {
		t.Errorf("JudgeTokens on a misaligned answer = %d, %v; want unsure", j, err)
	}
}

// sglangRoutes answers SGLang's /generate with the replay file for the request's purpose: a
// text prompt from position 0 (prompt ids), input ids with logprob_start_len >= 0 (scoring),
// else generation.
func sglangRoutes() map[string]any {
	gen, prompt, score := readReplayNoT("sglang-generate.json"), readReplayNoT("sglang-generate-prompt.json"), readReplayNoT("sglang-generate-score.json")
	return map[string]any{"GET /v1/models": "sglang-models.json", "GET /get_server_info": "sglang-server-info.json",
		"POST /generate": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			start, _ := in["logprob_start_len"].(float64)
			switch {
			case in["text"] != nil && start == 0:
				w.Write(prompt)
			case in["input_ids"] != nil && start >= 0:
				w.Write(score)
			default:
				w.Write(gen)
			}
		})}
}

func readReplayNoT(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "replay", name))
	if err != nil {
		panic(err)
	}
	return b
}

// TestSGLangGenerateReplay: SGLang's native /generate shapes (testdata/README.md). api=native
// reads exact ids (output_ids and output_token_logprobs) and margins; the Verifier gets the
// prompt's ids from input_token_logprobs (logprob_start_len 0), scores prompt + claim from
// logprob_start_len = len(prompt)-1 and skips SGLang's null first entry.
func TestSGLangGenerateReplay(t *testing.T) {
	r := newReplay(t, sglangRoutes())
	const base = "llama=openai:%s?model=meta-llama/Llama-3.1-8B-Instruct&server=sglang"
	e := openSpec(t, strings.Replace(base, "%s", r.URL, 1)+"&api=native")
	a, err := e.Run(t.Context(), greedy("llama"))
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{12366, 11, 279, 3363, 315}
	if !slices.Equal(a.Tokens, want) || string(a.Data) != " Paris, the city of" || !strings.HasPrefix(a.Info["ids"], "exact") ||
		len(a.Margins) != 5 || math.Abs(float64(a.Margins[1])-0.1919) > 1e-6 {
		t.Errorf("artifact %v %q %s margins %v: want %v, the text, exact, margin 1 = 0.1919", a.Tokens, a.Data, a.Info["ids"], a.Margins, want)
	}
	wantFields(t, r.last(t, "POST /generate"), map[string]any{"text": "Once upon a time", "return_logprob": true, "logprob_start_len": -1,
		"top_logprobs_num": 2, "sampling_params": map[string]any{"max_new_tokens": 5, "temperature": 0, "top_p": 1, "top_k": 1, "stop": []string{}}})

	e = openSpec(t, strings.Replace(base, "%s", r.URL, 1))
	v, ok := e.Verifier()
	if !ok {
		t.Fatal("no Verifier for server=sglang")
	}
	vd, err := v.Check(t.Context(), greedy("llama"), want, llm.DefaultGreedyTol)
	if err != nil {
		t.Fatal(err)
	}
	if !vd.Accept || math.Abs(vd.Need-0.1919) > 1e-9 || vd.Tokens[1].Rank != 1 || vd.Tokens[0].Rank != 0 {
		t.Errorf("verdict %+v: want accepted, need 0.1919, token 1 at rank 1", vd)
	}
	wantFields(t, r.last(t, "POST /generate"), map[string]any{"input_ids": []int{128000, 791, 6864, 315, 9822, 374, 12366, 11, 279, 3363, 315},
		"return_logprob": true, "logprob_start_len": 5, "top_logprobs_num": 2})
	if _, err := v.Score(t.Context(), greedy("llama"), []int32{12366, 11, 279, 3363, 316}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Score when the answer's ids are not the claim's = %v, want ErrBadResponse", err)
	}
}
