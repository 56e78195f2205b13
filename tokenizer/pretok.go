package tokenizer

import "unicode"

// Pre-tokenizers split text into words before BPE, reproducing llama.cpp's
// unicode_regex_split (src/unicode.cpp) for the regexes of the supported pre-tokenizer types.
// llama.cpp runs the regexes of a type one after the other: each splits every piece left by
// the previous ones into matches and the gaps between them. The regexes use Unicode classes
// and a lookahead that Go's regexp cannot express, so each is a hand-written matcher here.
//
// Where llama.cpp falls back to std::regex it first "collapses" the text: ASCII stays as is,
// other code points become one byte per class (whitespace, number, letter, punctuation, other)
// and \p{N}, \p{L}, \p{P} become those bytes plus an ASCII set. The matchers below use the
// same classes: for ASCII, \p{L} is [A-Za-z], \p{N} is [0-9] and \p{P} is the set
// !-#%-*,-/:-;?-@[-]_{} (no $+<=>^`|~); \s is [\t\n\v\f\r ] or non-ASCII White_Space.

// span is a half-open range of code point indexes.
type span struct{ lo, hi int }

// text is the input of a pre-tokenizer: code points and their class bits (flagsOf).
type text struct {
	cps []rune
	fl  []uint16
}

func newText(cps []rune) text {
	fl := make([]uint16, len(cps))
	for i, r := range cps {
		fl[i] = flagsOf(r)
	}
	return text{cps, fl}
}

// splitter refines one piece [lo, hi) of the text, appending the resulting pieces to out.
type splitter func(tx text, lo, hi int, out []span) []span

// preSplit applies the splitters in order to the whole text.
func preSplit(tx text, splitters []splitter) []span {
	cps := tx.cps
	pieces := []span{{0, len(cps)}}
	if len(cps) == 0 {
		return nil
	}
	var next []span
	for _, sp := range splitters {
		next = next[:0]
		for _, p := range pieces {
			next = sp(tx, p.lo, p.hi, next)
		}
		pieces, next = next, pieces
	}
	return pieces
}

// matchSplit builds a splitter from a leftmost-match function: match(tx, i, hi) returns the
// end of a match starting at i, or -1. Gaps between matches become pieces of their own, as in
// unicode_regex_split_stl.
func matchSplit(match func(tx text, i, hi int) int) splitter {
	return func(tx text, lo, hi int, out []span) []span {
		prev := lo
		for i := lo; i < hi; {
			end := match(tx, i, hi)
			if end < 0 {
				i++
				continue
			}
			if i > prev {
				out = append(out, span{prev, i})
			}
			out = append(out, span{i, end})
			prev, i = end, end
		}
		if prev < hi {
			out = append(out, span{prev, hi})
		}
		return out
	}
}

func isSpaceRE(f uint16) bool { return f&flagSpace != 0 }

func isLetterRE(r rune, f uint16) bool {
	if r < 0x80 {
		return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
	}
	return f&flagSpace == 0 && f&catLetter != 0
}

func isNumberRE(r rune, f uint16) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return f&flagSpace == 0 && f&catNumber != 0
}

func isPunctRE(r rune, f uint16) bool {
	if r < 0x80 {
		switch {
		case r >= '!' && r <= '#', r >= '%' && r <= '*', r >= ',' && r <= '/',
			r == ':' || r == ';', r == '?' || r == '@', r >= '[' && r <= ']', r == '_', r == '{', r == '}':
			return true
		}
		return false
	}
	return f&flagSpace == 0 && f&catPunct != 0
}

// optSpaceRun matches \s?C+ at i for a class C.
func optSpaceRun(class func(rune, uint16) bool) func(tx text, i, hi int) int {
	return func(tx text, i, hi int) int {
		cps, fl := tx.cps, tx.fl
		j := i
		if isSpaceRE(fl[j]) && j+1 < hi && class(cps[j+1], fl[j+1]) {
			j++
		}
		if !class(cps[j], fl[j]) {
			return -1
		}
		for j < hi && class(cps[j], fl[j]) {
			j++
		}
		return j
	}
}

// deepseekCoderSplitters are LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_CODER's regexes:
//
//	[\r\n]
//	\s?\p{L}+
//	\s?\p{P}+
//	[一-龥ࠀ-一가-퟿]+
//	\p{N}
var deepseekCoderSplitters = []splitter{
	matchSplit(func(tx text, i, hi int) int {
		if tx.cps[i] == '\r' || tx.cps[i] == '\n' {
			return i + 1
		}
		return -1
	}),
	matchSplit(optSpaceRun(isLetterRE)),
	matchSplit(optSpaceRun(isPunctRE)),
	matchSplit(func(tx text, i, hi int) int {
		j := i
		for j < hi && isCJKRange(tx.cps[j], tx.fl[j]) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}),
	matchSplit(func(tx text, i, hi int) int {
		if isNumberRE(tx.cps[i], tx.fl[i]) {
			return i + 1
		}
		return -1
	}),
}

// isCJKRange is the class [一-龥ࠀ-一가-퟿] as std::wregex sees it, on text in which non-ASCII
// whitespace was replaced by \v.
func isCJKRange(r rune, f uint16) bool {
	if r > 0x7F && isSpaceRE(f) {
		return false
	}
	return (r >= 0x4E00 && r <= 0x9FA5) || (r >= 0x0800 && r <= 0x4E00) || (r >= 0xAC00 && r <= 0xD7FF)
}

