// Package server is genquorum's HTTP front end for its built-in engines: it serves the text
// engine (package engine/llm) under llama-server's native API and the OpenAI-compatible
// completions API, so that existing clients can use it unchanged.
//
// # Use
//
//	eng, err := llm.Open("model.gguf", llm.Options{})
//	s, err := server.New(server.Config{LLMs: []*llm.Engine{eng}, Logger: logger})
//	err = http.ListenAndServe("127.0.0.1:8080", s.Handler())
//
// # Endpoints
//
//   - POST /completion: llama-server's native completion (llama.cpp b4748). prompt is a string
//     (tokenized with BOS added and control-token texts parsed, as llama-server does) or an
//     array of token ids and strings (ids used as they are, only the first string gets BOS);
//     n_predict, temperature (<= 0: greedy), top_k, top_p, seed, n_probs, ignore_eos,
//     return_tokens and model (which of several models; the first by default). The response
//     has b4748's field names and shapes, completion_probabilities included.
//   - POST /v1/completions: OpenAI's legacy completions. prompt is a string, an array of
//     strings, an array of ids or an array of id arrays (one prompt each); max_tokens,
//     temperature, top_p, seed, logprobs, n, and llama-server's top_k, model. Choice i of n
//     samples with seed+i. logprobs carry llama-server b4748's content array and OpenAI's
//     tokens, token_logprobs, top_logprobs and text_offset (byte offsets into the text).
//   - GET /v1/models, GET /health, POST /tokenize (content, add_special, with_pieces) and
//     POST /detokenize (tokens), as llama-server.
//
// Fields this package does not know (min_p, repeat_penalty, cache_prompt, ...) are ignored;
// generation_settings in a response lists only the settings that were applied. Defaults are
// llama-server's: temperature 0.8, top_k 40, top_p 0.95, n_predict -1 (until an
// end-of-generation token, the context or Config.MaxTokens); min_p is not applied; top_p 0
// keeps only the most likely token, as in llama.cpp. timings has prompt_n, predicted_n, and
// predicted_ms, which covers the prompt's evaluation too (the engine runs both in one call).
// Sampling is engine/llm's documented sampler, not llama.cpp's: the same seed reproduces the
// same tokens here, but not llama-server's. A request without a seed uses seed 4294967295
// (llama.cpp's LLAMA_DEFAULT_SEED), so that every response is reproducible. stream must be
// false.
//
// # Errors and limits
//
// Errors are JSON in llama-server's shape, {"error": {"code": 400, "message": "...",
// "type": "invalid_request_error"}}, which OpenAI clients also read: 400 for a bad request (bad
// JSON, bad field, a token id out of range, a prompt plus n_predict that overflow the context),
// 404 for an unknown model or path, 405 for a known path with another method, 413 for a body
// over Config.MaxBodyBytes, 503 when every generation slot is busy (the request is refused at
// once, not queued) and 500 otherwise.
// Config bounds n_predict / max_tokens, n × prompts, and n_probs / logprobs.
//
// # Concurrency
//
// A Server is safe for concurrent use. Generations run in at most Config.Slots goroutines at
// a time (a generation, its prompt's tokenization included, runs on the request's goroutine
// holding one slot; id_slot in a response is the slot it held); tokenize, detokenize, models
// and health take no slot (their work is bounded by the body size: tokenizing 1 MiB of text
// takes about half a second). A
// generation stops between tokens when the client goes away (the request's context).
//
// # Extension
//
// Routes are registered per engine family on one mux (registerLLM). The image engine will add
// a field for its engine to Config and a registerImage that serves /sdapi/v1/txt2img next to
// these routes; the slots, limits, error shape and logging apply to it as they are.
package server
