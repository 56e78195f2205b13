package imghash

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/imgdecode"
)

// slowColorStats is the obvious twin of colorStats.addRGB: Pillow's HSV per pixel, then
// colorhash's masks.
func slowColorStats(rgb []uint8) colorStats {
	var st colorStats
	for i := 0; i < len(rgb); i += 3 {
		r, g, b := rgb[i], rgb[i+1], rgb[i+2]
		l := uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 0x8000) >> 16)
		h, s, _ := pillowHSV(r, g, b)
		switch {
		case l < 32:
			st.black++
		case s < 85:
			st.gray++
		default:
			st.colors++
			if s < 170 {
				st.faint[hueBin(h)]++
			} else if s > 170 {
				st.bright[hueBin(h)]++
			}
		}
	}
	return st
}

// TestColorStatsExhaustive compares the table-driven colour statistics with the direct
// Pillow formula over all 2^24 RGB values, one (r, g) row of 256 blues at a time.
func TestColorStatsExhaustive(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 17
	}
	tabs := hsvOnce()
	rgb := make([]uint8, 3*256)
	l := make([]uint8, 256)
	idx := make([]uint32, 256)
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	for _, asm := range []bool{false, true} {
		useAVX2 = asm && saved
		for r := 0; r < 256; r += step {
			for g := 0; g < 256; g++ {
				for b := range 256 {
					rgb[3*b], rgb[3*b+1], rgb[3*b+2] = uint8(r), uint8(g), uint8(b)
				}
				var fast colorStats
				fast.addRGB(rgb, l, idx, tabs)
				if slow := slowColorStats(rgb); fast != slow {
					t.Fatalf("asm %v, r=%d g=%d: table stats %+v, direct %+v", useAVX2, r, g, fast, slow)
				}
			}
		}
		if !saved {
			break
		}
	}
}

// TestDecodedPlanes checks luma and pillowHSV against decoded.tsv's SHA-256 of Pillow's L
// and HSV planes, for every PNG (whose RGB imgdecode reproduces exactly).
func TestDecodedPlanes(t *testing.T) {
	f, err := os.Open("../testdata/imagehash/decoded.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		file, wantL, wantHSV := c[0], c[4], c[6]
		if !strings.HasSuffix(file, ".png") {
			continue
		}
		im, err := imgdecode.DecodeFile(filepath.Join("../testdata/imagehash", file), imgdecode.Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		npix := im.Width * im.Height
		if testing.Short() && npix > 1<<20 {
			continue
		}
		rgb := im.RGB()
		if rgb == nil {
			rgb = make([]uint8, 3*npix)
			for i, v := range im.Gray() {
				rgb[3*i], rgb[3*i+1], rgb[3*i+2] = v, v, v
			}
		}
		l := make([]uint8, npix)
		luma(l, rgb)
		hsv := make([]uint8, 3*npix)
		for i := range npix {
			hsv[3*i], hsv[3*i+1], hsv[3*i+2] = pillowHSV(rgb[3*i], rgb[3*i+1], rgb[3*i+2])
		}
		if got := sha(l); got != wantL && im.RGB() != nil {
			t.Errorf("%s: sha256(luma) = %s, want %s", file, got, wantL)
		}
		if got := sha(hsv); got != wantHSV {
			t.Errorf("%s: sha256(HSV) = %s, want %s", file, got, wantHSV)
		}
		n++
	}
	t.Logf("%d PNG files checked", n)
}

func sha(b []uint8) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestHueBin(t *testing.T) {
	edges := []float64{0, 42.5, 85, 127.5, 170, 212.5, 255}
	for h := range 256 {
		want := 5
		for i := range 6 {
			if float64(h) >= edges[i] && float64(h) < edges[i+1] {
				want = i
				break
			}
		}
		if got := hueBin(uint8(h)); got != want {
			t.Errorf("hueBin(%d) = %d, want %d", h, got, want)
		}
	}
}
