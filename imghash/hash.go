package imghash

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// MaxHashSize bounds the hash size (and so the resize target) accepted by every grey hash;
// it keeps a hostile size from allocating without limit. imagehash has no such bound.
const MaxHashSize = 256

// MaxBinbits bounds colorhash's binbits.
const MaxBinbits = 16

// ErrSizeMismatch is returned by Distance when the two hashes have different lengths, the
// case in which imagehash raises TypeError.
var ErrSizeMismatch = errors.New("imghash: hashes of different lengths")

// Kind names one hash function of imagehash.
type Kind uint8

// The hash kinds, in imagehash's order of definition. Their String forms are imagehash's
// function names.
const (
	AverageHash   Kind = iota + 1 // average_hash
	DHash                         // dhash
	DHashVertical                 // dhash_vertical
	PHash                         // phash
	PHashSimple                   // phash_simple
	WHash                         // whash (haar)
	ColorHash                     // colorhash
)

// Kinds lists every kind in the default order.
var Kinds = []Kind{AverageHash, DHash, DHashVertical, PHash, PHashSimple, WHash, ColorHash}

var kindNames = [...]string{
	AverageHash:   "average_hash",
	DHash:         "dhash",
	DHashVertical: "dhash_vertical",
	PHash:         "phash",
	PHashSimple:   "phash_simple",
	WHash:         "whash",
	ColorHash:     "colorhash",
}

