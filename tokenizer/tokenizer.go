package tokenizer

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/gguf"
)

// Attr is a set of token attributes (llama_token_attr).
type Attr uint16

// Token attributes, with llama.cpp's values.
const (
	AttrUndefined   Attr = 0
	AttrUnknown     Attr = 1 << 0
	AttrUnused      Attr = 1 << 1
	AttrNormal      Attr = 1 << 2
	AttrControl     Attr = 1 << 3
	AttrUserDefined Attr = 1 << 4
	AttrByte        Attr = 1 << 5
)

// GGUF token types (tokenizer.ggml.token_type values).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// Kind is the tokenizer algorithm.
type Kind int

const (
	// SPM is SentencePiece-style BPE over scores with byte fallback (tokenizer.ggml.model "llama").
	SPM Kind = iota + 1
	// BPE is byte-level BPE over ranked merges (tokenizer.ggml.model "gpt2").
	BPE
)

// String returns "spm" or "bpe", or Kind(N) for another value.
func (k Kind) String() string {
	switch k {
	case SPM:
		return "spm"
	case BPE:
		return "bpe"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrUnsupported is returned by FromGGUF for tokenizer models or pre-tokenizers this
// package does not implement.
var ErrUnsupported = errors.New("tokenizer: unsupported")

// NoToken marks an absent special token id (LLAMA_TOKEN_NULL).
const NoToken int32 = -1

// Tokenizer converts between text and token ids. It is immutable after FromGGUF and safe
// for concurrent use.
type Tokenizer struct {
	kind      Kind
	pre       string // pre-tokenizer name (tokenizer.ggml.pre)
	splitters []splitter

	texts  []string
	scores []float32
	attrs  []Attr
	ids    map[string]int32
	ranks  map[[2]string]int // (left, right) -> merge rank (BPE)

	bos, eos, unk  int32
	addBOS, addEOS bool
	addSpacePrefix bool
	cleanSpaces    bool
	ignoreMerges   bool // a pre-tokenized word that is a token is taken whole (llama3)

	eog     map[int32]bool // end-of-generation tokens
	special []int32        // control, user-defined and unknown tokens, longest text first
	pieces  []string       // TokenToPiece(id, true) for every id
}

// FromGGUF builds the tokenizer described by the tokenizer.ggml.* metadata of f, with the
// defaults and overrides of llama.cpp b4748 (llama_vocab::impl::load).
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	model, err := f.String("tokenizer.ggml.model")
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	pre, _ := f.String("tokenizer.ggml.pre")
	t := &Tokenizer{pre: pre, bos: NoToken, eos: NoToken, unk: NoToken}
	switch model {
	case "llama":
		t.kind = SPM
		t.bos, t.eos, t.unk = 1, 2, 0
		t.addSpacePrefix, t.addBOS = true, true
	case "gpt2":
		t.kind = BPE
		t.bos, t.eos = 11, 11
		t.cleanSpaces = true
		switch pre {
		case "gpt-2":
			t.splitters = []splitter{gpt2Splitter}
		case "deepseek-coder":
			t.splitters = deepseekCoderSplitters
			t.cleanSpaces = false
		case "llama3", "llama-v3", "llama-bpe", "falcon3":
			// Ported, not checked against llama.cpp output (see llama3Splitter).
			t.splitters = []splitter{llama3Splitter}
			t.ignoreMerges = true
			t.addBOS = true
		default:
			return nil, fmt.Errorf("%w pre-tokenizer %q (supported: gpt-2, deepseek-coder; llama3 unverified)", ErrUnsupported, pre)
		}
		merges, err := f.Strings("tokenizer.ggml.merges")
		if err != nil {
			return nil, fmt.Errorf("tokenizer: merges: %w", err)
		}
		t.ranks = make(map[[2]string]int, len(merges))
		for i, m := range merges {
			var first, second string
			if pos := strings.IndexByte(m[min(1, len(m)):], ' '); pos >= 0 {
				pos += min(1, len(m))
				first, second = m[:pos], m[pos+1:]
			}
			k := [2]string{first, second}
			if _, dup := t.ranks[k]; !dup {
				t.ranks[k] = i
			}
		}
	default:
		return nil, fmt.Errorf("%w model %q (supported: llama, gpt2)", ErrUnsupported, model)
	}
	if v, err := f.Bool("tokenizer.ggml.add_space_prefix"); err == nil {
		t.addSpacePrefix = v
	}

	texts, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return nil, fmt.Errorf("tokenizer: tokens: %w", err)
	}
	n := len(texts)
	t.texts = make([]string, n)
	t.scores = make([]float32, n)
	t.attrs = make([]Attr, n)
	t.ids = make(map[string]int32, n)
	scores, _ := f.Float32s("tokenizer.ggml.scores")
	if iscores, err := f.Int32s("tokenizer.ggml.scores"); err == nil { // llama.cpp accepts int32 scores too
		scores = make([]float32, len(iscores))
		for i, v := range iscores {
			scores[i] = float32(v)
		}
	}
	if scores != nil && len(scores) < n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(scores), n)
	}
	types, _ := f.Int32s("tokenizer.ggml.token_type")
	if types != nil && len(types) < n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(types), n)
	}
	for i, w := range texts {
		if w == "" {
			w = fmt.Sprintf("[EMPTY_%d]", i)
		}
		if j, dup := t.ids[w]; dup {
			return nil, fmt.Errorf("tokenizer: duplicate token %q has ids %d and %d", w, j, i)
		}
		t.ids[w] = int32(i)
		t.texts[i] = w
		if scores != nil {
			t.scores[i] = scores[i]
		}
		t.attrs[i] = AttrNormal
		if types != nil {
			switch types[i] {
			case typeUnknown:
				t.attrs[i] = AttrUnknown
			case typeUnused:
				t.attrs[i] = AttrUnused
			case typeNormal:
				t.attrs[i] = AttrNormal
			case typeControl:
				t.attrs[i] = AttrControl
			case typeUserDefined:
				t.attrs[i] = AttrUserDefined
			case typeByte:
				t.attrs[i] = AttrByte
			default:
				t.attrs[i] = AttrUndefined
			}
		}
	}

	for _, s := range []struct {
		key string
		id  *int32
	}{
		{"tokenizer.ggml.bos_token_id", &t.bos},
		{"tokenizer.ggml.eos_token_id", &t.eos},
		{"tokenizer.ggml.unknown_token_id", &t.unk},
	} {
		if *s.id >= int32(n) {
			*s.id = NoToken
		}
		if v, err := f.Uint32(s.key); err == nil && v < uint32(n) {
			*s.id = int32(v)
		}
	}
	if v, err := f.Bool("tokenizer.ggml.add_bos_token"); err == nil {
		t.addBOS = v
	}
	if v, err := f.Bool("tokenizer.ggml.add_eos_token"); err == nil {
		t.addEOS = v
	}
	if t.addBOS && t.bos == NoToken {
		return nil, errors.New("tokenizer: add_bos_token is true, but bos_token_id is not set")
	}
	if t.addEOS && t.eos == NoToken {
		return nil, errors.New("tokenizer: add_eos_token is true, but eos_token_id is not set")
	}

	// llama.cpp recognises some end-of-turn and fill-in-the-middle tokens by their text and
	// makes them control tokens even when the GGUF types say otherwise.
	for _, w := range controlByText {
		if id, ok := t.ids[w]; ok {
			t.attrs[id] |= AttrControl
		}
	}

	t.eog = map[int32]bool{}
	if t.eos != NoToken {
		t.eog[t.eos] = true
	}
	for _, w := range eogByText {
		if id, ok := t.ids[w]; ok {
			t.eog[id] = true
		}
	}

	for id, a := range t.attrs {
		if a&(AttrControl|AttrUserDefined|AttrUnknown) != 0 {
			t.special = append(t.special, int32(id))
		}
	}
	slices.SortStableFunc(t.special, func(a, b int32) int {
		return cmp.Compare(len(t.texts[b]), len(t.texts[a]))
	})

	t.pieces = make([]string, n)
	for id := range t.pieces {
		t.pieces[id] = t.piece(int32(id))
	}
	return t, nil
}

