package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/tokenizer"
	"github.com/genquorum/genquorum/userfile"
)

type fetchOptions struct {
	rpcOptions
	out    string
	idsOut string
	llm    []string
}

func newFetchCommand(g *globalOptions) *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch ID --out FILE [--ids-out FILE] [--llm MODEL.gguf]",
		Short: "Fetch the accepted artifact of a task from an agreeing node",
		Long: `fetch looks the task up on the ledger, and fetches its artifact over libp2p from the
executors that agreed with the verdict, in turn, until one delivers bytes whose SHA-256 is
the digest it revealed and whose fingerprint (recomputed here) lies within the task's
tolerance of the accepted one. Each executor passed over is reported on stderr with the
reason. It writes the artifact to --out.

A text artifact travels as a text record: the generated text with its token ids (version 1
of the encoding documented at fingerprint.TextRecord). fetch recomputes the text:tokens
fingerprint from the ids and requires it to equal the accepted one, so an executor whose ids
were tampered with is rejected. --out receives the text, as the engine produced it; --ids-out
receives the token ids, space-separated on one line (the input of genquorum detokenize).
With --llm, fetch also checks that the ids render exactly the text with that GGUF model's
tokenizer (llama-server's content: pieces, control tokens as nothing); the check applies to
tasks whose model digest is the file's SHA-256 and is skipped for others. Without the model
the text itself is vouched for only by the digest its executor revealed.

Exit status: 0 when the artifact was written; 1 when no agreeing executor delivered one that
passes the checks (each executor's reason is in the message), the task has no accepted
verdict, or --ids-out was given for a task that is not a text task; 2 for a usage error (no
--out, a malformed ID); 130 when interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFetch(cmd.Context(), g, o, args[0])
		},
	}
	o.rpcOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "file to write the artifact to (text tasks: the text) (required)")
	f.StringVar(&o.idsOut, "ids-out", "", "text tasks: file to write the token ids to, space-separated on one line")
	f.StringSliceVar(&o.llm, "llm", nil, "text tasks: GGUF model files whose tokenizer checks that the ids render the text")
	return cmd
}

func runFetch(ctx context.Context, g *globalOptions, o fetchOptions, arg string) error {
	if o.out == "" {
		return usagef("fetch: --out is required")
	}
	id, err := parseTaskID(arg)
	if err != nil {
		return err
	}
	var opts node.FetchOptions
	if len(o.llm) > 0 {
		if opts.Detokenize, err = detokenizer(o.llm); err != nil {
			return err
		}
	}
	cc, _, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	host, err := throwawayHost(ctx, g)
	if err != nil {
		return err
	}
	defer host.Close()
	f, err := node.Fetch(ctx, cc, host, id, opts)
	if err != nil {
		return err
	}
	for _, r := range f.Rejected {
		fmt.Fprintf(g.stderr, "fetch: passed over %v\n", r)
	}
	if o.idsOut != "" && f.Tokens == nil {
		return fmt.Errorf("fetch: --ids-out: task %s is not a text task", arg)
	}
	if err := os.WriteFile(o.out, f.Data, 0o644); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if f.Tokens == nil {
		fmt.Fprintf(g.stdout, "%s\t%d bytes\tsha256 %s\tfrom %s\tdistance %d\n", o.out, len(f.Data), f.Digest, f.From[:16], f.Distance)
		return nil
	}
	if o.idsOut != "" {
		if err := os.WriteFile(o.idsOut, formatIDs(f.Tokens), 0o644); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
	}
	text := "text not checked against the ids (no --llm for this model)"
	if f.TextChecked {
		text = "ids render the text"
	}
	fmt.Fprintf(g.stdout, "%s\t%d bytes of text, %d token ids\trecord sha256 %s\tfrom %s\ttoken fingerprint %s matches\t%s\n",
		o.out, len(f.Data), len(f.Tokens), f.Digest, f.From[:16], hex.EncodeToString(fingerprint.OfTokens(f.Tokens)), text)
	return nil
}

// formatIDs writes ids as genquorum detokenize reads them: space-separated, one line.
func formatIDs(ids []int32) []byte {
	var b []byte
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return append(b, '\n')
}

// detokenizer loads the tokenizers of GGUF model files, keyed by the files' SHA-256 (the
// model digest the LLM engine registers), and returns the function node.Fetch checks text
// records with: it renders ids as the LLM engine renders its output (engine/llm: pieces,
// control tokens as nothing).
func detokenizer(paths []string) (func(engine.ModelRef, []int32) ([]byte, bool, error), error) {
	toks := map[engine.Digest]*tokenizer.Tokenizer{}
	for _, path := range paths {
		d, err := fileDigest(path)
		if err != nil {
			return nil, err
		}
		if toks[d], err = loadTokenizer(path); err != nil {
			return nil, err
		}
	}
	return func(m engine.ModelRef, ids []int32) ([]byte, bool, error) {
		tok, ok := toks[m.Digest]
		if !ok {
			return nil, false, nil
		}
		text, err := tok.Pieces(ids, false)
		return []byte(text), true, err
	}, nil
}

func fileDigest(path string) (engine.Digest, error) {
	f, err := userfile.Open(path)
	if err != nil {
		return engine.Digest{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return engine.Digest{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return engine.Digest(h.Sum(nil)), nil
}
