package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/gguf"
)

func newQuantizeCommand(g *globalOptions) *cobra.Command {
	var typ, name string
	var keep []string
	cmd := &cobra.Command{
		Use:   "quantize IN.gguf OUT.gguf",
		Short: "Write a quantized copy of a GGUF model (q8_0, q4_0, f16, bf16)",
		Long: `quantize writes a copy of a GGUF model whose weight matrices are re-quantized to --type with
llama.cpp's reference quantizers (the bytes llama-quantize --pure writes without an importance
matrix); norm weights and other vectors are copied unchanged. It makes the cheap substitutes
of a model that verification must tell apart from the model (genquorum study substitution):
e.g. the q8_0 and q4_0 versions of an f16 model. It prints the output's SHA-256 (the model
digest tasks name).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, ok := map[string]gguf.TensorType{"q8_0": gguf.TypeQ8_0, "q4_0": gguf.TypeQ4_0, "f16": gguf.TypeF16,
				"bf16": gguf.TypeBF16, "f32": gguf.TypeF32}[strings.ToLower(typ)]
			if !ok {
				return usagef("--type %q: want q8_0, q4_0, f16, bf16 or f32", typ)
			}
			src, err := gguf.Open(args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			out, err := os.Create(args[1])
			if err != nil {
				return err
			}
			h := sha256.New()
			names, err := gguf.QuantizeFile(io.MultiWriter(out, h), src, t, gguf.QuantizeOptions{Name: name, Keep: keep})
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(args[1])
				return err
			}
			fmt.Fprintf(g.stdout, "%s: %d tensors quantized to %s, sha256 %s\n", args[1], len(names), t, hex.EncodeToString(h.Sum(nil)))
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "q8_0", "target type: q8_0, q4_0, f16, bf16 or f32")
	cmd.Flags().StringVar(&name, "name", "", "new general.name (default: keep the source's)")
	cmd.Flags().StringSliceVar(&keep, "keep", nil, "tensors to keep in their source type (e.g. output.weight)")
	return cmd
}