// controlByText lists the token texts that llama.cpp b4748 forces to control type (its EOT,
// EOM, FIM and end-of-generation detection by text).
var controlByText = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
	"<｜end▁of▁sentence｜>", "<|eom_id|>",
	"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
	"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
	"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
	"<|fim_pad|>", "<fim-pad>", "<PAD>",
	"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
	"<|file_sep|>",
}

// eogByText lists the token texts llama.cpp b4748 treats as end of generation besides EOS.
var eogByText = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>"}

// IsEOG reports whether id ends generation (llama_vocab_is_eog): EOS or a token whose text
// llama.cpp recognises as end of turn or of text.
func (t *Tokenizer) IsEOG(id int32) bool { return t.eog[id] }

// Kind returns the tokenizer algorithm.
func (t *Tokenizer) Kind() Kind { return t.kind }

// Pre returns the pre-tokenizer name (empty for SPM).
func (t *Tokenizer) Pre() string { return t.pre }

// NumTokens returns the vocabulary size.
func (t *Tokenizer) NumTokens() int { return len(t.texts) }

// BOS returns the beginning-of-sequence token id, or NoToken.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence token id, or NoToken.
func (t *Tokenizer) EOS() int32 { return t.eos }

// AddBOS reports whether Encode with addSpecial adds BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// Text returns the vocabulary text of id (as stored, e.g. with ▁ for spaces).
func (t *Tokenizer) Text(id int32) string { return t.texts[id] }

// Attr returns the attributes of id.
func (t *Tokenizer) Attr(id int32) Attr { return t.attrs[id] }

// Score returns the score of id.
func (t *Tokenizer) Score(id int32) float32 { return t.scores[id] }

// ID returns the id of the token with the given vocabulary text.
func (t *Tokenizer) ID(text string) (int32, bool) {
	id, ok := t.ids[text]
	return id, ok
}
