package diffusion

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The special tokens of the vocabulary; ids 0, 1 and 2.
const (
	TokenPad = "<pad>" // fills a prompt to ContextLen
	TokenBOS = "<bos>" // starts every prompt
	TokenUnk = "<unk>" // any word outside the vocabulary
)

// BaseVocab is the vocabulary of the base model: the special tokens, then the words of the
// ten class prompts. Variants may append tokens (textual inversion adds one).
var BaseVocab = []string{TokenPad, TokenBOS, TokenUnk,
	"a", "an", "photo", "of",
	"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle", "boot",
}

// words splits a prompt into lower-case words: runs of letters, digits, '-', '<' and '>'
// (so that "<concept>" and "t-shirt" are single words); everything else separates words.
func words(prompt string) []string {
	return strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '<' || r == '>')
	})
}

// Tokenize returns the ids of prompt under vocab, exactly ctxLen of them: <bos>, the words
// (unknown ones as <unk>, truncated after ctxLen-1 words, as CLIP truncates), then <pad>.
// An empty prompt is <bos> and padding: the unconditional context of classifier-free guidance.
func Tokenize(vocab []string, prompt string, ctxLen int) []int {
	ids := make([]int, ctxLen)
	ids[0] = slices.Index(vocab, TokenBOS)
	pad, unk := slices.Index(vocab, TokenPad), slices.Index(vocab, TokenUnk)
	ws := words(prompt)
	for i := 1; i < ctxLen; i++ {
		ids[i] = pad
		if i-1 < len(ws) {
			ids[i] = unk
			if id := slices.Index(vocab, ws[i-1]); id >= 0 {
				ids[i] = id
			}
		}
	}
	return ids
}

// checkVocab reports whether vocab starts with the special tokens and has no duplicates.
func checkVocab(vocab []string) error {
	if len(vocab) < 3 || vocab[0] != TokenPad || vocab[1] != TokenBOS || vocab[2] != TokenUnk {
		return fmt.Errorf("diffusion: vocabulary must start with %s %s %s", TokenPad, TokenBOS, TokenUnk)
	}
	seen := make(map[string]bool, len(vocab))
	for _, w := range vocab {
		if w == "" || seen[w] {
			return fmt.Errorf("diffusion: vocabulary word %q empty or repeated", w)
		}
		seen[w] = true
	}
	return nil
}
