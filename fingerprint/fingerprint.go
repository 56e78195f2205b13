// Package fingerprint turns an engine's artifact into the fingerprint that verifiers compare,
// and measures the distance between two fingerprints. It owns the schemes:
//
//   - image:<kind>/<size>, e.g. "image:average_hash/8": an imagehash 4.3.2 perceptual hash
//     (package imghash) of the PNG or JPEG artifact, decoded exactly as Pillow does (package
//     imgdecode). Honest re-runs on different hardware land within a few bits; a tolerance of
//     1-2 bits absorbs that drift.
//   - text:tokens: the SHA-256 of the generated token-id sequence. Deterministic decoding
//     (greedy, beam) makes honest nodes agree exactly, so text is compared at tolerance 0: a
//     digest has no locality, and Scheme.MaxTolerance says so. The text alone does not give
//     the fingerprint back (detokenisation is not injective), so text artifacts are stored and
//     served as a TextRecord: the text with its ids, in a versioned canonical encoding.
//   - vector:simhash/<bits>: a sign-random-projection sketch (SimHash) of a float32 checkpoint or
//     embedding, for training tasks: the expected Hamming distance between two sketches is
//     bits*angle(a,b)/pi, so nearby checkpoints have nearby sketches.
//
// A fingerprint is a byte string: the scheme's bits packed most significant first (the first
// bit of an image hash is the top bit of byte 0, as in imagehash's hex form), padding bits zero.
// Distance is the Hamming distance; it fails for fingerprints of different lengths. The package
// knows nothing about the ledger; package quorum compares fingerprints as plain bit strings.
package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
)

// Family is the kind of artifact a scheme reads.
type Family uint8

// The families of scheme.
const (
	Image  Family = iota + 1 // perceptual hash of an image
	Tokens                   // digest of a token sequence
	Vector                   // SimHash of a float32 vector
)

// Scheme says how artifacts are fingerprinted. Build one with ParseScheme or the constructors.
type Scheme struct {
	Family Family
	// Spec is the image hash, for Family Image.
	Spec imghash.Spec
	// SketchBits is the sketch length, for Family Vector.
	SketchBits int
}

// MaxSketchBits bounds a vector sketch.
const MaxSketchBits = 4096

// ImageScheme returns the scheme of an imagehash kind and size (binbits for colorhash).
func ImageScheme(kind imghash.Kind, size int) Scheme {
	return Scheme{Family: Image, Spec: imghash.Spec{Kind: kind, Size: size}}
}

// TokenScheme is the scheme of text artifacts.
var TokenScheme = Scheme{Family: Tokens}

// String returns the scheme's name, which ParseScheme reads back.
func (s Scheme) String() string {
	switch s.Family {
	case Image:
		return fmt.Sprintf("image:%v/%d", s.Spec.Kind, s.Spec.Size)
	case Tokens:
		return "text:tokens"
	case Vector:
		return fmt.Sprintf("vector:simhash/%d", s.SketchBits)
	}
	return fmt.Sprintf("fingerprint.Scheme(%d)", s.Family)
}

// Bits returns the number of bits of the scheme's fingerprints.
func (s Scheme) Bits() int {
	switch s.Family {
	case Image:
		return s.Spec.Bits()
	case Tokens:
		return 256
	case Vector:
		return s.SketchBits
	}
	return 0
}

// MaxTolerance is the largest tolerance that means anything for the scheme: 0 for token
// digests (any difference is total), the bit count otherwise.
func (s Scheme) MaxTolerance() int {
	if s.Family == Tokens {
		return 0
	}
	return s.Bits()
}

// Validate checks the scheme's parameters.
func (s Scheme) Validate() error {
	switch s.Family {
	case Image:
		if err := s.Spec.Validate(); err != nil {
			return fmt.Errorf("fingerprint: %w", err)
		}
	case Tokens:
	case Vector:
		if s.SketchBits < 8 || s.SketchBits > MaxSketchBits || s.SketchBits%8 != 0 {
			return fmt.Errorf("fingerprint: sketch of %d bits, want a multiple of 8 in [8, %d]", s.SketchBits, MaxSketchBits)
		}
	default:
		return fmt.Errorf("fingerprint: unknown scheme family %d", s.Family)
	}
	return nil
}

// ParseScheme reads a scheme name: "image:average_hash/8", "image:colorhash/3", "text:tokens"
// or "vector:simhash/256". "image:phash" means size 8 (binbits 3 for colorhash).
func ParseScheme(name string) (Scheme, error) {
	fam, rest, ok := strings.Cut(name, ":")
	if !ok {
		return Scheme{}, fmt.Errorf("fingerprint: scheme %q: want family:parameters, e.g. image:average_hash/8", name)
	}
	var s Scheme
	switch fam {
	case "image":
		kindName, sizeStr, hasSize := strings.Cut(rest, "/")
		kind, err := imghash.ParseKind(kindName)
		if err != nil {
			return Scheme{}, fmt.Errorf("fingerprint: scheme %q: %w", name, err)
		}
		size := 8
		if kind == imghash.ColorHash {
			size = 3
		}
		if hasSize {
			if size, err = strconv.Atoi(sizeStr); err != nil {
				return Scheme{}, fmt.Errorf("fingerprint: scheme %q: size %q is not a number", name, sizeStr)
			}
		}
		s = ImageScheme(kind, size)
	case "text":
		if rest != "tokens" {
			return Scheme{}, fmt.Errorf("fingerprint: scheme %q: the text family has only text:tokens", name)
		}
		s = TokenScheme
	case "vector":
		b, ok := strings.CutPrefix(rest, "simhash/")
		n, err := strconv.Atoi(b)
		if !ok || err != nil {
			return Scheme{}, fmt.Errorf("fingerprint: scheme %q: want vector:simhash/<bits>", name)
		}
		s = Scheme{Family: Vector, SketchBits: n}
	default:
		return Scheme{}, fmt.Errorf("fingerprint: scheme %q: unknown family %q (want image, text or vector)", name, fam)
	}
	return s, s.Validate()
}

