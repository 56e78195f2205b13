package collide

import (
	"errors"
	"fmt"
)

// MaxBits is the widest hash a Set holds.
const MaxBits = 4096

// MaxLen is the most hashes a Set holds: indices and bucket bounds are kept as int32.
const MaxLen = 1<<31 - 1

// ErrHex is wrapped by AppendHex's errors for text that is not a hash of the set's width.
var ErrHex = errors.New("collide: bad hex hash")

// Set is a list of N hashes of one width, Bits bits each.
//
// A hash is the unsigned number whose low Bits bits are the hash; it is stored in
// Words = ceil(Bits/64) 64-bit words, most significant word first, so that hash i occupies
// data[i*Words : (i+1)*Words] and data[i*Words] holds its top bits. Bits above Bits are zero.
// The Hamming distance of two hashes is the popcount of their XOR.
//
// A Set is not safe for concurrent modification; counting only reads it, so any number of
// counts may run on one Set at once.
type Set struct {
	bits  int
	words int
	data  []uint64 // N*words words, hash i at data[i*words:(i+1)*words], most significant word first
}

// NewSet returns an empty set of bits-wide hashes. It panics unless 1 <= bits <= MaxBits.
func NewSet(bits int) *Set {
	if bits < 1 || bits > MaxBits {
		panic(fmt.Sprintf("collide: NewSet(%d): width outside 1..%d", bits, MaxBits))
	}
	return &Set{bits: bits, words: (bits + 63) / 64}
}

// From64 returns a set of bits-wide hashes (bits <= 64) holding h, which it keeps (no copy).
// It panics if bits is outside 1..64 or a value has bits set above bits.
func From64(bits int, h []uint64) *Set {
	if bits < 1 || bits > 64 {
		panic(fmt.Sprintf("collide: From64(%d): width outside 1..64", bits))
	}
	if len(h) > MaxLen {
		panic("collide: From64: more than MaxLen hashes")
	}
	if bits < 64 {
		for i, v := range h {
			if v>>bits != 0 {
				panic(fmt.Sprintf("collide: From64: hash %d (%#x) wider than %d bits", i, v, bits))
			}
		}
	}
	return &Set{bits: bits, words: 1, data: h}
}

// Bits returns the width of the hashes.
func (s *Set) Bits() int { return s.bits }

// Words returns the number of 64-bit words per hash, ceil(Bits/64).
func (s *Set) Words() int { return s.words }

// Len returns the number of hashes.
func (s *Set) Len() int {
	if s.words == 0 {
		return 0
	}
	return len(s.data) / s.words
}

// At returns hash i as Words words, most significant first. The slice aliases the set.
func (s *Set) At(i int) []uint64 { return s.data[i*s.words : (i+1)*s.words : (i+1)*s.words] }

// Append adds one hash given as Words words, most significant first. It panics if the number of
// words is wrong, the hash has bits set above Bits, or the set already holds MaxLen hashes.
func (s *Set) Append(words ...uint64) {
	if len(words) != s.words {
		panic(fmt.Sprintf("collide: Append: %d words, want %d", len(words), s.words))
	}
	if top := s.bits % 64; top != 0 && words[0]>>top != 0 {
		panic(fmt.Sprintf("collide: Append: hash wider than %d bits", s.bits))
	}
	if s.Len() >= MaxLen {
		panic("collide: Append: more than MaxLen hashes")
	}
	s.data = append(s.data, words...)
}

// AppendHex parses hex, the hash written as ceil(Bits/4) hexadecimal digits (either case, most
// significant first, as imagehash prints it), and appends it. It returns an error wrapping
// ErrHex, and leaves the set unchanged, if the length or a digit is wrong or the number does not
// fit in Bits bits.
func (s *Set) AppendHex(hex string) error {
	want := (s.bits + 3) / 4
	if len(hex) != want {
		return fmt.Errorf("%w: %d hex digits, want %d for %d bits", ErrHex, len(hex), want, s.bits)
	}
	if s.Len() >= MaxLen {
		return fmt.Errorf("collide: more than %d hashes", MaxLen)
	}
	n := len(s.data)
	s.data = append(s.data, make([]uint64, s.words)...)
	w := s.data[n:]
	for k := 0; k < len(hex); k++ {
		c := hex[len(hex)-1-k] // k-th digit from the least significant end
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			s.data = s.data[:n]
			return fmt.Errorf("%w: %q is not a hex digit", ErrHex, c)
		}
		bit := 4 * k
		w[s.words-1-bit/64] |= d << (bit % 64)
	}
	if top := s.bits % 64; top != 0 && w[0]>>top != 0 {
		s.data = s.data[:n]
		return fmt.Errorf("%w: %q is wider than %d bits", ErrHex, hex, s.bits)
	}
	return nil
}

// Distance returns the Hamming distance between hashes i and j.
func (s *Set) Distance(i, j int) int {
	return distWords(s.At(i), s.At(j))
}
