package main

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine/remote"
)

func newEngineCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Check remote engines (llama-server, vLLM, SGLang, Ollama, AUTOMATIC1111, ComfyUI, a command)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "selftest NAME=KIND:URL[?options]...",
		Short: "Check a remote engine as genquorum node --engine does at start, and report",
		Long: `selftest runs, for each spec (the form of genquorum node --engine), the checks a node makes
before it registers a remote engine: the server answers, the declared model is loaded, the
launch settings it can see are the reproducible ones (llama-server: one slot; SGLang:
deterministic inference), then a probe task twice and once beside another request, which
must give identical outputs. It prints the pinned settings (recorded on the ledger in the
engine's name), the probe's digest, and whether a node would accept the engine (a declared
digest, exact token ids for text). Exit status 3 when any engine fails; the error names the
setting to change.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEngineSelftest(cmd.Context(), g, args)
		},
	})
	return cmd
}

func runEngineSelftest(ctx context.Context, g *globalOptions, specs []string) error {
	failed := 0
	for _, spec := range specs {
		e, rep, err := remote.Check(ctx, spec)
		if err != nil {
			failed++
			fmt.Fprintf(g.stdout, "FAIL %s\n  %v\n", spec, err)
			continue
		}
		fmt.Fprintf(g.stdout, "PASS %s\n", e.Name())
		fmt.Fprintf(g.stdout, "  url       %s\n", e.Spec().URL)
		for _, k := range slices.Sorted(maps.Keys(rep.Settings)) {
			fmt.Fprintf(g.stdout, "  pinned    %s=%s\n", k, rep.Settings[k])
		}
		ids := ""
		if len(rep.Tokens) > 0 {
			ids = fmt.Sprintf(", %d token ids", len(rep.Tokens))
		}
		fmt.Fprintf(g.stdout, "  probe     %s%s, identical in 3 runs (one beside another request), %d requests in %v\n",
			rep.Probe.String()[:16], ids, rep.Runs, rep.Elapsed.Round(1e6))
		if ok, why := remote.NodeReady(e); ok {
			fmt.Fprintf(g.stdout, "  node      accepts it: genquorum node --engine '%s'\n", e.Spec())
		} else {
			fmt.Fprintf(g.stdout, "  node      refuses it: %s\n", why)
		}
	}
	if failed > 0 {
		return partialError{failed: failed, total: len(specs)}
	}
	return nil
}
