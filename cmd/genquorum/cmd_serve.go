package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
	"github.com/genquorum/genquorum/tensor"
	"github.com/genquorum/genquorum/userfile"
)

type serveOptions struct {
	llms            []string
	imageModels     []string
	imageBase       string
	modelsDir       string
	addr            string
	profile         string
	slots           int
	maxTokens       int
	maxImageSize    int
	maxImages       int
	maxImageSteps   int
	shutdownTimeout time.Duration
	// onListen, when set, is called with the bound address before serving (tests).
	onListen func(net.Addr)
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--llm FILE ...] [--image-model NAME|FILE ...] [--addr 127.0.0.1:8080]",
		Short: "Serve the built-in engines over llama-server's, OpenAI's and AUTOMATIC1111's HTTP APIs",
		Long: `serve runs an HTTP server for the built-in text and image engines, so that llama.cpp,
OpenAI and AUTOMATIC1111 clients can use them unchanged. Give --llm, --image-model or both.

Text (--llm):
  POST /completion        llama-server's native completion (prompt text or ids, n_predict,
                          temperature, top_k, top_p, seed, n_probs, return_tokens, ignore_eos,
                          stop, stream)
  POST /v1/completions    OpenAI completions (prompt, max_tokens, temperature, top_p, seed,
                          logprobs, n, stop, stream, echo)
  POST /v1/chat/completions  OpenAI chat (messages in the GGUF's chat template, ChatML when
                          it has none; max_tokens, temperature, top_p, seed, n, stop, stream,
                          logprobs, top_logprobs)
  GET  /props             llama-server's properties (n_ctx, slots, chat template)
  GET  /v1/models         the models served
  POST /tokenize          {"content", "add_special", "with_pieces"} -> {"tokens"}
  POST /detokenize        {"tokens"} -> {"content"}

Images (--image-model):
  POST /sdapi/v1/txt2img   AUTOMATIC1111's txt2img (prompt, negative_prompt, seed, steps,
                           cfg_scale, sampler_name, width, height, batch_size, n_iter,
                           override_settings.sd_model_checkpoint) -> {"images": [base64 PNG],
                           "parameters", "info"}
  GET  /sdapi/v1/sd-models, /sdapi/v1/samplers, /sdapi/v1/options

  GET  /health           {"status": "ok"}

Each --llm adds a model, named by its file name without .gguf; with one model any "model"
name is accepted (as llama-server), with several it chooses one (the first by default).
stream: true answers with server-sent events. Sampling is genquorum's documented sampler,
not llama.cpp's: greedy output matches llama-server, sampled output does not. A request
without a seed uses seed 4294967295.

Each --image-model adds a diffusion model, as genquorum generate image --model: a file,
NAME.gguf in --models-dir, or a built-in model (base, finetuned, lora, ti); an adapter file
is applied to --image-base (default base.gguf next to it). Requests choose one with
override_settings.sd_model_checkpoint (the first by default). Defaults are genquorum generate
image's: steps 20, cfg_scale 3, sampler DDIM ("DDIM", "Euler", "Euler a"), and the model's
native 32x32; other sizes are the native image resized with the Catmull-Rom bicubic filter.
Image i of a batch has seed seed+i; seed -1 (or none) draws a seed in [0, 2^32), returned in
info.

Every generation runs under --profile and is reproducible: the same request gives the same
tokens or the same PNG bytes. At most --slots generations run at once (a txt2img request holds
one slot for its whole batch); more are refused with 503. SIGINT or SIGTERM stops taking
requests and waits up to --shutdown-timeout for running ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.llms, "llm", nil, "GGUF text model to serve, a file or NAME.gguf in --models-dir (repeatable)")
	f.StringArrayVar(&opts.imageModels, "image-model", nil, "diffusion model to serve: a file, NAME.gguf in --models-dir, or built in: base, finetuned, lora, ti (repeatable)")
	f.StringVar(&opts.imageBase, "image-base", "", "base model of an adapter (lora, ti) --image-model (default base.gguf next to it)")
	f.StringVar(&opts.modelsDir, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories searched for model names (default $GENQUORUM_MODELS)")
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&opts.profile, "profile", "exact", "numeric profile of every generation (see genquorum profiles)")
	f.IntVar(&opts.slots, "slots", server.DefaultSlots, "generations that may run at once")
	f.IntVar(&opts.maxTokens, "max-tokens", server.DefaultMaxTokens, "largest n_predict / max_tokens a request may ask for")
	f.IntVar(&opts.maxImageSize, "max-image-size", server.DefaultMaxImageSize, "largest txt2img width or height")
	f.IntVar(&opts.maxImages, "max-images", server.DefaultMaxImages, "most images of one txt2img request (batch_size × n_iter)")
	f.IntVar(&opts.maxImageSteps, "max-image-steps", server.DefaultMaxImageSteps, "most sampling steps of a txt2img request")
	f.DurationVar(&opts.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long running requests may finish after a signal")
	return cmd
}

func runServe(ctx context.Context, g *globalOptions, opts serveOptions) error {
	if len(opts.llms) == 0 && len(opts.imageModels) == 0 {
		return usagef("give at least one --llm FILE or --image-model NAME|FILE")
	}
	if opts.slots < 1 || opts.maxTokens < 1 || opts.maxImageSize < 1 || opts.maxImages < 1 || opts.maxImageSteps < 1 ||
		opts.shutdownTimeout <= 0 {
		return usagef("--slots, --max-tokens, --max-image-size, --max-images, --max-image-steps and --shutdown-timeout must be positive")
	}
	prof, err := tensor.ProfileByName(opts.profile)
	if err != nil {
		return usageError{err}
	}
	cfg := server.Config{Profile: prof, Logger: g.logger, Slots: opts.slots, MaxTokens: opts.maxTokens,
		MaxImageSize: opts.maxImageSize, MaxImages: opts.maxImages, MaxImageSteps: opts.maxImageSteps}
	for _, name := range opts.llms {
		path, err := resolveModelPath(name, opts.modelsDir)
		if err != nil {
			return err
		}
		if err := userfile.Check(path, 0); err != nil {
			return fmt.Errorf("--llm %s: %w", name, err)
		}
		e, err := llm.Open(path, llm.Options{})
		if err != nil {
			return fmt.Errorf("--llm %s: %w", name, err)
		}
		m := e.Model()
		g.logger.Info("model loaded", "model", m.Name, "path", path, "digest", fmt.Sprintf("%x", m.Digest),
			"context", m.Config.Context, "vocab", m.Config.Vocab)
		cfg.LLMs = append(cfg.LLMs, e)
	}
	if len(opts.imageModels) > 0 {
		if cfg.Image, err = loadImageEngine(opts.imageModels, opts.modelsDir, opts.imageBase, g.logger); err != nil {
			return err
		}
	}
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	g.logger.Info("listening", "addr", ln.Addr().String(), "profile", prof.Name, "slots", opts.slots)
	if opts.onListen != nil {
		opts.onListen(ln.Addr())
	}
	if err := s.Serve(ctx, ln, opts.shutdownTimeout); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
