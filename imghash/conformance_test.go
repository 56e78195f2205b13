package imghash

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const corpus = "../testdata/imagehash"

// readTSV reads a TSV file with a header line into maps keyed by column name.
func readTSV(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var head []string
	var rows []map[string]string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = fields
			continue
		}
		m := make(map[string]string, len(head))
		for i, h := range head {
			if i < len(fields) {
				m[h] = fields[i]
			}
		}
		m["#line"] = strconv.Itoa(len(rows) + 2)
		rows = append(rows, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// decodePNG decodes a PNG with the standard library and Pillow's value rules (algorithms
// doc section 2): high byte of 16-bit samples, 16-bit grey clipped at 255, palette entries
// as stored, alpha ignored. Grey images get Gray only; others RGB only.
func decodePNG(t testing.TB, path string) Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return imageFromStd(m)
}

func imageFromStd(m image.Image) Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	im := Image{Width: w, Height: h}
	switch m := m.(type) {
	case *image.Gray:
		im.Gray = make([]uint8, w*h)
		for y := range h {
			copy(im.Gray[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
		return im
	case *image.Gray16:
		im.Gray = make([]uint8, w*h)
		for y := range h {
			for x := range w {
				v := int(m.Pix[y*m.Stride+2*x])<<8 | int(m.Pix[y*m.Stride+2*x+1])
				im.Gray[y*w+x] = uint8(min(v, 255))
			}
		}
		return im
	}
	im.RGB = make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			var r, g, bl uint8
			switch m := m.(type) {
			case *image.RGBA:
				p := m.Pix[y*m.Stride+4*x:]
				r, g, bl = p[0], p[1], p[2]
			case *image.NRGBA:
				p := m.Pix[y*m.Stride+4*x:]
				r, g, bl = p[0], p[1], p[2]
			case *image.RGBA64:
				p := m.Pix[y*m.Stride+8*x:]
				r, g, bl = p[0], p[2], p[4]
			case *image.NRGBA64:
				p := m.Pix[y*m.Stride+8*x:]
				r, g, bl = p[0], p[2], p[4]
			case *image.Paletted:
				switch c := m.Palette[m.Pix[y*m.Stride+x]].(type) {
				case color.RGBA:
					r, g, bl = c.R, c.G, c.B
				case color.NRGBA:
					r, g, bl = c.R, c.G, c.B
				default:
					panic(fmt.Sprintf("unsupported palette colour %T", c))
				}
			default:
				panic(fmt.Sprintf("unsupported image type %T", m))
			}
			i := 3 * (y*w + x)
			im.RGB[i], im.RGB[i+1], im.RGB[i+2] = r, g, bl
		}
	}
	return im
}

// imageHashes is the conformance decoder hook: it decodes a corpus file into an Image, or
// reports why it cannot (skip).
var decodeCorpusFile = func(t testing.TB, path string) (Image, bool) {
	if strings.HasSuffix(path, ".png") {
		return decodePNG(t, path), true
	}
	return Image{}, false
}

type vectorRow struct {
	line      string
	file      string
	spec      Spec
	hex       string
	floatTies int
}

func loadVectors(t testing.TB) []vectorRow {
	var out []vectorRow
	for _, r := range readTSV(t, "vectors.tsv") {
		k, err := ParseKind(r["hash_name"])
		if err != nil {
			t.Fatalf("vectors.tsv:%s: %v", r["#line"], err)
		}
		size, _ := strconv.Atoi(r["hash_size_or_binbits"])
		ties, _ := strconv.Atoi(r["float_ties"])
		out = append(out, vectorRow{r["#line"], r["file"], Spec{k, size}, r["hex"], ties})
	}
	return out
}

// TestVectors reproduces vectors.tsv. PNG rows without float ties must match exactly; rows
// with ties and JPEG rows are counted and logged.
func TestVectors(t *testing.T) {
	rows := loadVectors(t)
	byFile := map[string][]vectorRow{}
	var files []string
	for _, r := range rows {
		if byFile[r.file] == nil {
			files = append(files, r.file)
		}
		byFile[r.file] = append(byFile[r.file], r)
	}
	type tally struct{ match, total int }
	exact := map[string]*tally{} // non-tie PNG rows by spec
	ties := map[string]*tally{}  // tie rows
	jpeg := map[string]*tally{}  // JPEG rows by spec
	bump := func(m map[string]*tally, k string, ok bool) {
		if m[k] == nil {
			m[k] = &tally{}
		}
		m[k].total++
		if ok {
			m[k].match++
		}
	}
	var hs Hasher
	for _, file := range files {
		img, ok := decodeCorpusFile(t, filepath.Join(corpus, file))
		if !ok {
			continue
		}
		vr := byFile[file]
		specs := make([]Spec, len(vr))
		for i, r := range vr {
			specs[i] = r.spec
		}
		got, err := hs.Compute(img, specs)
		if err != nil {
			t.Errorf("%s: Compute: %v", file, err)
			continue
		}
		isPNG := strings.HasSuffix(file, ".png")
		for i, r := range vr {
			g := got[i].String()
			ok := g == r.hex
			switch {
			case !isPNG:
				bump(jpeg, r.spec.String(), ok)
			case r.floatTies > 0:
				bump(ties, r.spec.String(), ok)
				if !ok {
					t.Logf("vectors.tsv:%s: %s %v = %s, want %s (float_ties %d, not a failure)", r.line, file, r.spec, g, r.hex, r.floatTies)
				}
			default:
				bump(exact, r.spec.String(), ok)
				if !ok {
					t.Errorf("vectors.tsv:%s: %s %v = %s, want %s", r.line, file, r.spec, g, r.hex)
				}
			}
		}
	}
	report := func(name string, m map[string]*tally) {
		m2, t2 := 0, 0
		var parts []string
		for _, s := range sortedKeys(m) {
			parts = append(parts, fmt.Sprintf("%s %d/%d", s, m[s].match, m[s].total))
			m2 += m[s].match
			t2 += m[s].total
		}
		t.Logf("%s: %d/%d exact (%s)", name, m2, t2, strings.Join(parts, ", "))
	}
	report("PNG rows without float ties", exact)
	report("PNG rows with float ties", ties)
	report("JPEG rows", jpeg)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestResizeIntermediates checks Resize against Pillow's resized pixels (intermediates.tsv)
// for every PNG of the corpus.
func TestResizeIntermediates(t *testing.T) {
	rows := readTSV(t, "intermediates.tsv")
	imgs := map[string]Image{}
	n := 0
	for _, r := range rows {
		file := r["file"]
		if !strings.HasSuffix(file, ".png") {
			continue
		}
		img, ok := imgs[file]
		if !ok {
			img = decodePNG(t, filepath.Join(corpus, file))
			if img.Gray == nil {
				img.Gray = make([]uint8, img.Width*img.Height)
				luma(img.Gray, img.RGB)
			}
			imgs[file] = img
		}
		w, _ := strconv.Atoi(r["width"])
		h, _ := strconv.Atoi(r["height"])
		got := Resize(nil, img.Gray, img.Width, img.Height, w, h)
		var gotS string
		if r["encoding"] == "hex" {
			gotS = hex.EncodeToString(got)
		} else {
			sum := sha256.Sum256(got)
			gotS = hex.EncodeToString(sum[:])
		}
		if gotS != r["data"] {
			t.Errorf("intermediates.tsv:%s: Resize(%s, %dx%d) = %s, want %s", r["#line"], file, w, h, gotS, r["data"])
		}
		n++
	}
	t.Logf("%d PNG resizes checked", n)
}
