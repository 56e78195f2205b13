package quorum

import (
	"errors"
	"slices"
	"testing"
)

func TestDecideParts(t *testing.T) {
	// Two-byte fingerprints: part 0 (byte 0) at tolerance 1, part 1 (byte 1) at tolerance 0.
	parts := []Part{{Bytes: 1, Tolerance: 1}, {Bytes: 1, Tolerance: 0}}
	fp := func(a, b byte) []byte { return []byte{a, b} }
	tests := []struct {
		name     string
		fps      [][]byte
		replicas int
		parts    []Part
		accepted bool
		agreeing []int
		err      error
	}{
		{"all equal", [][]byte{fp(0, 0), fp(0, 0), fp(0, 0)}, 3, parts, true, []int{0, 1, 2}, nil},
		{"drift within part 0", [][]byte{fp(0, 7), fp(1, 7), fp(0, 7)}, 3, parts, true, []int{0, 1, 2}, nil},
		// Total distance 1 would pass a single tolerance of 1, but part 1 allows none.
		{"drift in the exact part", [][]byte{fp(0, 7), fp(0, 6), fp(0, 7)}, 3, parts, true, []int{0, 2}, nil},
		{"each part alone within, not both", [][]byte{fp(0, 0), fp(3, 0), fp(0, 1)}, 3, parts, false, nil, nil},
		{"one part is Decide", [][]byte{{0x0f}, {0x0e}, {0xf0}}, 3, []Part{{1, 1}}, true, []int{0, 1}, nil},
		{"parts shorter than fingerprints", [][]byte{fp(0, 0)}, 1, []Part{{1, 0}}, false, nil, ErrParts},
		{"no parts", [][]byte{fp(0, 0)}, 1, nil, false, nil, ErrParts},
		{"empty part", [][]byte{fp(0, 0)}, 1, []Part{{0, 0}, {2, 0}}, false, nil, ErrParts},
		{"negative tolerance", [][]byte{fp(0, 0)}, 1, []Part{{1, -1}, {1, 0}}, false, nil, ErrTolerance},
		{"replicas", [][]byte{fp(0, 0), fp(0, 0)}, 1, parts, false, nil, ErrReplicas},
	}
	for _, tt := range tests {
		v, err := DecideParts(tt.fps, tt.replicas, tt.parts, Majority)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || v.Accepted != tt.accepted || !slices.Equal(v.Agreeing, tt.agreeing) {
			t.Errorf("%s: %+v, %v; want accepted %v agreeing %v", tt.name, v, err, tt.accepted, tt.agreeing)
		}
	}
}

// TestDecidePartsOnePartIsDecide: with one part spanning the fingerprint, DecideParts and
// Decide give the same verdict.
func TestDecidePartsOnePartIsDecide(t *testing.T) {
	sets := [][][]byte{
		{{0x00, 0x01}, {0x00, 0x03}, {0xff, 0x00}},
		{{0x10, 0x00}, {0x00, 0x00}, {0x00, 0x10}, {0x11, 0x11}},
		{{0xaa, 0xaa}},
	}
	for _, fps := range sets {
		for tol := 0; tol <= 3; tol++ {
			want, err1 := Decide(fps, len(fps), tol, Majority)
			got, err2 := DecideParts(fps, len(fps), []Part{{Bytes: 2, Tolerance: tol}}, Majority)
			if err1 != nil || err2 != nil || got.Accepted != want.Accepted || got.Best != want.Best ||
				got.Support != want.Support || !slices.Equal(got.Agreeing, want.Agreeing) || !slices.Equal(got.Outliers, want.Outliers) {
				t.Errorf("%x tol %d: DecideParts %+v (%v), Decide %+v (%v)", fps, tol, got, err2, want, err1)
			}
		}
	}
}
