package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// queue is a binary heap ordered by less (the first element is the least), without the
// interface conversions of container/heap.
type queue[T any] struct {
	items []T
	less  func(a, b *T) bool
}

func (q *queue[T]) push(x T) {
	q.items = append(q.items, x)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(&q.items[i], &q.items[p]) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *queue[T]) pop() T {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(&q.items[l], &q.items[m]) {
			m = l
		}
		if r < n && q.less(&q.items[r], &q.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}

// fragment is a piece of the input: raw text still to tokenize, or a special token.
type fragment struct {
	text  string
	token int32 // NoToken for text
}

// Encode tokenizes text exactly as llama_tokenize(vocab, text, ..., addSpecial, parseSpecial)
// of llama.cpp b4748 does. With addSpecial the BOS (and EOS) tokens are added when the vocabulary
// asks for them; with parseSpecial the texts of control tokens become those tokens
// (user-defined tokens are always split out).
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var frags []fragment
	if text != "" {
		frags = t.partition([]fragment{{text: text, token: NoToken}}, parseSpecial)
	}
	var out []int32
	switch t.kind {
	case SPM:
		prevSpecial := true // a space is prepended to the first text fragment
		if addSpecial && t.addBOS {
			out = append(out, t.bos)
		}
		for _, fr := range frags {
			if fr.token != NoToken {
				out = append(out, fr.token)
				prevSpecial = true
				continue
			}
			s := fr.text
			if t.addSpacePrefix && prevSpecial {
				s = " " + s
			}
			out = t.spm(strings.ReplaceAll(s, " ", "\u2581"), out)
			prevSpecial = false
		}
		if addSpecial && t.addEOS {
			out = append(out, t.eos)
		}
	case BPE:
		if addSpecial && t.addBOS {
			out = append(out, t.bos)
		}
		for _, fr := range frags {
			if fr.token != NoToken {
				out = append(out, fr.token)
				continue
			}
			out = t.bpe(fr.text, out)
		}
		if addSpecial && t.addEOS {
			out = append(out, t.eos)
		}
	}
	return out
}

// partition splits the text fragments at occurrences of special tokens, longest token text
// first (tokenizer_st_partition).
func (t *Tokenizer) partition(frags []fragment, parseSpecial bool) []fragment {
	for _, id := range t.special {
		if !parseSpecial && t.attrs[id]&(AttrControl|AttrUnknown) != 0 {
			continue
		}
		word := t.texts[id]
		var next []fragment
		changed := false
		for _, fr := range frags {
			if fr.token != NoToken || !strings.Contains(fr.text, word) {
				next = append(next, fr)
				continue
			}
			changed = true
			s := fr.text
			for {
				i := strings.Index(s, word)
				if i < 0 {
					if s != "" {
						next = append(next, fragment{text: s, token: NoToken})
					}
					break
				}
				if i > 0 {
					next = append(next, fragment{text: s[:i], token: NoToken})
				}
				next = append(next, fragment{token: id})
				s = s[i+len(word):]
			}
		}
		if changed {
			frags = next
		}
	}
	return frags
}

// symbol is a node of the doubly linked list of symbols being merged.
type symbol struct {
	prev, next int
	start, n   int // byte range in the text
}

// merge joins symbol right into its left neighbour left, unlinking right, when both still
// hold the text a queued bigram of size bytes was made of; it reports whether it did (a
// bigram whose symbols changed since it was queued is stale).
func merge(syms []symbol, left, right, size int) bool {
	l, r := &syms[left], &syms[right]
	if l.n == 0 || r.n == 0 || l.n+r.n != size {
		return false
	}
	l.n += r.n
	r.n = 0
	l.next = r.next
	if r.next >= 0 {
		syms[r.next].prev = left
	}
	return true
}

// --- SentencePiece (llm_tokenizer_spm) ---

type spmBigram struct {
	left, right int
	score       float32
	size        int
}

// spmLess orders SPM bigrams: highest score first, then leftmost.
func spmLess(a, b *spmBigram) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.left < b.left
}

// utf8Len is unicode_len_utf8: the sequence length announced by a lead byte.
func utf8Len(b byte) int {
	return [16]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}[b>>4]
}

