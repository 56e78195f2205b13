// Package remote adapts the engines people already run on their GPUs to genquorum's
// engine.Engine: llama.cpp's server, OpenAI-compatible servers (vLLM, SGLang, llama-server,
// Ollama's /v1), Ollama's native API, AUTOMATIC1111's txt2img (also Forge and
// stable-diffusion.cpp's server), ComfyUI, and any command line.
//
// # Use
//
//	sp, err := remote.ParseSpec("tiny=llamacpp:http://127.0.0.1:8080?digest=" + hex)
//	e, err := remote.Open(ctx, sp)                // checks the server, the model, launch settings
//	probe, other := remote.ProbeTasks(e)
//	rep, err := remote.SelfTest(ctx, e, probe, other) // refuses a non-reproducible engine
//	err = registry.Register(e)                      // e.Name() carries the pinned settings
//
// One Engine serves one model: the spec's NAME, with the content digest the operator declares
// (digest=). genquorum cannot hash weights that live on another server, so the digest is a
// claim; a wrong claim is caught the usual way, by verifiers who run the declared weights and
// disagree. Where a server reports a checkpoint's SHA-256 (AUTOMATIC1111's sd-models), Open
// compares it with the declared digest.
//
// # Determinism: pinned, recorded, checked
//
// Every adapter sends, on every request, the settings that make its engine reproducible, and
// Open checks the launch-time settings it can see (it cannot change them: they are the
// operator's). What Open found or pins is Engine.Settings, and Engine.Name is
// "remote/KIND:NAME{key=value,...}", so that a node's registration records them on the
// ledger (hashed when over 128 bytes; the full list is in every artifact's Info). SelfTest
// then runs a probe twice and once beside another request and refuses the engine, naming the
// setting to change, when the outputs differ.
//
//   - llamacpp: POST /tokenize (add_special) for the prompt's ids, then POST /completion with
//     the ids, cache_prompt:false, seed, n_probs (default 2, for margins), return_tokens:true,
//     samplers [top_k, top_p, temperature] with min_p 0, typical_p 1, repeat_penalty 1,
//     dry/xtc/mirostat off; greedy is temperature 0 and top_k 1. GET /props must show one slot
//     (total_slots 1, else Open fails: "-np 1") and the declared model (model_path); its
//     build_info and n_ctx are recorded, and sampler (see below). A server without /props
//     (genquorum serve before it had one) is checked through /v1/models and recorded as
//     props=none. Token ids: exact (return_tokens, or completion_probabilities ids on servers
//     without it).
//   - openai: POST /v1/completions with seed, temperature, top_p, top_k, logprobs (default 2),
//     n 1, and vLLM's return_token_ids and return_tokens_as_token_ids (ignored by servers that
//     do not know them); the prompt is sent as text, or as ids when the task gives them. Ids
//     come from the response: vLLM 0.10.2+ choices[].token_ids, vLLM's "token_id:N" logprob
//     tokens, or llama-server's logprobs.content[].id: those are exact. SGLang's and Ollama's
//     /v1/completions give no ids: the adapter refuses their answers unless the operator opts
//     into re-tokenized ids (ids=tokenize: the server's POST /tokenize; vocab=FILE.gguf: our
//     tokenizer of the declared GGUF vocabulary), which are not exact (a model may generate a
//     non-canonical tokenization) and are refused when their count differs from the server's
//     completion_tokens; a node accepts them, with a warning, since the operator opted in
//     (the ledger records ids=tokenize or ids=vocab in the engine's name). server=vllm|sglang|llamacpp|ollama|other names the server for the
//     checks and the advice: with sglang, GET /get_server_info must show
//     enable_deterministic_inference; with vllm, batch_invariant=1 records that the operator
//     runs VLLM_BATCH_INVARIANT=1 (it cannot be seen over HTTP). With server=sglang, api=native
//     generates with SGLang's own POST /generate instead (text or input_ids, sampling_params
//     {max_new_tokens, temperature, top_p, top_k}, return_logprob, top_logprobs_num): its ids are
//     exact (output_ids, which must agree with the ids of meta_info.output_token_logprobs and
//     with completion_tokens), recorded as api=native. eog=ID,... (or vocab=FILE.gguf with
//     ids=response) gives the end-of-generation ids the claim checks need (see below).
//   - ollama: POST /api/show (the model exists; its quantization is recorded), then POST
//     /api/generate with raw:true, stream:false and options {seed, temperature, top_k, top_p,
//     num_predict, num_ctx (default 2048), repeat_penalty 1, min_p 0, typical_p 1, mirostat
//     0}: Ollama ignores top-level sampling fields. Ollama returns no token ids, so its text
//     artifacts are "text/plain; charset=utf-8" without Tokens: it cannot take text:tokens
//     tasks (ExactTokens is false), and prompt ids are refused.
//   - a1111: GET /sdapi/v1/sd-models (the checkpoint exists; its SHA-256, when listed, must be
//     the declared digest: sha256=checked), then POST /sdapi/v1/txt2img with seed, subseed = seed with
//     subseed_strength 0, sampler_name (ddim, euler, euler_a mapped to DDIM, Euler, Euler a),
//     scheduler (option, default Automatic), steps, cfg_scale, width, height, batch 1, and
//     override_settings {randn_source: CPU, sd_model_checkpoint}. The first image's base64
//     PNG is the artifact; info's seed must be the task's.
//   - comfyui: a workflow template in API format (workflow=FILE.json) with placeholders
//     {{prompt}}, {{negative_prompt}}, {{seed}}, {{steps}}, {{cfg}}, {{width}}, {{height}},
//     {{sampler}}; POST /prompt, poll GET /history/{id} with back-off, download the first
//     output image with GET /view. GET /system_stats is checked at Open; the template's
//     SHA-256 and ComfyUI's version are recorded. A cancelled task is deleted from the queue
//     and interrupted.
//   - exec: a program (the URL part, looked up in PATH) with arg= and env= options; the
//     canonical task JSON (ExecTask) on stdin; stdout is the artifact: an image file (kind=image)
//     or {"text", "tokens", "margins"} (kind=text, the default). A non-zero exit status is an
//     *ExitError with the end of stderr; the program is killed at the time limit or when the
//     task is cancelled. The program file's SHA-256 is recorded.
//
// # Sampled text tasks
//
// A sampled task (decode "sample") is defined by genquorum's seeded sampler
// (engine/llm/SAMPLING.md): the same seed gives other tokens under llama.cpp's, vLLM's,
// SGLang's or Ollama's samplers. So the text adapters run sampled tasks only on a server that
// implements that sampler: the llamacpp adapter recognises genquorum serve by /props's
// build_info ("genquorum ..."), the openai adapter needs sampler=genquorum; both record
// sampler=genquorum or sampler=native. Elsewhere a sampled task is refused with
// engine.ErrUnsupported. Greedy tasks (temperature 0, top_k 1) run everywhere.
//
// # Checking claims: teacher-forced scoring
//
// A node votes in check rounds by scoring the other executors' claimed token sequences on its
// own engine. An openai engine with server=vllm or server=sglang can do that on its server:
// Engine.Verifier returns it as a *Verifier (VerifyTokens, JudgeTokens), which a node registers
// instead of the Engine. It sends prompt + claim as token ids in one request (vLLM:
// /v1/completions with prompt_logprobs and max_tokens 1; SGLang: /generate with return_logprob,
// logprob_start_len = len(prompt)-1 and top_logprobs_num), a text prompt being tokenized by the
// server first (vLLM's POST /tokenize; SGLang: a /generate whose input_token_logprobs list the
// prompt's ids), and applies the built-in greedy check (llm.Model.VerifyGreedy) with the
// built-in tolerance and band to the returned log-probs. It abstains (llm.JudgeUnsure) where it
// cannot check: sampled and beam claims (their check needs the whole distribution), short claims
// whose end-of-generation id it cannot recognise (no eog= or vocab=), and servers that fail,
// refuse or answer out of shape. llama-server and Ollama return no prompt log-probs: no Verifier.
// The tolerances were measured between CPU profiles of the built-in engine, not between GPU
// servers; no vLLM or SGLang server was run for this code (tests: model-backed in-test servers in
// those shapes, and replay files).
//
// # Failures
//
// Every HTTP request runs under the spec's timeout, reads at most max_bytes, and is retried
// with exponential back-off (backoff, doubled up to 5 s; retries times) when the server is
// unreachable or answers 429 or 5xx; 4xx answers are not retried. Errors wrap one of
// ErrUnreachable, ErrWrongModel, ErrNondeterministic or ErrBadResponse (HTTP answers are a
// *StatusError), or engine.ErrUnsupported for tasks an adapter cannot run (beam search, a
// kind or model it does not serve) or that the server refuses: an HTTP 400, 413 or 422 answer,
// or an exec program exiting with status 65 (ExitRefused). A node commits to the ledger's
// unrunnable fingerprint for those, so a task every honest server refuses is settled as
// unrunnable (paid by its submitter) instead of every executor missing its window. When the task's context ends, the request in flight is
// cancelled and Run returns the context's error.
//
// # Not done here
//
// Streaming responses are not used (a final answer is what a verifier needs). The adapters
// were tested against genquorum serve and against replay servers that reproduce the response
// shapes documented by vLLM, SGLang, Ollama and ComfyUI (testdata/README.md gives each shape's
// source); no real vLLM, SGLang, Ollama, AUTOMATIC1111 or ComfyUI server was run.
package remote
