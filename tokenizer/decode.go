package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// IDError reports a token id outside the vocabulary.
type IDError struct {
	ID int32
	N  int // vocabulary size
}

// Error names the id and the vocabulary size.
func (e *IDError) Error() string {
	return fmt.Sprintf("tokenizer: token id %d out of range [0, %d)", e.ID, e.N)
}

// piece computes llama_token_to_piece(id, lstrip 0, special true) for the piece cache.
func (t *Tokenizer) piece(id int32) string {
	a := t.attrs[id]
	text := t.texts[id]
	switch {
	case a&(AttrUnknown|AttrControl|AttrUserDefined) != 0:
		return text
	case a&AttrNormal != 0:
		if t.kind == SPM {
			return strings.ReplaceAll(text, "\u2581", " ")
		}
		return decodeByteLevel(text)
	case a&AttrByte != 0:
		if t.kind == SPM || t.kind == BPE {
			if len(text) >= 5 {
				if b, err := strconv.ParseUint(text[3:5], 16, 8); err == nil {
					return string([]byte{byte(b)})
				}
			}
		}
	}
	return "" // unused and undefined tokens render as nothing
}

// decodeByteLevel maps a byte-level BPE token text back to bytes (llama_decode_text).
func decodeByteLevel(text string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if by, ok := runeToByte[r]; ok && r != utf8.RuneError {
			b.WriteByte(by)
		} else {
			enc := string(utf8.AppendRune(nil, r))
			b.WriteString("[UNK_BYTE_0x")
			for j := 0; j < len(enc); j++ {
				fmt.Fprintf(&b, "%02x", enc[j])
			}
			b.WriteString(text + "]")
		}
		i += n
	}
	return b.String()
}

// TokenToPiece returns the text of one token as llama_token_to_piece(vocab, id, buf, len,
// 0, special) does: control and unknown tokens render as their text with special and as
// nothing without; byte tokens give their byte; SPM's ▁ becomes a space.
func (t *Tokenizer) TokenToPiece(id int32, special bool) (string, error) {
	if id < 0 || int(id) >= len(t.texts) {
		return "", &IDError{ID: id, N: len(t.texts)}
	}
	if !special && t.attrs[id]&(AttrUnknown|AttrControl) != 0 {
		return "", nil
	}
	return t.pieces[id], nil
}

// Pieces concatenates TokenToPiece(id, special) over ids, which is how llama-server builds a
// completion's content (special false) and its /detokenize response (special true).
func (t *Tokenizer) Pieces(ids []int32, special bool) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		p, err := t.TokenToPiece(id, special)
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	return b.String(), nil
}

// Decode converts ids to text as llama_detokenize(vocab, ids, ..., removeSpecial,
// unparseSpecial) does: with SPM the leading space of the first piece is dropped (unless
// removeSpecial removed a leading BOS), removeSpecial drops a leading BOS and trailing EOS the
// vocabulary adds, unparseSpecial renders control tokens as text, and vocabularies with
// clean_spaces (gpt-2) get llama.cpp's space clean-up around punctuation and contractions.
// common_detokenize(ctx, ids, special) is Decode(ids, false, special).
func (t *Tokenizer) Decode(ids []int32, removeSpecial, unparseSpecial bool) (string, error) {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var buf []byte
	for _, id := range ids {
		p, err := t.TokenToPiece(id, unparseSpecial)
		if err != nil {
			return "", err
		}
		if removeSpace && strings.HasPrefix(p, " ") {
			p = p[1:]
		}
		removeSpace = false
		buf = append(buf, p...)
	}
	if t.cleanSpaces {
		buf = cleanSpaces(buf)
	}
	return string(buf), nil
}

// cleanSpaces is the clean_spaces post-processing of llama_detokenize.
func cleanSpaces(text []byte) []byte {
	// first pass: " ?", " !", " .", " ," lose the space
	n := len(text)
	total := 0
	if n > 0 {
		total = 1
	}
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	// second pass: a single apostrophe between spaces loses both spaces
	n, total = total, 0
	if n > 0 {
		total = 1
	}
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			i++
			text[i] = 0
		}
		text[total] = x
		total++
	}
	// third pass: " 's", " 'm", " 're", " 've" lose the space
	n, total = total, 0
	if n > 0 {
		total = 1
	}
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < n {
			x1 := text[i+1]
			if x1 == 's' || x1 == 'm' {
				total--
			} else if i+2 < n && ((x1 == 'r' && text[i+2] == 'e') || (x1 == 'v' && text[i+2] == 'e')) {
				total--
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}
