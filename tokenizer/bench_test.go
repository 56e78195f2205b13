package tokenizer

import (
	"fmt"
	"strings"
	"testing"
)

// benchText builds about 100 KB of text from the tokens.tsv strings (all categories: English,
// code, CJK, emoji, whitespace runs, ...), separated by newlines.
func benchText(b *testing.B) string {
	var parts []string
	for _, row := range readTSV(b, refDir+"tokens.tsv") {
		if row["vocab"] == "llama-spm" && row["add_bos"] == "1" && row["parse_special"] == "0" {
			parts = append(parts, jsonString(b, row["text"]))
		}
	}
	one := strings.Join(parts, "\n")
	var sb strings.Builder
	for sb.Len() < 100_000 {
		sb.WriteString(one)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func BenchmarkEncode100KB(b *testing.B) {
	text := benchText(b)
	for _, name := range vocabNames {
		tok := vocabs(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(tok.Encode(text, true, true))
			}
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

func BenchmarkDecode100KB(b *testing.B) {
	text := benchText(b)
	for _, name := range vocabNames {
		tok := vocabs(b)[name]
		ids := tok.Encode(text, true, true)
		b.Run(fmt.Sprintf("%s/%dtokens", name, len(ids)), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tok.Decode(ids, false, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFromGGUF(b *testing.B) {
	for _, name := range vocabNames {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				loadVocab(b, name)
			}
		})
	}
}
