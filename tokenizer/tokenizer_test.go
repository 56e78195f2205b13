package tokenizer

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/gguf"
)

// vocabFile writes a GGUF file with the given metadata and opens it.
func vocabFile(t *testing.T, kvs []gguf.KV) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kvs, nil); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func strs(v ...string) gguf.Array { return gguf.Array{Type: gguf.TypeString, Values: v} }

func TestFromGGUFErrors(t *testing.T) {
	tokens := gguf.KV{Key: "tokenizer.ggml.tokens", Value: strs("a", "b")}
	tests := []struct {
		name string
		kvs  []gguf.KV
		want string
		is   error
	}{
		{"no model", []gguf.KV{tokens}, `key not found: "tokenizer.ggml.model"`, gguf.ErrKeyNotFound},
		{"unknown model", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "t5"}, tokens}, `unsupported model "t5"`, ErrUnsupported},
		{"unknown pre", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "gpt2"}, {Key: "tokenizer.ggml.pre", Value: "qwen2"}, tokens},
			`unsupported pre-tokenizer "qwen2"`, ErrUnsupported},
		{"no merges", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "gpt2"}, {Key: "tokenizer.ggml.pre", Value: "gpt-2"}, tokens},
			"merges", gguf.ErrKeyNotFound},
		{"no tokens", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "llama"}}, "tokens", gguf.ErrKeyNotFound},
		{"duplicate token", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "llama"}, {Key: "tokenizer.ggml.tokens", Value: strs("a", "a")}},
			`duplicate token "a" has ids 0 and 1`, nil},
		{"short scores", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "llama"}, tokens,
			{Key: "tokenizer.ggml.scores", Value: gguf.Array{Type: gguf.TypeFloat32, Values: []float32{0}}}}, "1 scores for 2 tokens", nil},
		{"bos required", []gguf.KV{{Key: "tokenizer.ggml.model", Value: "gpt2"}, {Key: "tokenizer.ggml.pre", Value: "gpt-2"}, tokens,
			{Key: "tokenizer.ggml.merges", Value: strs("a b")}, {Key: "tokenizer.ggml.add_bos_token", Value: true}},
			"add_bos_token is true, but bos_token_id is not set", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromGGUF(vocabFile(t, tt.kvs))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tokenizer: ") {
				t.Fatalf("FromGGUF error = %v, want one starting \"tokenizer: \" and containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("FromGGUF error = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

// TestTinyModelTokenizer checks that the tiny models, which embed the llama-spm vocabulary,
// tokenize like it.
func TestTinyModelTokenizer(t *testing.T) {
	f, err := gguf.Open("../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ref := vocabs(t)["llama-spm"]
	for _, s := range []string{"", "Hello world", "<s> hello </s> world", "日本語 🙂 \x00"} {
		if got, want := tok.Encode(s, true, true), ref.Encode(s, true, true); !slices.Equal(got, want) {
			t.Errorf("tiny model Encode(%q) = %v, llama-spm gives %v", s, got, want)
		}
	}
	// The prompt of README §3: "<s> hello </s> world" with BOS, special tokens parsed.
	if got, want := tok.Encode("<s> hello </s> world", true, true), []int32{1, 1, 29871, 22172, 29871, 2, 29871, 3186}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

func TestTokenToPiece(t *testing.T) {
	spm := vocabs(t)["llama-spm"]
	tests := []struct {
		id      int32
		special bool
		want    string
	}{
		{1, true, "<s>"}, {1, false, ""}, {0, true, "<unk>"}, {0, false, ""},
		{15043, false, " Hello"}, {13, false, "\n"}, {232, false, "\xe5"},
	}
	for _, tt := range tests {
		if got, err := spm.TokenToPiece(tt.id, tt.special); got != tt.want || err != nil {
			t.Errorf("TokenToPiece(%d, %v) = %q, %v; want %q", tt.id, tt.special, got, err, tt.want)
		}
	}
	var ie *IDError
	if _, err := spm.TokenToPiece(32000, true); !errors.As(err, &ie) || ie.ID != 32000 {
		t.Errorf("TokenToPiece(32000) error = %v, want *IDError", err)
	}
	if _, err := spm.Decode([]int32{-1}, false, false); !errors.As(err, &ie) {
		t.Errorf("Decode([-1]) error = %v, want *IDError", err)
	}
}

// TestCleanSpaces covers llama_detokenize's clean_spaces passes, which no row of detok.tsv
// triggers (README): gpt-2 has clean_spaces, deepseek-coder does not.
func TestCleanSpaces(t *testing.T) {
	gpt2 := vocabs(t)["gpt-2"]
	ds := vocabs(t)["deepseek-coder"]
	tests := []struct{ in, want string }{
		{"Hello , world !", "Hello, world!"},
		{"a ' b", "a'b"},
		{"it 's we 're I 'm they 've", "it's we're I'm they've"},
		{"don 't we 'll", "don 't we 'll"},
		{"?.", "?."},
	}
	for _, tt := range tests {
		ids := gpt2.Encode(tt.in, false, false)
		if got, _ := gpt2.Decode(ids, false, false); got != tt.want {
			t.Errorf("gpt-2 Decode(Encode(%q)) = %q, want %q", tt.in, got, tt.want)
		}
		ids = ds.Encode(tt.in, false, false)
		if got, _ := ds.Decode(ids, false, false); got != tt.in {
			t.Errorf("deepseek-coder Decode(Encode(%q)) = %q, want it unchanged", tt.in, got)
		}
	}
}

func TestIsEOG(t *testing.T) {
	toks := vocabs(t)
	tests := []struct {
		vocab string
		id    int32
		want  bool
	}{
		{"llama-spm", 2, true}, {"llama-spm", 1, false}, {"llama-spm", 13, false},
		{"gpt-2", 50256, true}, {"gpt-2", 13, false},
		{"deepseek-coder", 32014, true}, {"deepseek-coder", 32013, false},
	}
	for _, tt := range tests {
		if got := toks[tt.vocab].IsEOG(tt.id); got != tt.want {
			t.Errorf("%s IsEOG(%d) = %v, want %v", tt.vocab, tt.id, got, tt.want)
		}
	}
}

// TestPreSplit pins the pre-tokenizers' word splits on hand-checked examples (the regex each
// implements is in its doc comment). llama3 has no llama.cpp reference data here, so this is
// its only check.
func TestPreSplit(t *testing.T) {
	tests := []struct {
		name      string
		splitters []splitter
		in        string
		want      []string
	}{
		{"gpt-2", []splitter{gpt2Splitter}, "Hello world's 12345\n\n  x!!", []string{"Hello", " world", "'s", " 12345", "\n\n ", " x", "!!"}},
		{"llama3", []splitter{llama3Splitter}, "Hello world's 12345\n\n  x", []string{"Hello", " world", "'s", " ", "123", "45", "\n\n", " ", " x"}},
		{"llama3 case-insensitive contraction", []splitter{llama3Splitter}, "I'M ok", []string{"I", "'M", " ok"}},
		{"llama3 punctuation keeps newlines", []splitter{llama3Splitter}, "a?!\n\nb", []string{"a", "?!\n\n", "b"}},
		{"deepseek-coder", deepseekCoderSplitters, "foo(x1, 中文)\n", []string{"foo", "(", "x", "1", ",", " ", "中文", ")", "\n"}},
	}
	for _, tt := range tests {
		cps := decodeRunes(tt.in)
		var got []string
		for _, sp := range preSplit(newText(cps), tt.splitters) {
			got = append(got, string(cps[sp.lo:sp.hi]))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s split of %q = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestASCIIFlags: the ASCII table built from package unicode gives llama.cpp's classes:
// letters, digits, punctuation and symbols as such, the space a separator, every other code
// point control; whitespace is the space and \t through \r.
func TestASCIIFlags(t *testing.T) {
	for r := rune(0); r < 128; r++ {
		var want uint16
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			want = catLetter
		case r >= '0' && r <= '9':
			want = catNumber
		case strings.ContainsRune("!\"#%&'()*,-./:;?@[\\]_{}", r):
			want = catPunct
		case strings.ContainsRune("$+<=>^`|~", r):
			want = catSymbol
		case r == ' ':
			want = catSeparator
		default:
			want = catControl
		}
		if r == ' ' || r >= '\t' && r <= '\r' {
			want |= flagSpace
		}
		if got := flagsOf(r); got != want {
			t.Errorf("flagsOf(%q) = %#x, want %#x", r, got, want)
		}
	}
}
