package imgdecode

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const corpusDir = "../testdata/imagehash"

// decodedRow is one line of testdata/imagehash/decoded.tsv: SHA-256 of
// Pillow 9.4's convert('L') and convert('RGB') planes.
type decodedRow struct {
	file          string
	mode          Mode
	width, height int
	sumL, sumRGB  string
}

func readDecodedTSV(t testing.TB, path string) []decodedRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []decodedRow
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 6 {
			t.Fatalf("decoded.tsv line %d: %d columns", line+1, len(c))
		}
		w, _ := strconv.Atoi(c[2])
		h, _ := strconv.Atoi(c[3])
		rows = append(rows, decodedRow{c[0], Mode(c[1]), w, h, c[4], c[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// rgbOrGrey returns the RGB plane, expanding grey modes as Pillow's
// convert('RGB') does (R=G=B=L).
func rgbOrGrey(im *Image) []byte {
	if rgb := im.RGB(); rgb != nil {
		return rgb
	}
	g := im.Gray()
	rgb := make([]byte, 3*len(g))
	for i, v := range g {
		rgb[3*i], rgb[3*i+1], rgb[3*i+2] = v, v, v
	}
	return rgb
}

// TestPillowPlanes checks every file of the imagehash corpus
// (testdata/imagehash/decoded.tsv) against Pillow 9.4's L and RGB planes.
// PNG and JPEG (with JPEGTurbo) must match exactly; JPEGStd is only counted.
func TestPillowPlanes(t *testing.T) {
	checkPlanes(t, corpusDir, readDecodedTSV(t, filepath.Join(corpusDir, "decoded.tsv")))
}

// TestPillowPlanesSynthetic does the same for testdata/golden.tsv: small
// JPEGs made by cjpeg 2.1.5 and Pillow 9.4 covering every sampling layout,
// odd sizes, restart intervals, progressive, RGB, grey, CMYK and
// non-interleaved scans (see testdata/gen_golden.py).
func TestPillowPlanesSynthetic(t *testing.T) {
	checkPlanes(t, "testdata", readDecodedTSV(t, filepath.Join("testdata", "golden.tsv")))
}

// TestPillowPlanesPNG does the same for testdata/png_golden.tsv: hand-made
// PNGs of every colour type and bit depth, with tRNS, short palettes whose
// indices run past PLTE, and Adam7 interlacing (see testdata/gen_png.py).
func TestPillowPlanesPNG(t *testing.T) {
	checkPlanes(t, "testdata", readDecodedTSV(t, filepath.Join("testdata", "png_golden.tsv")))
}

func checkPlanes(t *testing.T, dir string, rows []decodedRow) {
	for _, dec := range []JPEGDecoder{JPEGTurbo, JPEGStd} {
		var jpegs, okL, okRGB int
		for _, r := range rows {
			isJPEG := strings.HasSuffix(r.file, ".jpg")
			if !isJPEG && dec != JPEGTurbo {
				continue
			}
			if testing.Short() && r.width*r.height > 4_000_000 {
				continue
			}
			im, err := DecodeFile(filepath.Join(dir, r.file), Options{JPEG: dec})
			if err != nil && dec == JPEGStd {
				// image/jpeg rejects some valid layouts; counted as a mismatch.
				t.Logf("DecodeFile(%q, %v): %v", r.file, dec, err)
				jpegs++
				continue
			}
			if err != nil {
				t.Errorf("DecodeFile(%q, %v): %v", r.file, dec, err)
				continue
			}
			if im.Mode != r.mode || im.Width != r.width || im.Height != r.height {
				t.Errorf("DecodeFile(%q, %v) = %s %dx%d, want %s %dx%d", r.file, dec,
					im.Mode, im.Width, im.Height, r.mode, r.width, r.height)
			}
			gotL, gotRGB := sum(im.Gray()), sum(rgbOrGrey(im))
			strict := !isJPEG || dec == JPEGTurbo
			if isJPEG {
				jpegs++
				if gotL == r.sumL {
					okL++
				}
				if gotRGB == r.sumRGB {
					okRGB++
				}
			}
			if strict && gotL != r.sumL {
				t.Errorf("%s (%v): L plane sha256 = %s, want %s", r.file, dec, gotL, r.sumL)
			}
			if strict && gotRGB != r.sumRGB {
				t.Errorf("%s (%v): RGB plane sha256 = %s, want %s", r.file, dec, gotRGB, r.sumRGB)
			}
		}
		t.Logf("JPEG decoder %v: %d/%d L planes and %d/%d RGB planes identical to Pillow", dec, okL, jpegs, okRGB, jpegs)
	}
}