func (t *Tokenizer) spm(text string, out []int32) []int32 {
	syms := make([]symbol, 0, len(text))
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		syms = append(syms, symbol{prev: len(syms) - 1, next: len(syms) + 1, start: off, n: n})
		off += n
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	q := queue[spmBigram]{less: spmLess, items: make([]spmBigram, 0, len(syms))}
	tryAdd := func(left, right int) {
		if left == -1 || right == -1 {
			return
		}
		s := text[syms[left].start : syms[left].start+syms[left].n+syms[right].n]
		id, ok := t.ids[s]
		if !ok {
			return
		}
		q.push(spmBigram{left: left, right: right, score: t.scores[id], size: len(s)})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(i-1, i)
	}
	for len(q.items) > 0 {
		b := q.pop()
		if !merge(syms, b.left, b.right, b.size) {
			continue
		}
		tryAdd(syms[b.left].prev, b.left)
		tryAdd(b.left, syms[b.left].next)
	}
	// llama.cpp's resegment also consults a rev_merge map from merged text to the pair that
	// formed it, but only for a final symbol that is not a token; rev_merge's keys are all
	// token texts (a bigram is queued only if its text is a token), so that lookup never
	// succeeds and a non-token symbol always falls back to bytes.
	for i := 0; i != -1; i = syms[i].next {
		piece := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			if id := t.byteToken(piece[j]); id != NoToken {
				out = append(out, id)
			}
		}
	}
	return out
}

// byteToken is llama_vocab::byte_to_token for SPM: the <0xXX> token, or the one-byte token.
func (t *Tokenizer) byteToken(b byte) int32 {
	const hex = "0123456789ABCDEF"
	if id, ok := t.ids[string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})]; ok {
		return id
	}
	if id, ok := t.ids[string([]byte{b})]; ok {
		return id
	}
	// llama.cpp throws here; vocabularies in practice have all 256 byte tokens.
	return t.unk
}

// --- byte-level BPE (llm_tokenizer_bpe) ---

// bpeBigram is a candidate merge of symbols left and right. llama.cpp keeps the merged text
// to detect stale entries; since symbols keep their start and only grow, comparing the
// combined length (size) is the same test.
type bpeBigram struct {
	left, right int
	size        int
	rank        int
}

// bpeLess orders BPE bigrams: lowest merge rank first, then leftmost.
func bpeLess(a, b *bpeBigram) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.left < b.left
}

// words splits text with the pre-tokenizer and byte-encodes each word.
func (t *Tokenizer) words(text string) []string {
	cps := decodeRunes(text)
	spans := preSplit(newText(cps), t.splitters)
	words := make([]string, 0, len(spans))
	if utf8.ValidString(text) {
		// Re-encoding the code points gives back the input bytes: slice them.
		off, r := 0, 0
		for _, sp := range spans {
			start := off
			for ; r < sp.hi; r++ {
				off += utf8.RuneLen(cps[r])
			}
			words = append(words, byteEncode(text[start:off]))
		}
		return words
	}
	var buf []byte
	for _, sp := range spans {
		buf = buf[:0]
		for _, r := range cps[sp.lo:sp.hi] {
			buf = utf8.AppendRune(buf, r)
		}
		words = append(words, byteEncode(string(buf)))
	}
	return words
}

// bpeScratch holds buffers reused across the words of one text.
type bpeScratch struct {
	syms []symbol
	q    queue[bpeBigram]
}

func (t *Tokenizer) bpe(text string, out []int32) []int32 {
	sc := &bpeScratch{q: queue[bpeBigram]{less: bpeLess}}
	for _, word := range t.words(text) {
		out = t.bpeWord(word, out, sc)
	}
	return out
}

func (t *Tokenizer) bpeWord(word string, out []int32, sc *bpeScratch) []int32 {
	if t.ignoreMerges {
		if id, ok := t.ids[word]; ok {
			return append(out, id)
		}
	}
	syms := sc.syms[:0]
	defer func() { sc.syms = syms[:0] }()
	for off := 0; off < len(word); {
		n := min(utf8Len(word[off]), len(word)-off)
		syms = append(syms, symbol{prev: len(syms) - 1, next: len(syms) + 1, start: off, n: n})
		off += n
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	q := &sc.q
	q.items = q.items[:0]
	symText := func(i int) string { return word[syms[i].start : syms[i].start+syms[i].n] }
	add := func(left, right int) {
		if left == -1 || right == -1 {
			return
		}
		l, r := symText(left), symText(right)
		rank, ok := t.ranks[[2]string{l, r}]
		if !ok {
			return
		}
		q.push(bpeBigram{left: left, right: right, size: len(l) + len(r), rank: rank})
	}
	for i := 1; i < len(syms); i++ {
		add(i-1, i)
	}
	for len(q.items) > 0 {
		b := q.pop()
		if !merge(syms, b.left, b.right, b.size) {
			continue
		}
		add(syms[b.left].prev, b.left)
		add(b.left, syms[b.left].next)
	}
	for i := 0; i != -1; i = syms[i].next {
		if syms[i].n == 0 {
			continue
		}
		s := symText(i)
		if id, ok := t.ids[s]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(s); j++ {
			if id, ok := t.ids[s[j:j+1]]; ok {
				out = append(out, id)
			}
		}
	}
	return out
}
