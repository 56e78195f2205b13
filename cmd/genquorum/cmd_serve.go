package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
	"github.com/genquorum/genquorum/tensor"
)

type serveOptions struct {
	llms            []string
	modelsDir       string
	addr            string
	profile         string
	slots           int
	maxTokens       int
	shutdownTimeout time.Duration
	// onListen, when set, is called with the bound address before serving (tests).
	onListen func(net.Addr)
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve --llm FILE [--llm FILE2] [--addr 127.0.0.1:8080]",
		Short: "Serve the built-in engines over llama-server's and OpenAI's HTTP APIs",
		Long: `serve runs an HTTP server for the built-in text engine, so that llama.cpp and OpenAI
clients can use it unchanged:

  POST /completion       llama-server's native completion (prompt text or ids, n_predict,
                         temperature, top_k, top_p, seed, n_probs, return_tokens, ignore_eos)
  POST /v1/completions   OpenAI completions (prompt, max_tokens, temperature, top_p, seed,
                         logprobs, n)
  GET  /v1/models        the models served
  GET  /health           {"status": "ok"}
  POST /tokenize         {"content", "add_special", "with_pieces"} -> {"tokens"}
  POST /detokenize       {"tokens"} -> {"content"}

Each --llm adds a model, named by its file name without .gguf; requests choose one with
"model" (the first by default). Every generation runs under --profile and is reproducible:
the same request gives the same tokens. A request without a seed uses seed 4294967295.
Sampling is genquorum's documented sampler, not llama.cpp's: greedy output matches
llama-server, sampled output does not. Streaming is not supported.

At most --slots generations run at once; more are refused with 503. SIGINT or SIGTERM stops
taking requests and waits up to --shutdown-timeout for running ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.llms, "llm", nil, "GGUF text model to serve, a file or NAME.gguf in --models-dir (repeatable; one required)")
	f.StringVar(&opts.modelsDir, "models-dir", os.Getenv("GENQUORUM_MODELS"), "directories searched for --llm names (default $GENQUORUM_MODELS)")
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&opts.profile, "profile", "exact", "numeric profile of every generation (see genquorum profiles)")
	f.IntVar(&opts.slots, "slots", server.DefaultSlots, "generations that may run at once")
	f.IntVar(&opts.maxTokens, "max-tokens", server.DefaultMaxTokens, "largest n_predict / max_tokens a request may ask for")
	f.DurationVar(&opts.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long running requests may finish after a signal")
	return cmd
}

func runServe(ctx context.Context, g *globalOptions, opts serveOptions) error {
	if len(opts.llms) == 0 {
		return usagef("give at least one --llm FILE")
	}
	if opts.slots < 1 || opts.maxTokens < 1 || opts.shutdownTimeout <= 0 {
		return usagef("--slots, --max-tokens and --shutdown-timeout must be positive")
	}
	prof, err := tensor.ProfileByName(opts.profile)
	if err != nil {
		return usageError{err}
	}
	cfg := server.Config{Profile: prof, Logger: g.logger, Slots: opts.slots, MaxTokens: opts.maxTokens}
	for _, name := range opts.llms {
		path, err := resolveModelPath(name, opts.modelsDir)
		if err != nil {
			return err
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
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	g.logger.Info("listening", "addr", ln.Addr().String(), "profile", prof.Name, "slots", opts.slots)
	if opts.onListen != nil {
		opts.onListen(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	g.logger.Info("shutting down", "timeout", opts.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Running generations did not finish in time: closing their connections cancels
		// their contexts, which stops them between tokens.
		g.logger.Warn("shutdown deadline passed, closing connections", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
