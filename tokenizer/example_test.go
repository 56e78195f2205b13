package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tokenizer"
)

func load(name string) *tokenizer.Tokenizer {
	f, err := gguf.Open("../testdata/llamacpp/vocab/ggml-vocab-" + name + ".gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		log.Fatal(err)
	}
	return tok
}

func ExampleFromGGUF() {
	tok := load("llama-spm")
	fmt.Println(tok.Kind(), tok.NumTokens(), "tokens, BOS", tok.BOS(), tok.AddBOS())
	// Output: spm 32000 tokens, BOS 1 true
}

func ExampleTokenizer_Encode() {
	tok := load("llama-spm")
	fmt.Println(tok.Encode("Hello world", true, true))
	fmt.Println(tok.Encode("<s> hello", true, true))   // <s> parsed as the BOS token
	fmt.Println(tok.Encode("<s> hello", false, false)) // <s> as text
	gpt2 := load("gpt-2")
	fmt.Println(gpt2.Encode("Hello world's", true, true)) // gpt-2 adds no BOS
	// Output:
	// [1 15043 3186]
	// [1 1 29871 22172]
	// [529 29879 29958 22172]
	// [15496 995 338]
}

func ExampleTokenizer_Decode() {
	tok := load("llama-spm")
	ids := []int32{1, 15043, 3186}
	text, _ := tok.Decode(ids, false, true) // common_detokenize(ctx, ids, special=true)
	fmt.Printf("%q\n", text)
	text, _ = tok.Decode(ids, true, false) // BOS removed, so the leading space stays
	fmt.Printf("%q\n", text)
	text, _ = tok.Pieces(ids, false) // llama-server completion content
	fmt.Printf("%q\n", text)
	// Output:
	// "<s> Hello world"
	// " Hello world"
	// " Hello world"
}
