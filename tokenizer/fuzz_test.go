package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeDecode checks, for every reference vocabulary, that Encode does not panic and
// returns ids in range, and that text comes back from its tokens: for valid UTF-8 without
// special tokens in the output, Decode (SPM, which drops the added leading space) or Pieces
// (BPE; Decode's clean_spaces would change " ." and the like for gpt-2) gives the input back.
// For invalid UTF-8 only the absence of panics and the id range are checked.
func FuzzEncodeDecode(f *testing.F) {
	toks := vocabs(f)
	for _, row := range readTSV(f, refDir+"tokens.tsv") {
		if row["vocab"] == "gpt-2" && row["add_bos"] == "1" && row["parse_special"] == "1" {
			f.Add(jsonString(f, row["text"]), true)
		}
	}
	f.Add("\xff\xfe invalid \xc3", false)
	f.Fuzz(func(t *testing.T, s string, parseSpecial bool) {
		for _, name := range vocabNames {
			tok := toks[name]
			ids := tok.Encode(s, true, parseSpecial)
			special := false
			for _, id := range ids {
				if id < 0 || int(id) >= tok.NumTokens() {
					t.Fatalf("%s: Encode(%q) gave id %d out of range", name, s, id)
				}
				if tok.Attr(id)&(AttrControl|AttrUnknown) != 0 {
					special = true
				}
			}
			if _, err := tok.Decode(ids, true, true); err != nil {
				t.Fatalf("%s: Decode(Encode(%q)): %v", name, s, err)
			}
			ids = tok.Encode(s, false, false)
			special = false
			for _, id := range ids {
				special = special || tok.Attr(id)&(AttrControl|AttrUnknown) != 0
			}
			// Not invertible in llama.cpp either: invalid UTF-8 (BPE reads U+FFFD; SPM may glue a
			// bad lead byte to the next character and then fall back to bytes, including the
			// bytes of an escaped space), and SPM cannot tell ▁ from an escaped space.
			if special || !utf8.ValidString(s) || tok.Kind() == SPM && strings.Contains(s, "\u2581") {
				continue
			}
			var back string
			if tok.Kind() == SPM {
				back, _ = tok.Decode(ids, false, false)
			} else {
				back, _ = tok.Pieces(ids, false)
			}
			if back != s {
				t.Errorf("%s: text %q -> %v -> %q", name, s, ids, back)
			}
		}
	})
}
