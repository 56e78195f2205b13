package imghash

import (
	"math"
	"sync"
)

// luma converts interleaved RGB (3 bytes per pixel) to Pillow's L:
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16. len(dst) pixels are converted.
func luma(dst, rgb []uint8) {
	rgb = rgb[:3*len(dst)]
	for i := range dst {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		dst[i] = uint8((19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 0x8000) >> 16)
	}
}

// Saturation classes of colorhash, by Pillow's S = trunc(255 * float32(max-min)/float32(max)).
const (
	satGray   = iota // S < 85
	satFaint         // 85 <= S < 170
	satMiddle        // S == 170: a colour pixel in neither hue histogram
	satBright        // S > 170
)

// hsvTables are exact caches of the float32 divisions in Pillow's rgb2hsv_row.
type hsvTables struct {
	// frac[cr<<8|d] = float32(d) / float32(cr), for 1 <= cr <= 255.
	frac []float32
	// sat[maxc<<8|cr] is the saturation class of S = trunc(float64(float32(cr)/float32(maxc)) * 255).
	sat []uint8
}

var hsvOnce = sync.OnceValue(func() *hsvTables {
	t := &hsvTables{frac: make([]float32, 256*256), sat: make([]uint8, 256*256)}
	for cr := 1; cr < 256; cr++ {
		for d := 0; d < 256; d++ {
			t.frac[cr<<8|d] = float32(d) / float32(cr)
		}
	}
	for maxc := 1; maxc < 256; maxc++ {
		for cr := 1; cr <= maxc; cr++ {
			t.sat[maxc<<8|cr] = satClassOf(pillowS(uint8(maxc), uint8(cr)))
		}
	}
	return t
})

// pillowS is Pillow's S for a pixel with max channel maxc and max-min = cr > 0.
func pillowS(maxc, cr uint8) uint8 {
	s := float32(cr) / float32(maxc)
	return clip8i(int(float64(s) * 255.0))
}

func satClassOf(s uint8) uint8 {
	switch {
	case s < 85:
		return satGray
	case s < 170:
		return satFaint
	case s == 170:
		return satMiddle
	default:
		return satBright
	}
}

func clip8i(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// pillowHSV is Pillow's rgb2hsv_row for one pixel, computed directly (the slow, obvious twin
// of the table-driven colour statistics).
func pillowHSV(r, g, b uint8) (h, s, v uint8) {
	maxc := max(r, g, b)
	minc := min(r, g, b)
	if maxc == minc {
		return 0, 0, maxc
	}
	cr := float32(maxc - minc)
	sf := cr / float32(maxc)
	rc := float32(maxc-r) / cr
	gc := float32(maxc-g) / cr
	bc := float32(maxc-b) / cr
	var hf float32
	switch {
	case r == maxc:
		hf = bc - gc
	case g == maxc:
		hf = float32(2.0 + float64(rc) - float64(bc))
	default:
		hf = float32(4.0 + float64(gc) - float64(rc))
	}
	hf = float32(math.Mod(float64(hf)/6.0+1.0, 1.0))
	return clip8i(int(float64(hf) * 255.0)), clip8i(int(float64(sf) * 255.0)), maxc
}

// hueBin maps Pillow's H (0..255) to colorhash's histogram bin: numpy.histogram with edges
// linspace(0, 255, 7), last bin closed, i.e. floor(H / 42.5) capped at 5.
func hueBin(h uint8) int { return min(int(h)*2/85, 5) }

// colorStats are the pixel counts colorhash needs.
type colorStats struct {
	black, gray, colors int    // L < 32; not black and S < 85; not black and S >= 85
	faint, bright       [6]int // hue histograms of 85 <= S < 170 and of S > 170
}

func (s *colorStats) add(o *colorStats) {
	s.black += o.black
	s.gray += o.gray
	s.colors += o.colors
	for i := range 6 {
		s.faint[i] += o.faint[i]
		s.bright[i] += o.bright[i]
	}
}

// addGray counts a grey row (Pillow's HSV of an L image has H = S = 0).
func (s *colorStats) addGray(l []uint8) {
	black := 0
	for _, v := range l {
		if v < 32 {
			black++
		}
	}
	s.black += black
	s.gray += len(l) - black
}

// addRGB counts one row: rgb interleaved, l its luma.
func (s *colorStats) addRGB(rgb, l []uint8, t *hsvTables) {
	rgb = rgb[:3*len(l)]
	frac, sat := t.frac[:256*256], t.sat[:256*256]
	black, gray, colors := 0, 0, 0
	for i, lv := range l {
		if lv < 32 {
			black++
			continue
		}
		p := rgb[3*i : 3*i+3 : 3*i+3]
		r, g, b := p[0], p[1], p[2]
		maxc := max(r, g, b)
		cr := maxc - min(r, g, b)
		if cr == 0 {
			gray++
			continue
		}
		class := sat[int(maxc)<<8|int(cr)]
		if class == satGray {
			gray++
			continue
		}
		colors++
		if class == satMiddle {
			continue
		}
		row := frac[int(cr)<<8 : int(cr)<<8+256]
		var hf float32
		switch {
		case r == maxc:
			hf = row[maxc-b] - row[maxc-g]
		case g == maxc:
			hf = float32(2.0 + float64(row[maxc-r]) - float64(row[maxc-b]))
		default:
			hf = float32(4.0 + float64(row[maxc-g]) - float64(row[maxc-r]))
		}
		x := float64(hf)/6.0 + 1.0
		// fmod(x, 1) for x in [5/6, 11/6): exact, as fmod always is.
		if x >= 1 && x < 2 {
			x -= 1
		} else if x < 0 || x >= 2 {
			x = math.Mod(x, 1.0)
		}
		h := int(float64(float32(x)) * 255.0)
		bin := min(h*2/85, 5)
		if class == satFaint {
			s.faint[bin]++
		} else {
			s.bright[bin]++
		}
	}
	s.black += black
	s.gray += gray
	s.colors += colors
}

// colorHashFrom builds colorhash's bits from the counts over npix pixels.
func colorHashFrom(st *colorStats, npix, binbits int) Hash {
	maxv := 1 << binbits
	q := func(f float64) int { return min(maxv-1, int(f)) }
	vals := make([]int, 0, 14)
	vals = append(vals, q(float64(st.black)/float64(npix)*float64(maxv)))
	vals = append(vals, q(float64(st.gray)/float64(npix)*float64(maxv)))
	c := max(1, st.colors)
	for _, cnt := range st.faint {
		vals = append(vals, q(float64(cnt*maxv)*1.0/float64(c)))
	}
	for _, cnt := range st.bright {
		vals = append(vals, q(float64(cnt*maxv)*1.0/float64(c)))
	}
	h := newHash(14 * binbits)
	for vi, v := range vals {
		for i := range binbits {
			if (v>>(binbits-i-1))%(1<<(binbits-i)) > 0 {
				h.set(vi*binbits + i)
			}
		}
	}
	return h
}