// String returns imagehash's function name for k.
func (k Kind) String() string {
	if k >= 1 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind maps an imagehash function name ("average_hash", "dhash", ...) to its Kind.
func ParseKind(s string) (Kind, error) {
	for k := AverageHash; k <= ColorHash; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("imghash: unknown hash kind %q (want one of %s)", s, strings.Join(kindNames[1:], ", "))
}

// Spec selects one hash: a kind and its size. Size is hash_size for the grey hashes (the
// hash has Size*Size bits) and binbits for ColorHash (14*Size bits).
type Spec struct {
	Kind Kind
	Size int
}

// String returns "kind/size", e.g. "phash/8".
func (s Spec) String() string { return fmt.Sprintf("%v/%d", s.Kind, s.Size) }

// Bits returns the number of bits the hash of s has.
func (s Spec) Bits() int {
	if s.Kind == ColorHash {
		return 14 * s.Size
	}
	return s.Size * s.Size
}

// Validate reports whether imagehash accepts s (with the extra bounds MaxHashSize and
// MaxBinbits).
func (s Spec) Validate() error {
	switch s.Kind {
	case AverageHash, DHash, PHash, PHashSimple:
		if s.Size < 2 || s.Size > MaxHashSize {
			return fmt.Errorf("imghash: %v: hash size %d out of range [2, %d]", s.Kind, s.Size, MaxHashSize)
		}
	case DHashVertical:
		if s.Size < 1 || s.Size > MaxHashSize {
			return fmt.Errorf("imghash: %v: hash size %d out of range [1, %d]", s.Kind, s.Size, MaxHashSize)
		}
	case WHash:
		if s.Size < 2 || s.Size > MaxHashSize || s.Size&(s.Size-1) != 0 {
			return fmt.Errorf("imghash: %v: hash size %d is not a power of 2 in [2, %d]", s.Kind, s.Size, MaxHashSize)
		}
	case ColorHash:
		if s.Size < 1 || s.Size > MaxBinbits {
			return fmt.Errorf("imghash: %v: binbits %d out of range [1, %d]", s.Kind, s.Size, MaxBinbits)
		}
	default:
		return fmt.Errorf("imghash: unknown hash kind %d", uint8(s.Kind))
	}
	return nil
}

// Hash is an imagehash ImageHash flattened: a sequence of bits in imagehash's row-major
// order. The zero Hash has no bits. Hashes are values; the methods never modify them.
type Hash struct {
	// w holds the bits: bit i is bit 63-(i%64) of w[i/64]; unused low bits of the last
	// word are zero.
	w []uint64
	n int
}

// newHash returns an all-zero hash of n bits.
func newHash(n int) Hash { return Hash{w: make([]uint64, (n+63)/64), n: n} }

// set sets bit i.
func (h Hash) set(i int) { h.w[i>>6] |= 1 << (63 - uint(i&63)) }

// Len returns the number of bits (imagehash's len(hash)).
func (h Hash) Len() int { return h.n }

// Bit reports bit i (0 = the first, most significant bit of the hex form).
func (h Hash) Bit(i int) bool {
	if i < 0 || i >= h.n {
		panic(fmt.Sprintf("imghash: bit %d out of range [0, %d)", i, h.n))
	}
	return h.w[i>>6]>>(63-uint(i&63))&1 == 1
}

// Equal reports whether h and o have the same length and bits (imagehash's ==).
func (h Hash) Equal(o Hash) bool {
	if h.n != o.n {
		return false
	}
	for i := range h.w {
		if h.w[i] != o.w[i] {
			return false
		}
	}
	return true
}

// Distance returns the Hamming distance between h and o (imagehash's h - o). It returns
// ErrSizeMismatch when the lengths differ.
func (h Hash) Distance(o Hash) (int, error) {
	if h.n != o.n {
		return 0, fmt.Errorf("%w: %d and %d bits", ErrSizeMismatch, h.n, o.n)
	}
	d := 0
	for i := range h.w {
		d += bits.OnesCount64(h.w[i] ^ o.w[i])
	}
	return d, nil
}

// String returns imagehash's str(hash): the bits read as one binary number, first bit most
// significant, in lower-case hex zero-padded to ceil(Len/4) digits.
func (h Hash) String() string {
	const digits = "0123456789abcdef"
	nd := (h.n + 3) / 4
	pad := 4*nd - h.n // leading zero bits of the first digit
	b := make([]byte, nd)
	for d := range nd {
		v := 0
		for j := range 4 {
			i := 4*d + j - pad
			v <<= 1
			if i >= 0 && h.w[i>>6]>>(63-uint(i&63))&1 == 1 {
				v |= 1
			}
		}
		b[d] = digits[v]
	}
	return string(b)
}

// ParseHex parses the hex form of a hash of nbits bits: the inverse of String, and
// imagehash's hex_to_flathash(s, nbits) for well-formed input (for colorhash use
// nbits = 14*binbits). s must have exactly ceil(nbits/4) digits (either case) and its
// leading pad bits must be zero; imagehash would instead return a differently shaped hash.
func ParseHex(s string, nbits int) (Hash, error) {
	if nbits < 1 || nbits > 4*MaxHashSize*MaxHashSize {
		return Hash{}, fmt.Errorf("imghash: parse hex: bit count %d out of range", nbits)
	}
	nd := (nbits + 3) / 4
	if len(s) != nd {
		return Hash{}, fmt.Errorf("imghash: parse hex %q: %d digits, want %d for %d bits", clip(s), len(s), nd, nbits)
	}
	pad := 4*nd - nbits
	h := newHash(nbits)
	for d := 0; d < nd; d++ {
		v, ok := unhex(s[d])
		if !ok {
			return Hash{}, fmt.Errorf("imghash: parse hex %q: invalid digit %q at offset %d", clip(s), s[d], d)
		}
		for j := range 4 {
			if v>>(3-j)&1 == 0 {
				continue
			}
			i := 4*d + j - pad
			if i < 0 {
				return Hash{}, fmt.Errorf("imghash: parse hex %q: value exceeds %d bits", clip(s), nbits)
			}
			h.set(i)
		}
	}
	return h, nil
}

// ParseHexSquare parses the hex form of a square grey hash the way imagehash's hex_to_hash
// does: hash_size = floor(sqrt(4*len(s))) and the hash has hash_size^2 bits. Like ParseHex
// it rejects input that is not exactly such a hash.
func ParseHexSquare(s string) (Hash, error) {
	if len(s) == 0 || len(s) > MaxHashSize*MaxHashSize {
		return Hash{}, fmt.Errorf("imghash: parse hex %q: length %d out of range", clip(s), len(s))
	}
	n := isqrt(4 * len(s))
	return ParseHex(s, n*n)
}

func isqrt(v int) int {
	r := 0
	for (r+1)*(r+1) <= v {
		r++
	}
	return r
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
