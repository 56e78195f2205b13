package hashscan_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
)

const images = "../testdata/imagehash/images"

// copyFile copies a corpus image into dir under name.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.png", "a/x.JPG", "a/y.jpeg", "a/deep/z.png", "notes.txt", "a/image.webp"} {
		writeFile(t, filepath.Join(dir, name), []byte("x"))
	}
	odd := filepath.Join(dir, "explicit.bin")
	writeFile(t, odd, []byte("x"))
	files, bad := hashscan.Files([]string{dir, odd, filepath.Join(dir, "b.png"), filepath.Join(dir, "missing.png")})
	d := filepath.ToSlash(dir)
	want := []string{d + "/a/deep/z.png", d + "/a/x.JPG", d + "/a/y.jpeg", d + "/b.png", d + "/explicit.bin"}
	if !slices.Equal(files, want) {
		t.Errorf("Files = %q, want %q", files, want)
	}
	if len(bad) != 1 || bad[0].File != d+"/missing.png" || !errors.Is(bad[0].Err, os.ErrNotExist) {
		t.Errorf("Files bad = %+v, want missing.png with ErrNotExist", bad)
	}

	// A directory given with a trailing slash or a ./ prefix keeps that form.
	t.Chdir(dir)
	for _, root := range []string{"./a/", "a", "./a"} {
		files, _ := hashscan.Files([]string{root})
		p := strings.TrimSuffix(root, "/") + "/"
		want := []string{p + "deep/z.png", p + "x.JPG", p + "y.jpeg"}
		if !slices.Equal(files, want) {
			t.Errorf("Files(%q) = %q, want %q", root, files, want)
		}
	}
}

// TestScanErrors checks that each kind of bad input fails alone, with the right sentinel,
// while the other files are hashed.
func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(images, "p03_chelsea.png"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "good.png"), good)
	writeFile(t, filepath.Join(dir, "text.png"), []byte("not an image at all"))
	writeFile(t, filepath.Join(dir, "truncated.png"), good[:len(good)/2])
	writeFile(t, filepath.Join(dir, "empty.jpg"), nil)
	copyFile(t, filepath.Join(images, "p01_astronaut.png"), filepath.Join(dir, "big.png"))
	jpg, err := os.ReadFile(filepath.Join(images, "p04_rocket.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "truncated.jpg"), jpg[:len(jpg)/3])

	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.ColorHash, Size: 3}}
	// chelsea has 135300 pixels, astronaut 262144.
	opts := hashscan.Options{Decode: imgdecode.Options{MaxPixels: 200_000}}
	res, err := hashscan.Scan(t.Context(), []string{dir}, specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]error{
		"big.png":       imgdecode.ErrTooLarge,
		"empty.jpg":     imgdecode.ErrEmpty,
		"good.png":      nil,
		"text.png":      imgdecode.ErrFormat,
		"truncated.jpg": nil, // checked below: any error
		"truncated.png": imgdecode.ErrTruncated,
	}
	if len(res) != len(want) {
		t.Fatalf("Scan returned %d results, want %d: %+v", len(res), len(want), res)
	}
	for _, r := range res {
		name := filepath.Base(r.File)
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("unexpected result for %s", r.File)
		case name == "good.png":
			if r.Err != nil || len(r.Hashes) != 2 || r.Hashes[0].String() != "82808e4b09a373e7" {
				t.Errorf("%s: %v %v, want average_hash 82808e4b09a373e7 (vectors.tsv)", name, r.Hashes, r.Err)
			}
		case name == "truncated.jpg":
			if r.Err == nil {
				t.Errorf("%s: no error", name)
			}
		case !errors.Is(r.Err, w):
			t.Errorf("%s: error %v, want %v", name, r.Err, w)
		}
		if r.Err != nil && strings.Contains(r.Err.Error(), r.File) {
			t.Errorf("%s: error %q repeats the file name", name, r.Err)
		}
	}
}

// TestScanVectors hashes the whole corpus directory in parallel and compares the PNG rows
// of vectors.tsv that have no float ties (the per-hash figures are in package imghash).
func TestScanVectors(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 82 files")
	}
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 16}, {Kind: imghash.PHash, Size: 8}, {Kind: imghash.ColorHash, Size: 3}}
	res, err := hashscan.Scan(t.Context(), []string{images}, specs, hashscan.Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.File, r.Err)
		}
		for i, s := range specs {
			got[strings.TrimPrefix(r.File, "../testdata/imagehash/")+" "+s.String()] = r.Hashes[i].String()
		}
	}
	vec, err := os.ReadFile("../testdata/imagehash/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(vec)), "\n")[1:] {
		c := strings.Split(line, "\t")
		key := c[0] + " " + c[1] + "/" + c[2]
		g, ok := got[key]
		if !ok || !strings.HasSuffix(c[0], ".png") || c[4] != "0" {
			continue
		}
		n++
		if g != c[3] {
			t.Errorf("%s = %s, want %s", key, g, c[3])
		}
	}
	// 57 PNG files; 4 of them have float ties in phash/8.
	if want := 57 + 57 + 53 + 57; n != want {
		t.Errorf("compared %d rows, want %d", n, want)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := hashscan.Scan(ctx, []string{images}, []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}}, hashscan.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Scan(cancelled) error = %v, want context.Canceled", err)
	}
}

// FuzzDecodeHash decodes arbitrary bytes and, when they decode, computes every hash: it
// must never panic, and the hashes must have their documented lengths.
func FuzzDecodeHash(f *testing.F) {
	for _, name := range []string{"p10_foo3x5x4indexed.png", "p11_checker_bilevel.png", "p15_bullet_7x7.png",
		"p16_password_dot16_la.png", "p24_chelsea_crop_7x5.png", "p13_rose.jpg", "p14_background_1x118.jpg"} {
		b, err := os.ReadFile(filepath.Join(images, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	specs := []imghash.Spec{
		{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 8}, {Kind: imghash.DHashVertical, Size: 8},
		{Kind: imghash.PHash, Size: 8}, {Kind: imghash.PHashSimple, Size: 8}, {Kind: imghash.WHash, Size: 8},
		{Kind: imghash.ColorHash, Size: 3}, {Kind: imghash.AverageHash, Size: 16},
	}
	var hs imghash.Hasher
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		im, err := imgdecode.Decode(bytes.NewReader(data), imgdecode.Options{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		hashes, err := hashscan.HashImage(&hs, im, specs)
		if err != nil {
			t.Fatalf("HashImage of a decoded %dx%d image: %v", im.Width, im.Height, err)
		}
		for i, s := range specs {
			if hashes[i].Len() != s.Bits() {
				t.Fatalf("%v: %d bits, want %d", s, hashes[i].Len(), s.Bits())
			}
		}
	})
}
