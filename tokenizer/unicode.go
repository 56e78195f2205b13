package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Code point classes as llama.cpp's unicode-data.cpp defines them: every code point below
// 0x110000 has exactly one general category (unassigned code points count as control,
// because its generator used the Python regex module's \p{C}, which includes Cn), and
// whitespace is the Unicode White_Space property.
const (
	catNumber = 1 << iota
	catLetter
	catSeparator
	catMark
	catPunct
	catSymbol
	catControl
	flagSpace // White_Space, independent of the category
)

// flagsOf returns the class bits of r (0 for r outside the Unicode range).
func flagsOf(r rune) uint16 {
	if r < 0 || r > unicode.MaxRune {
		return 0
	}
	if r < 0x80 {
		return asciiFlags[r]
	}
	return classify(r)
}

// classify is flagsOf for r in the Unicode range, from package unicode's tables.
func classify(r rune) uint16 {
	var f uint16
	switch {
	case unicode.IsLetter(r):
		f = catLetter
	case unicode.IsNumber(r):
		f = catNumber
	case unicode.IsMark(r):
		f = catMark
	case unicode.IsPunct(r):
		f = catPunct
	case unicode.IsSymbol(r):
		f = catSymbol
	case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		f = catSeparator
	default:
		f = catControl // Cc, Cf, Co, Cs and unassigned
	}
	if unicode.Is(unicode.White_Space, r) {
		f |= flagSpace
	}
	return f
}

// asciiFlags is classify of the ASCII code points, the common case of flagsOf.
var asciiFlags = func() (t [128]uint16) {
	for r := range rune(len(t)) {
		t[r] = classify(r)
	}
	return t
}()

// decodeRunes splits s into code points the way llama.cpp's unicode_cpts_from_utf8 does,
// with each byte of an invalid sequence becoming U+FFFD.
func decodeRunes(s string) []rune {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		out = append(out, r)
		i += n
	}
	return out
}

// byteToRune is GPT-2's bytes_to_unicode table: printable Latin-1 bytes map to themselves,
// the others to U+0100 onwards in byte order.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			b2r[b] = rune(b)
		} else {
			b2r[b] = 256 + n
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}()

// byteEncode maps every byte of s through byteToRune (unicode_byte_encoding_process).
func byteEncode(s string) string {
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		buf = utf8.AppendRune(buf, byteToRune[s[i]])
	}
	return string(buf)
}
