package fingerprint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// TextRecord is a text artifact as nodes store and serve it: the generated text together with
// the token ids it renders. The text:tokens fingerprint is a digest of the ids ([OfTokens]), and
// detokenisation is not injective (different id sequences can render to the same text), so
// whoever checks a text artifact against an accepted fingerprint needs the ids, not only the
// text.
//
// Encoding, version 1 ([TextRecord.MarshalBinary]; integers big-endian):
//
//	[0:4]        magic "GQTR"
//	[4]          version = 1
//	[5:9]        n, the number of token ids (uint32)
//	[9:9+4n]     the ids, each an int32 that is not negative, as a uint32
//	[9+4n:13+4n] m, the length of the text in bytes (uint32)
//	[13+4n:]     the text's m bytes, as the engine produced them (UTF-8 in practice; not checked)
//
// Nothing may follow. The encoding is canonical (one record, one byte string), so the SHA-256
// of the encoding, the artifact digest a node reveals, names the record.
type TextRecord struct {
	// Text is the generated text (engine.Artifact.Data of a text task).
	Text []byte
	// Tokens are the generated token ids (engine.Artifact.Tokens), prompt excluded.
	Tokens []int32
}

// MediaTypeTextRecord is the media type of an encoded [TextRecord].
const MediaTypeTextRecord = "application/vnd.genquorum.text-record; version=1"

// textRecordMagic and textRecordVersion open every encoded record.
const (
	textRecordMagic   = "GQTR"
	textRecordVersion = 1
	textRecordMinSize = len(textRecordMagic) + 1 + 4 + 4
)

// ErrTextRecord is wrapped by errors decoding or encoding a [TextRecord].
var ErrTextRecord = errors.New("fingerprint: malformed text record")

// Fingerprint returns the text:tokens fingerprint of the record's ids.
func (r TextRecord) Fingerprint() []byte { return OfTokens(r.Tokens) }

// MarshalBinary returns the canonical encoding. It fails for a negative id and for a record
// whose text or id count does not fit in a uint32.
func (r TextRecord) MarshalBinary() ([]byte, error) {
	if uint64(len(r.Tokens)) > math.MaxUint32 || uint64(len(r.Text)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d ids and %d bytes of text exceed the encoding", ErrTextRecord, len(r.Tokens), len(r.Text))
	}
	b := make([]byte, 0, textRecordMinSize+4*len(r.Tokens)+len(r.Text))
	b = append(b, textRecordMagic...)
	b = append(b, textRecordVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Tokens)))
	for i, id := range r.Tokens {
		if id < 0 {
			return nil, fmt.Errorf("%w: token %d has the negative id %d", ErrTextRecord, i, id)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(id))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Text)))
	return append(b, r.Text...), nil
}

// UnmarshalBinary decodes an encoded record. b may come from anyone: every length is checked
// against len(b) before anything is allocated, so a record never costs more memory than its
// encoding. r's fields do not alias b.
func (r *TextRecord) UnmarshalBinary(b []byte) error {
	if len(b) < textRecordMinSize {
		return fmt.Errorf("%w: %d bytes, at least %d needed", ErrTextRecord, len(b), textRecordMinSize)
	}
	if string(b[:4]) != textRecordMagic {
		return fmt.Errorf("%w: starts with %q, not %q", ErrTextRecord, b[:4], textRecordMagic)
	}
	if b[4] != textRecordVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrTextRecord, b[4], textRecordVersion)
	}
	n := uint64(binary.BigEndian.Uint32(b[5:9]))
	rest := b[9:]
	if n > uint64(len(rest)-4)/4 {
		return fmt.Errorf("%w: %d token ids announced, %d bytes left", ErrTextRecord, n, len(rest))
	}
	ids := make([]int32, n)
	for i := range ids {
		v := binary.BigEndian.Uint32(rest[4*i:])
		if v > math.MaxInt32 {
			return fmt.Errorf("%w: token %d has the id %d, above %d", ErrTextRecord, i, v, math.MaxInt32)
		}
		ids[i] = int32(v)
	}
	rest = rest[4*n:]
	m := uint64(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	if m != uint64(len(rest)) {
		return fmt.Errorf("%w: text of %d bytes announced, %d bytes left", ErrTextRecord, m, len(rest))
	}
	r.Tokens = ids
	r.Text = append([]byte{}, rest...)
	return nil
}
