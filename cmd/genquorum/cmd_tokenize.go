package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tokenizer"
	"github.com/genquorum/genquorum/userfile"
)

// maxLineBytes bounds one input line of tokenize and detokenize.
const maxLineBytes = 64 << 20

type tokenizeOptions struct {
	model          string
	noBOS          bool
	noParseSpecial bool
}

func newTokenizeCommand(g *globalOptions) *cobra.Command {
	var opts tokenizeOptions
	cmd := &cobra.Command{
		Use:   "tokenize --model FILE",
		Short: "Turn text into token ids as llama.cpp does",
		Long: `tokenize reads one JSON string per line on stdin and prints its token ids, separated by
single spaces, one line per input (an empty line when there are no tokens). The tokenizer is
the one in the GGUF file's metadata and matches llama.cpp's llama_tokenize exactly.

As in llama.cpp, BOS is added when the vocabulary asks for it (--no-bos turns that off) and
text that spells a control token such as <s> becomes that token (--no-parse-special turns
that off). A line that is not a JSON string is reported on stderr with its number and
gives the output line "!error", so that output line i always answers input line i; the
command then exits with status 3, or 1 when every line failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenize(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.model, "model", "", "GGUF file whose tokenizer to use (required)")
	f.BoolVar(&opts.noBOS, "no-bos", false, "do not add the BOS/EOS tokens the vocabulary asks for")
	f.BoolVar(&opts.noParseSpecial, "no-parse-special", false, "tokenize control-token texts as ordinary text")
	return cmd
}

type detokenizeOptions struct {
	model     string
	noSpecial bool
	pieces    bool
	hex       bool
}

func newDetokenizeCommand(g *globalOptions) *cobra.Command {
	var opts detokenizeOptions
	cmd := &cobra.Command{
		Use:   "detokenize --model FILE",
		Short: "Turn token ids into text as llama.cpp does",
		Long: `detokenize reads one line of space-separated token ids per input on stdin and prints the
text as a JSON string, one line per input. By default it is llama.cpp's common_detokenize
(llama_detokenize without removing BOS/EOS, with SentencePiece's leading space dropped) with
control tokens rendered as their text; --no-special renders them as nothing, and --pieces
concatenates the tokens' pieces instead (llama-server's completion content).

Text that is not valid UTF-8 (possible with byte tokens) cannot be a JSON string: invalid
bytes become U+FFFD; --hex prints the exact bytes in lower-case hex instead. A line with a
bad id is reported on stderr with its number and gives the output line null (with --hex,
"!error"), so that output line i always answers input line i; the command then exits with
status 3, or 1 when every line failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetokenize(cmd.Context(), g, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.model, "model", "", "GGUF file whose tokenizer to use (required)")
	f.BoolVar(&opts.noSpecial, "no-special", false, "render control tokens as nothing")
	f.BoolVar(&opts.pieces, "pieces", false, "concatenate token pieces (keep SentencePiece's leading space)")
	f.BoolVar(&opts.hex, "hex", false, "print the bytes in hex instead of a JSON string")
	return cmd
}

// loadTokenizer opens a GGUF file and builds its tokenizer.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if path == "" {
		return nil, usagef("--model is required")
	}
	if err := userfile.Check(path, 0); err != nil {
		return nil, err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// errorMarker is the output line of an input line that failed (tokenize, detokenize --hex).
const errorMarker = "!error"

// eachLine calls fn for every line of r (without its line ending), counting failures: fn's
// error is reported on stderr with the line number, failed writes the line's output in its
// place, and the run goes on. When every line failed the error is not a partialError (exit 1).
func eachLine(ctx context.Context, g *globalOptions, r io.Reader, fn func(line string) error, failed func() error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	nfailed, total := 0, 0
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		total++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if err := fn(line); err != nil {
			nfailed++
			fmt.Fprintf(g.stderr, "line %d: %v\n", total, err)
			if err := failed(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	switch {
	case nfailed == 0:
		return nil
	case nfailed == total:
		return fmt.Errorf("all %d input lines failed", total)
	}
	return partialError{failed: nfailed, total: total}
}

func runTokenize(ctx context.Context, g *globalOptions, opts tokenizeOptions) error {
	tok, err := loadTokenizer(opts.model)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(g.stdout)
	err = eachLine(ctx, g, g.stdin, func(line string) error {
		var text string
		if err := json.Unmarshal([]byte(line), &text); err != nil {
			return fmt.Errorf("want a JSON string: %w", err)
		}
		_, err := w.Write(formatIDs(tok.Encode(text, !opts.noBOS, !opts.noParseSpecial)))
		return err
	}, func() error {
		_, err := fmt.Fprintln(w, errorMarker)
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func runDetokenize(ctx context.Context, g *globalOptions, opts detokenizeOptions) error {
	tok, err := loadTokenizer(opts.model)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(g.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = eachLine(ctx, g, g.stdin, func(line string) error {
		ids, err := parseIDList(line)
		if err != nil {
			return err
		}
		var text string
		if opts.pieces {
			text, err = tok.Pieces(ids, !opts.noSpecial)
		} else {
			text, err = tok.Decode(ids, false, !opts.noSpecial)
		}
		if err != nil {
			return err
		}
		if opts.hex {
			_, err = fmt.Fprintln(w, hex.EncodeToString([]byte(text)))
			return err
		}
		return enc.Encode(text)
	}, func() error {
		marker := "null"
		if opts.hex {
			marker = errorMarker
		}
		_, err := fmt.Fprintln(w, marker)
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}
