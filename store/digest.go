package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Digest is the SHA-256 of an artifact's bytes, the artifact's name everywhere in genquorum.
type Digest [32]byte

// ErrBadDigest is returned (wrapped) by [ParseDigest] for text that is not a digest.
var ErrBadDigest = errors.New("store: bad digest")

// Sum returns the digest of data.
func Sum(data []byte) Digest { return Digest(sha256.Sum256(data)) }

// String returns the digest as 64 lower-case hex digits.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Short returns the first 12 hex digits, for log lines and error messages.
func (d Digest) Short() string { return hex.EncodeToString(d[:6]) }

// IsZero reports whether d is the zero digest (no artifact has it in practice).
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText encodes d as 64 lower-case hex digits.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses 64 hex digits, as [ParseDigest].
func (d *Digest) UnmarshalText(text []byte) error {
	v, err := ParseDigest(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDigest parses 64 hex digits (either case) into a Digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return Digest{}, fmt.Errorf("store: digest has %d characters, want %d: %w", len(s), 2*len(d), ErrBadDigest)
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return Digest{}, fmt.Errorf("store: digest %q: %v: %w", s, err, ErrBadDigest)
	}
	return d, nil
}