// Options control fingerprinting of image artifacts.
type Options struct {
	// Decode limits and JPEG decoder; the zero value is imgdecode's defaults.
	Decode imgdecode.Options
}

// ErrMismatch is returned when an artifact does not suit the scheme (e.g. an image scheme on
// a text artifact).
var ErrMismatch = errors.New("fingerprint: artifact does not suit the scheme")

// Of returns the fingerprint of a under scheme s. Under text:tokens it reads a.Tokens, or, for
// an artifact without tokens whose media type is MediaTypeTextRecord, the ids of the encoded
// TextRecord in a.Data.
func Of(a *engine.Artifact, s Scheme, opts Options) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	switch s.Family {
	case Image:
		if a.MediaType != "" && !strings.HasPrefix(a.MediaType, "image/") {
			return nil, fmt.Errorf("%w: %s on a %q artifact", ErrMismatch, s, a.MediaType)
		}
		return OfImage(a.Data, s.Spec, opts)
	case Tokens:
		if a.Tokens == nil && a.MediaType == MediaTypeTextRecord {
			var r TextRecord
			if err := r.UnmarshalBinary(a.Data); err != nil {
				return nil, err
			}
			return r.Fingerprint(), nil
		}
		if a.Tokens == nil && a.MediaType != engine.MediaTypeTokens {
			return nil, fmt.Errorf("%w: %s on a %q artifact without tokens", ErrMismatch, s, a.MediaType)
		}
		return OfTokens(a.Tokens), nil
	case Vector:
		v, err := float32sLE(a.Data)
		if err != nil {
			return nil, err
		}
		return OfVector(v, s.SketchBits), nil
	}
	panic("unreachable")
}

// OfImage decodes an encoded PNG or JPEG and returns its perceptual hash as a fingerprint.
func OfImage(data []byte, spec imghash.Spec, opts Options) ([]byte, error) {
	im, err := imgdecode.Decode(bytes.NewReader(data), opts.Decode)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	h, err := imghash.Compute(imghash.Image{Width: im.Width, Height: im.Height, Gray: im.Gray(), RGB: im.RGB()}, spec)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	return FromHash(h[0]), nil
}

// FromHash packs an image hash into fingerprint bytes, first bit most significant.
func FromHash(h imghash.Hash) []byte {
	out := make([]byte, (h.Len()+7)/8)
	for i := range h.Len() {
		if h.Bit(i) {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

// OfTokens returns the SHA-256 of the token sequence: a uint32 count then each id as a
// big-endian uint32.
func OfTokens(ids []int32) []byte {
	h := sha256.New()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(len(ids)))
	h.Write(b[:])
	for _, id := range ids {
		binary.BigEndian.PutUint32(b[:], uint32(id))
		h.Write(b[:])
	}
	return h.Sum(nil)
}

// OfVector returns a SimHash sketch of v with nbits bits: bit i is set when the dot product of
// v with the i-th pseudo-random Gaussian-free direction (entries ±1 drawn from SHA-256 in
// counter mode, so every implementation derives the same directions) is positive. The dot
// products are accumulated in float64 in index order, so the sketch is deterministic.
func OfVector(v []float32, nbits int) []byte {
	out := make([]byte, nbits/8)
	var block [32]byte
	var ctr [16]byte
	for i := range nbits {
		var dot float64
		for j := 0; j < len(v); j += 256 {
			binary.BigEndian.PutUint64(ctr[:8], uint64(i))
			binary.BigEndian.PutUint64(ctr[8:], uint64(j/256))
			block = sha256.Sum256(ctr[:])
			end := min(j+256, len(v))
			for k := j; k < end; k++ {
				bit := block[(k-j)/8] >> ((k - j) % 8) & 1
				if bit == 1 {
					dot += float64(v[k])
				} else {
					dot -= float64(v[k])
				}
			}
		}
		if dot > 0 {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

func float32sLE(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("fingerprint: vector artifact of %d bytes is not a float32 array", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// ErrLength is returned by Distance for fingerprints of different lengths.
var ErrLength = errors.New("fingerprint: fingerprints of different lengths")

// Distance returns the Hamming distance between two fingerprints of one scheme.
func Distance(a, b []byte) (int, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: %d and %d bytes", ErrLength, len(a), len(b))
	}
	d := 0
	for i := range a {
		d += bits.OnesCount8(a[i] ^ b[i])
	}
	return d, nil
}
