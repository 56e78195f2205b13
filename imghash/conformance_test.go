package imghash_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
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

// decodeFile decodes a corpus file with imgdecode (default options: libjpeg-turbo-compatible
// JPEG) into an imghash.Image carrying only the planes imgdecode decoded (RGB for colour modes,
// Gray for grey modes), so the hasher's own luma is exercised.
func decodeFile(t testing.TB, path string) imghash.Image {
	t.Helper()
	return fromDecoded(decodeCached(t, path))
}

var (
	decodedMu sync.Mutex
	decoded   = map[string]*imgdecode.Image{}
)

// decodeCached decodes path once per test binary (the corpus is decoded by several tests).
func decodeCached(t testing.TB, path string) *imgdecode.Image {
	t.Helper()
	decodedMu.Lock()
	defer decodedMu.Unlock()
	if im, ok := decoded[path]; ok {
		return im
	}
	im, err := imgdecode.DecodeFile(path, imgdecode.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	decoded[path] = im
	return im
}

func fromDecoded(im *imgdecode.Image) imghash.Image {
	if rgb := im.RGB(); rgb != nil {
		return imghash.Image{Width: im.Width, Height: im.Height, RGB: rgb}
	}
	return imghash.Image{Width: im.Width, Height: im.Height, Gray: im.Gray()}
}

type vectorRow struct {
	line      string
	file      string
	spec      imghash.Spec
	hex       string
	floatTies int
}

func loadVectors(t testing.TB) []vectorRow {
	var out []vectorRow
	for _, r := range readTSV(t, "vectors.tsv") {
		k, err := imghash.ParseKind(r["hash_name"])
		if err != nil {
			t.Fatalf("vectors.tsv:%s: %v", r["#line"], err)
		}
		size, _ := strconv.Atoi(r["hash_size_or_binbits"])
		ties, _ := strconv.Atoi(r["float_ties"])
		out = append(out, vectorRow{r["#line"], r["file"], imghash.Spec{k, size}, r["hex"], ties})
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
	all := corpusHashes(t)
	for _, file := range files {
		vr := byFile[file]
		isPNG := strings.HasSuffix(file, ".png")
		for _, r := range vr {
			g := all[file][r.spec].String()
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

// corpusSpecs are the ten hashes of vectors.tsv, in its order.
var corpusSpecs = []imghash.Spec{
	{imghash.AverageHash, 8}, {imghash.DHash, 8}, {imghash.DHashVertical, 8}, {imghash.PHash, 8},
	{imghash.PHashSimple, 8}, {imghash.WHash, 8}, {imghash.ColorHash, 3},
	{imghash.AverageHash, 16}, {imghash.DHash, 16}, {imghash.PHash, 16},
}

var (
	corpusOnce   sync.Once
	corpusResult map[string]map[imghash.Spec]imghash.Hash
)

// corpusHashes computes corpusSpecs for every file of the corpus once per test binary.
func corpusHashes(t *testing.T) map[string]map[imghash.Spec]imghash.Hash {
	t.Helper()
	corpusOnce.Do(func() {
		ents, err := os.ReadDir(filepath.Join(corpus, "images"))
		if err != nil {
			t.Fatal(err)
		}
		res := map[string]map[imghash.Spec]imghash.Hash{}
		var hs imghash.Hasher
		for _, e := range ents {
			file := "images/" + e.Name()
			got, err := hs.Compute(decodeFile(t, filepath.Join(corpus, file)), corpusSpecs)
			if err != nil {
				t.Fatalf("%s: Compute: %v", file, err)
			}
			res[file] = map[imghash.Spec]imghash.Hash{}
			for i, s := range corpusSpecs {
				res[file][s] = got[i]
			}
		}
		corpusResult = res
	})
	if corpusResult == nil {
		t.Fatal("corpus hashes unavailable (an earlier test failed computing them)")
	}
	return corpusResult
}

// TestPairs reproduces the Hamming distances of pairs.tsv: exactly when both files are PNG;
// pairs with a JPEG file are counted and logged.
func TestPairs(t *testing.T) {
	all := corpusHashes(t)
	pngOK, pngN, jpgOK, jpgN := 0, 0, 0, 0
	jpgByOp := map[string]int{}
	for _, r := range readTSV(t, "pairs.tsv") {
		k, err := imghash.ParseKind(r["hash_name"])
		if err != nil {
			t.Fatal(err)
		}
		size, _ := strconv.Atoi(r["hash_size_or_binbits"])
		want, _ := strconv.Atoi(r["hamming_distance"])
		bits, _ := strconv.Atoi(r["bits"])
		s := imghash.Spec{Kind: k, Size: size}
		a, b := all[r["variant_file"]][s], all[r["base_file"]][s]
		got, err := a.Distance(b)
		if err != nil {
			t.Fatalf("pairs.tsv:%s: %v", r["#line"], err)
		}
		if a.Len() != bits {
			t.Errorf("pairs.tsv:%s: %v has %d bits, want %d", r["#line"], s, a.Len(), bits)
		}
		png := strings.HasSuffix(r["variant_file"], ".png") && strings.HasSuffix(r["base_file"], ".png")
		if !png {
			jpgN++
			if got == want {
				jpgOK++
			} else {
				jpgByOp[r["variant_op"]]++
			}
			continue
		}
		pngN++
		if got == want {
			pngOK++
		} else {
			t.Errorf("pairs.tsv:%s: distance(%s, %s) %v = %d, want %d", r["#line"], r["variant_file"], r["base_file"], s, got, want)
		}
	}
	t.Logf("PNG pairs: %d/%d distances exact; pairs with a JPEG file: %d/%d exact (mismatches by op: %v)", pngOK, pngN, jpgOK, jpgN, jpgByOp)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestResizeIntermediates checks Resize against Pillow's resized pixels (intermediates.tsv):
// exactly for every PNG; JPEG files (whose pixels depend on the JPEG decoder) are counted.
func TestResizeIntermediates(t *testing.T) {
	rows := readTSV(t, "intermediates.tsv")
	n, jpegMatch, jpegTotal := 0, 0, 0
	for _, r := range rows {
		file := r["file"]
		img := decodeCached(t, filepath.Join(corpus, file))
		w, _ := strconv.Atoi(r["width"])
		h, _ := strconv.Atoi(r["height"])
		got := imghash.Resize(nil, img.Gray(), img.Width, img.Height, w, h)
		var gotS string
		if r["encoding"] == "hex" {
			gotS = hex.EncodeToString(got)
		} else {
			sum := sha256.Sum256(got)
			gotS = hex.EncodeToString(sum[:])
		}
		if !strings.HasSuffix(file, ".png") {
			jpegTotal++
			if gotS == r["data"] {
				jpegMatch++
			}
			continue
		}
		if gotS != r["data"] {
			t.Errorf("intermediates.tsv:%s: Resize(%s, %dx%d) = %s, want %s", r["#line"], file, w, h, gotS, r["data"])
		}
		n++
	}
	t.Logf("%d PNG resizes checked; JPEG resizes equal to Pillow's: %d/%d", n, jpegMatch, jpegTotal)
}