// window is the state llama.cpp's hand-written splitters share: the code points [lo, hi) of
// tx they may look at, and the spans cut so far (out), the last one ending at prev.
type window struct {
	tx     text
	lo, hi int
	prev   int
	out    []span
}

// at returns the code point at p, or -1 outside the window.
func (w *window) at(p int) rune {
	if p >= w.lo && p < w.hi {
		return w.tx.cps[p]
	}
	return -1
}

// flags returns the category flags of the code point at p, or 0 outside the window.
func (w *window) flags(p int) uint16 {
	if p >= w.lo && p < w.hi {
		return w.tx.fl[p]
	}
	return 0
}

// cut appends the span [prev, end) unless it is empty, moves prev to end and returns the
// span's length.
func (w *window) cut(end int) int {
	n := end - w.prev
	if n > 0 {
		w.out = append(w.out, span{w.prev, end})
	}
	w.prev = end
	return n
}

// gpt2Splitter is llama.cpp's hand-written matcher for the GPT-2 regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
//
// (unicode_regex_split_custom_gpt2), which assigns every code point to some token.
func gpt2Splitter(tx text, lo, hi int, out []span) []span {
	w := &window{tx: tx, lo: lo, hi: hi, prev: lo, out: out}
	get, flags, add := w.at, w.flags, w.cut
	const lnMask = catLetter | catNumber
	for pos := lo; pos < hi; {
		c := get(pos)
		f := flags(pos)
		if c == '\'' && pos+1 < hi {
			n := get(pos + 1)
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < hi {
				nn := get(pos + 2)
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		f2 := f
		if c == ' ' {
			f2 = flags(pos + 1)
		}
		if f2&catLetter != 0 {
			if c == ' ' {
				pos++
			}
			for f2&catLetter != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		if f2&catNumber != 0 {
			if c == ' ' {
				pos++
			}
			for f2&catNumber != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		if f2&(flagSpace|lnMask) == 0 && f2 != 0 {
			if c == ' ' {
				pos++
			}
			for f2&(flagSpace|lnMask) == 0 && f2 != 0 {
				pos++
				f2 = flags(pos)
			}
			add(pos)
			continue
		}
		nws := 0
		for flags(pos+nws)&flagSpace != 0 {
			nws++
		}
		if nws > 1 && get(pos+nws) != -1 { // \s+(?!\S)
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 { // \s+
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return w.out
}

// llama3Splitter is llama.cpp's hand-written matcher for the Llama 3 regex
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// (unicode_regex_split_custom_llama3). Unlike the gpt-2 and deepseek-coder pre-tokenizers it
// is not covered by the reference data in testdata/llamacpp: it is a line-by-line port.
func llama3Splitter(tx text, lo, hi int, out []span) []span {
	w := &window{tx: tx, lo: lo, hi: hi, prev: lo, out: out}
	get, flags, add := w.at, w.flags, w.cut
	lower := func(r rune) rune {
		if r < 0 {
			return r
		}
		return unicode.ToLower(r)
	}
	const lnMask = catLetter | catNumber
	for pos := lo; pos < hi; {
		c := get(pos)
		f := flags(pos)
		if c == '\'' && pos+1 < hi {
			n := lower(get(pos + 1))
			if n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += add(pos + 2)
				continue
			}
			if pos+2 < hi {
				nn := lower(get(pos + 2))
				if (n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l') {
					pos += add(pos + 3)
					continue
				}
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if !(c == '\r' || c == '\n' || f&catNumber != 0) {
			if f&catLetter != 0 || flags(pos+1)&catLetter != 0 {
				pos++
				for flags(pos)&catLetter != 0 {
					pos++
				}
				add(pos)
				continue
			}
		}
		// \p{N}{1,3}
		if f&catNumber != 0 {
			ini := pos
			for flags(pos)&catNumber != 0 {
				pos++
				if pos-ini >= 3 {
					add(pos)
					ini = pos
				}
			}
			add(pos)
			continue
		}
		// <space>?[^\s\p{L}\p{N}]+[\r\n]*
		f2 := f
		if c == ' ' {
			f2 = flags(pos + 1)
		}
		if f2&(flagSpace|lnMask) == 0 && f != 0 {
			if c == ' ' {
				pos++
			}
			for f2&(flagSpace|lnMask) == 0 && f2 != 0 {
				pos++
				f2 = flags(pos)
			}
			for c2 := get(pos); c2 == '\r' || c2 == '\n'; c2 = get(pos) {
				pos++
			}
			add(pos)
			continue
		}
		nws, lastRN := 0, 0
		for flags(pos+nws)&flagSpace != 0 {
			if c2 := get(pos + nws); c2 == '\r' || c2 == '\n' {
				lastRN = pos + nws + 1
			}
			nws++
		}
		if lastRN > 0 { // \s*[\r\n]+
			pos = lastRN
			add(pos)
			continue
		}
		if nws > 1 && get(pos+nws) != -1 { // \s+(?!\S)
			pos += nws - 1
			add(pos)
			continue
		}
		if nws > 0 { // \s+
			pos += nws
			add(pos)
			continue
		}
		pos++
		add(pos)
	}
	return w.out
}
