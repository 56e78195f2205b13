// Package server is genquorum's HTTP front end for its built-in engines: it serves the text
// engine (package engine/llm) under llama-server's native API and the OpenAI-compatible
// completions API, and the image engine (package engine/diffusion) under AUTOMATIC1111's
// txt2img API, so that existing clients can use them unchanged.
//
// # Use
//
//	eng, err := llm.Open("model.gguf", llm.Options{})
//	img, err := diffusion.Open("base", "base.gguf")
//	s, err := server.New(server.Config{LLMs: []*llm.Engine{eng}, Image: img, Logger: logger})
//	err = s.Serve(ctx, ln, 30*time.Second) // until ctx ends, then a graceful shutdown
//	// or serve s.Handler() with any http.Server
//
// Either engine may be left out. GET /health answers {"status": "ok"} whatever is served.
//
// # Text endpoints
//
//   - POST /completion: llama-server's native completion (llama.cpp b4748). prompt is a string
//     (tokenized with BOS added and control-token texts parsed, as llama-server does) or an
//     array of token ids and strings (ids used as they are, only the first string gets BOS);
//     n_predict, temperature (<= 0: greedy), top_k, top_p, seed, n_probs, ignore_eos, stop,
//     stream, return_tokens and model. The response has b4748's field names and shapes,
//     completion_probabilities, stop_type ("eos", "limit", "word") and stopping_word included.
//   - POST /v1/completions: OpenAI's legacy completions. prompt is a string, an array of
//     strings, an array of ids or an array of id arrays (one prompt each); max_tokens,
//     temperature, top_p, seed, logprobs, n, stop, stream, echo, and llama-server's top_k,
//     model. Choice i of n samples with seed+i. logprobs carry llama-server b4748's content
//     array and OpenAI's tokens, token_logprobs, top_logprobs and text_offset (byte offsets
//     into the text). echo prepends the prompt (as sent when it is text, detokenized when it
//     has ids); echo with logprobs (scoring the prompt) is refused with 400.
//   - POST /v1/chat/completions (and llama-server's alias /chat/completions): OpenAI's chat.
//     messages (role and content: a string, or text parts joined with newlines), max_tokens or
//     max_completion_tokens, temperature, top_p, top_k, seed, n, stop, stream, logprobs (true)
//     with top_logprobs. The messages are formatted with the model's chat template as
//     llama-server b4748 does without --jinja: the GGUF's tokenizer.chat_template is recognised
//     by the markers llama.cpp's llm_chat_detect_template looks for and applied as
//     llm_chat_apply_template; a model without a template gets ChatML. ChatML, Llama 3,
//     Gemma, Phi-3 and Zephyr are implemented; a model with another template (Llama 2 /
//     Mistral [INST] variants, Phi-4, anything unrecognised) is refused with 400 on this
//     endpoint, naming /v1/completions as the way round. The formatted text is then a text
//     prompt (BOS added, control-token texts parsed).
//   - GET /props: llama-server b4748's shape (default_generation_settings with n_ctx and the
//     defaults applied, total_slots, model_path, chat_template: ChatML's Jinja source for a
//     model without one, as llama-server reports it, bos_token, eos_token, build_info) and
//     genquorum's model_digest and profile, for the first model.
//   - GET /v1/models, POST /tokenize (content, add_special, with_pieces) and
//     POST /detokenize (tokens), as llama-server.
//
// model: with one text model served any name is accepted, as llama-server does (OpenAI
// clients must send one); with several it chooses one (404 for another name). The OpenAI
// endpoints answer with the name the client sent, as llama-server; /completion with the
// model's own name.
//
// Text handling follows llama-server b4748's process_token: the content is the tokens'
// pieces (control tokens as nothing); a token after which the text ends in an incomplete
// UTF-8 sequence gets no probability entry (its bytes go out with the token that completes
// the character, whose entry's token is that whole text cut to valid UTF-8 and whose bytes
// are all of it), so completion_probabilities align with llama-server's (checked on a
// recorded b4748 response that has such a token); stop strings (a string or an array, at most
// 16 of at most 1024 bytes, empty ones ignored) are searched in the unsent text, the first
// complete one cuts the text and ends the generation (stop_type "word", finish_reason
// "stop"), and text that may be the start of a stop string is held back until it is
// resolved. Without streaming the entries of the stop string's tokens (as many as it has
// tokens alone) are dropped, as llama-server. One deliberate difference: when a generation
// ends on its limit with text held back for a partial stop match, llama-server's stream
// drops that text; here the final event carries it (the non-streamed content has it in both).
//
// stream: true answers with server-sent events ("data: <JSON>\n\n", flushed per token):
// /completion sends llama-server's partial results (content, tokens with return_tokens,
// completion_probabilities with n_probs, stop false) and then the final result (stop true,
// timings, generation settings); the OpenAI endpoints send chunks (object "text_completion"
// or "chat.completion.chunk"; chat's first chunk per choice carries the role), one chunk per
// choice with its finish_reason, the last one with usage and timings, then "data: [DONE]".
// An error after the first event is sent as an event {"error": {...}}.
//
// Fields this package does not know (min_p, repeat_penalty, cache_prompt, tools, ...) are
// ignored; generation_settings in a response lists only the settings that were applied.
// Defaults are llama-server's: temperature 0.8, top_k 40, top_p 0.95, n_predict -1 (until an
// end-of-generation token, the context or Config.MaxTokens); min_p is not applied; top_p 0
// keeps only the most likely token, as in llama.cpp. timings has llama-server's fields:
// prompt_ms runs from the start to the first generated token (the engine evaluates the
// prompt and samples the first token in one go, so that token's sampling is counted there),
// predicted_ms from there to the end. Sampling is engine/llm's documented sampler, not
// llama.cpp's: the same seed reproduces the same tokens here, but not llama-server's. A
// request without a seed uses seed 4294967295 (llama.cpp's LLAMA_DEFAULT_SEED), so that every
// response is reproducible.
//
// # Image endpoints
//
//   - POST /sdapi/v1/txt2img: AUTOMATIC1111's text-to-image. prompt (required, not blank),
//     negative_prompt, seed, steps, cfg_scale, sampler_name (or the older sampler_index),
//     width, height, batch_size, n_iter, send_images and override_settings.sd_model_checkpoint
//     (a model's name or title, "name [short hash]"; the first model by default). The response
//     is AUTOMATIC1111's {"images": [base64 PNG, ...], "parameters": {...}, "info": "<JSON>"}:
//     parameters is the request with the defaults filled in, info a JSON string with
//     AUTOMATIC1111's keys that apply (prompt, all_prompts, negative_prompt, seed, all_seeds,
//     width, height, sampler_name, cfg_scale, steps, batch_size, sd_model_name, sd_model_hash,
//     extra_generation_params, index_of_first_image, infotexts, job_timestamp, version) and
//     genquorum's profile, engine version, model digest and native size in
//     extra_generation_params and in each infotext.
//   - GET /sdapi/v1/sd-models (title, model_name, hash: the SHA-256's first 10 hex digits,
//     sha256, filename: the name with .gguf), GET /sdapi/v1/samplers and GET /sdapi/v1/options
//     (sd_model_checkpoint only), as AUTOMATIC1111.
//
// Defaults are genquorum generate image's, not AUTOMATIC1111's, so that a request and the
// command with the same values give the same PNG: steps 20, cfg_scale 3
// (diffusion.DefaultCFGScale), sampler DDIM, and the model's native size (32x32 for the
// shipped models). The samplers are the engine's under AUTOMATIC1111's names: "DDIM", "Euler"
// and "Euler a" (also their aliases ddim, k_euler, k_euler_a, k_euler_ancestral and the
// engine's names euler and euler_a, in any case); scheduler may only be "Automatic".
//
// Image i of a request (i from 0 to batch_size × n_iter - 1, generated one after another) has
// seed seed+i, as AUTOMATIC1111 without variation seeds. A seed of -1, or none, makes the
// server draw the first seed uniformly from [0, 2^32) (AUTOMATIC1111's range); info's seed,
// all_seeds and infotexts give the seeds used, so that sending them back reproduces the images
// (parameters.seed stays -1, the request as given, as in AUTOMATIC1111).
//
// The engine makes every image at the model's native size under Config.Profile; at that size
// the PNG is the engine's, byte for byte (what genquorum generate image writes and what
// verifiers hash). Another width or height is made by resizing the native image with the
// Catmull-Rom bicubic of golang.org/x/image/draw (a = -0.5, pixel centres aligned, the kernel
// widened when shrinking), computed at 16 bits and rounded to 8-bit grey, then encoded as PNG;
// the same request gives the same bytes on any machine. Resizing adds no detail: a 512x512
// image is the 32x32 one, smoothly enlarged.
//
// Fields that would change the images in ways this server cannot (enable_hr, restore_faces,
// tiling, subseed_strength other than 0) are refused with 400; other fields (styles, eta, ...)
// are ignored.
//
// # Errors and limits
//
// Errors of the text endpoints are JSON in llama-server's shape, {"error": {"code": 400, "message": "...",
// "type": "invalid_request_error"}}, which OpenAI clients also read: 400 for a bad request (bad
// JSON, bad field, a token id out of range, a prompt plus n_predict that overflow the context),
// 404 for an unknown model or path, 405 for a known path with another method, 413 for a body
// over Config.MaxBodyBytes, 503 when every generation slot is busy (the request is refused at
// once, not queued) and 500 otherwise.
// Config bounds n_predict / max_tokens, n × prompts, and n_probs / logprobs.
//
// Errors of the /sdapi/ endpoints are in AUTOMATIC1111's shape, {"error": "HTTPException",
// "detail": "...", "body": "", "errors": "400: ..."}, with the same status codes. Config
// bounds width and height (MaxImageSize, default 1024), batch_size × n_iter (MaxImages,
// default 8) and steps (MaxImageSteps, default 150); cfg_scale must be in (0, 100].
//
// # Concurrency
//
// A Server is safe for concurrent use. Generations run in at most Config.Slots goroutines at
// a time (a generation, its prompt's tokenization included, runs on the request's goroutine
// holding one slot; id_slot in a response is the slot it held; a txt2img request holds one
// slot for all its images); tokenize, detokenize, the lists and health take no slot (their
// work is bounded by the body size: tokenizing 1 MiB of text takes about half a second). A
// request is decoded and checked before it takes a slot, so a bad one fails at once even when
// all are busy. A generation stops between tokens or sampling steps when the client goes away
// (the request's context).
//
// # Extension
//
// Routes are registered per engine family on one mux (registerLLM, registerImage), each with
// its error shape. Every POST endpoint goes through postJSON: read the body under the limit,
// decode and check it (models resolved, limits applied), take a slot if it generates, run,
// write the JSON response or the error in the family's shape. A new endpoint supplies a
// decoder and a run function.
package server
