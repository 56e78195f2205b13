package fingerprint

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/imghash"
)

func TestParseScheme(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bits int
		err  bool
	}{
		{"image:average_hash/8", "image:average_hash/8", 64, false},
		{"image:phash", "image:phash/8", 64, false},
		{"image:dhash/16", "image:dhash/16", 256, false},
		{"image:colorhash", "image:colorhash/3", 42, false},
		{"text:tokens", "text:tokens", 256, false},
		{"vector:simhash/256", "vector:simhash/256", 256, false},
		{"image:nohash/8", "", 0, true},
		{"image:phash/x", "", 0, true},
		{"text:chars", "", 0, true},
		{"vector:simhash/7", "", 0, true},
		{"average_hash", "", 0, true},
		{"audio:x", "", 0, true},
	}
	for _, tt := range tests {
		s, err := ParseScheme(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParseScheme(%q) = %v, want error", tt.in, s)
			}
			continue
		}
		if err != nil || s.String() != tt.want || s.Bits() != tt.bits {
			t.Errorf("ParseScheme(%q) = %v (%d bits), %v; want %s (%d bits)", tt.in, s, s.Bits(), err, tt.want, tt.bits)
		}
	}
	if TokenScheme.MaxTolerance() != 0 {
		t.Error("token digests must be compared at tolerance 0")
	}
}

// TestImageMatchesImagehash checks the packed fingerprint against imagehash's hex form from
// the reference vectors (p01_astronaut.png average_hash/8 and colorhash/3).
func TestImageMatchesImagehash(t *testing.T) {
	data, err := os.ReadFile("../testdata/imagehash/images/p01_astronaut.png")
	if err != nil {
		t.Fatal(err)
	}
	want := referenceHex(t, "images/p01_astronaut.png")
	for _, tt := range []struct {
		kind imghash.Kind
		size int
	}{{imghash.AverageHash, 8}, {imghash.PHash, 8}, {imghash.DHash, 16}, {imghash.ColorHash, 3}} {
		s := ImageScheme(tt.kind, tt.size)
		fp, err := Of(&engine.Artifact{MediaType: "image/png", Data: data}, s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := imghash.ParseHex(want[s.String()], s.Bits())
		if err != nil {
			t.Fatalf("%s: reference %q: %v", s, want[s.String()], err)
		}
		if !bytes.Equal(fp, FromHash(h)) {
			t.Errorf("%s: fingerprint %x, want %x (imagehash %s)", s, fp, FromHash(h), want[s.String()])
		}
	}
}

func referenceHex(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../testdata/imagehash/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Split(line, []byte("\t"))
		if len(f) >= 4 && string(f[0]) == file {
			out["image:"+string(f[1])+"/"+string(f[2])] = string(f[3])
		}
	}
	if len(out) == 0 {
		t.Fatalf("no reference rows for %s", file)
	}
	return out
}

func TestFromHashBitOrder(t *testing.T) {
	h, err := imghash.ParseHex("8000000000000001", 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(FromHash(h)); got != "8000000000000001" {
		t.Errorf("FromHash = %s, want 8000000000000001", got)
	}
	// colorhash: 42 bits in 11 hex digits, the first 2 bits of the hex form are padding, so
	// the leading digit 2 is bit 0 and the final 1 is bit 41.
	c, err := imghash.ParseHex("20000000001", 42)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(FromHash(c)); got != "800000000040" {
		t.Errorf("FromHash(42-bit) = %s, want 800000000040", got)
	}
}

func TestTokens(t *testing.T) {
	a := OfTokens([]int32{1, 2, 3})
	if !bytes.Equal(a, OfTokens([]int32{1, 2, 3})) {
		t.Error("same tokens, different digests")
	}
	for _, other := range [][]int32{{1, 2}, {1, 2, 4}, {3, 2, 1}, nil} {
		if bytes.Equal(a, OfTokens(other)) {
			t.Errorf("OfTokens(%v) equals OfTokens([1 2 3])", other)
		}
	}
	_, err := Of(&engine.Artifact{MediaType: "image/png", Data: []byte{1}}, TokenScheme, Options{})
	if !errors.Is(err, ErrMismatch) {
		t.Errorf("token scheme on an image: %v, want ErrMismatch", err)
	}
	_, err = Of(&engine.Artifact{MediaType: engine.MediaTypeTokens}, ImageScheme(imghash.AverageHash, 8), Options{})
	if !errors.Is(err, ErrMismatch) {
		t.Errorf("image scheme on tokens: %v, want ErrMismatch", err)
	}
}

// TestVectorLocality checks the SimHash property: a small perturbation moves few bits, an
// unrelated vector about half of them.
func TestVectorLocality(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 768)
	near := make([]float32, 768)
	far := make([]float32, 768)
	for i := range v {
		v[i] = float32(r.NormFloat64())
		near[i] = v[i] + 0.01*float32(r.NormFloat64())
		far[i] = float32(r.NormFloat64())
	}
	a, b, c := OfVector(v, 256), OfVector(near, 256), OfVector(far, 256)
	dNear, _ := Distance(a, b)
	dFar, _ := Distance(a, c)
	if dNear > 8 {
		t.Errorf("near vector: distance %d, want <= 8 of 256", dNear)
	}
	if dFar < 96 || dFar > 160 {
		t.Errorf("unrelated vector: distance %d, want about 128 of 256", dFar)
	}
	if !bytes.Equal(a, OfVector(v, 256)) {
		t.Error("OfVector is not deterministic")
	}
}

func TestDistance(t *testing.T) {
	if d, err := Distance([]byte{0xff, 0}, []byte{0x0f, 1}); d != 5 || err != nil {
		t.Errorf("Distance = %d, %v; want 5", d, err)
	}
	if _, err := Distance([]byte{1}, []byte{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("Distance of unequal lengths: %v, want ErrLength", err)
	}
}

func FuzzParseScheme(f *testing.F) {
	for _, s := range []string{"image:average_hash/8", "text:tokens", "vector:simhash/64", "image:colorhash/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s, err := ParseScheme(name)
		if err != nil {
			return
		}
		again, err := ParseScheme(s.String())
		if err != nil || again != s {
			t.Fatalf("ParseScheme(%q).String() = %q does not parse back: %v, %v", name, s, again, err)
		}
	})
}
