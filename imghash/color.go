package imghash

import (
	"math"
	"sync"
)

// lumaGeneric converts interleaved RGB (3 bytes per pixel) to Pillow's L:
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16. len(dst) pixels are converted.
// It is the pure-Go twin of lumaAVX2.
func lumaGeneric(dst, rgb []uint8) {
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
	satBlack         // L < 32 (only at the table entry blackIndex selects)
)

// hsvTables cache what colorhash needs of Pillow's rgb2hsv_row, exactly.
//
// Saturation S depends only on (max, max-min). Hue depends only on the three differences
// max-r, max-g, max-b (divided by cr = max-min): one of them is 0 (the max channel, chosen
// r, then g, then b on ties, as Pillow's tests are ordered) and one is cr (the min
// channel), so H is a function of the branch (which channel is max and which is min, six
// cases), cr and the middle channel's difference d. The tables are filled by evaluating
// pillowHSV on a representative pixel with max = 255; TestColorStatsExhaustive checks
// the result against pillowHSV for all 2^24 colours.
type hsvTables struct {
	// sat[maxc<<8|cr] is the saturation class of S = trunc(float64(float32(cr)/float32(maxc)) * 255).
	sat []uint8
	// hue[sub<<16|cr<<8|d] is the hue histogram bin (0..5) for case sub (hueSub); 8
	// cases are allocated so that any 3-bit case indexes it.
	hue []uint8
}

var hsvOnce = sync.OnceValue(func() *hsvTables {
	t := &hsvTables{sat: make([]uint8, 256*256), hue: make([]uint8, 8<<16)}
	t.sat[blackIndex>>8] = satBlack
	for maxc := 1; maxc < 256; maxc++ {
		for cr := 1; cr <= maxc; cr++ {
			t.sat[maxc<<8|cr] = satClassOf(pillowS(uint8(maxc), uint8(cr)))
		}
	}
	for sub := range 6 {
		for cr := 1; cr < 256; cr++ {
			for d := 0; d <= cr; d++ {
				// Differences from the max for r, g, b in this case.
				var dr, dg, db int
				switch sub {
				case 0: // r max, b min, g middle
					dr, dg, db = 0, d, cr
				case 1: // r max, g min, b middle
					dr, dg, db = 0, cr, d
				case 2: // g max, b min, r middle
					dr, dg, db = d, 0, cr
				case 3: // g max, r min, b middle
					dr, dg, db = cr, 0, d
				case 4: // b max, g min, r middle
					dr, dg, db = d, cr, 0
				case 5: // b max, r min, g middle
					dr, dg, db = cr, d, 0
				}
				h, _, _ := pillowHSV(uint8(255-dr), uint8(255-dg), uint8(255-db))
				t.hue[sub<<16|cr<<8|d] = uint8(hueBin(h))
			}
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

// Pixel categories of colorhash, the index into the counters of count.
const (
	catBlack  = 0
	catGray   = 1
	catMiddle = 2 // a colour pixel with S == 170: in neither hue histogram
	catFaint  = 3 // + hue bin
	catBright = 9 // + hue bin
	numCats   = 15
)

// catOf[class<<3|bin] is the category of a pixel of saturation class class (satBlack for
// black pixels) and hue bin bin.
var catOf = func() (t [64]uint8) {
	for bin := range 8 {
		b := min(bin, 5)
		t[satGray<<3|bin] = catGray
		t[satFaint<<3|bin] = uint8(catFaint + b)
		t[satMiddle<<3|bin] = catMiddle
		t[satBright<<3|bin] = uint8(catBright + b)
		t[satBlack<<3|bin] = catBlack
	}
	return t
}()

// hueSub is the hue case (see hsvTables) by code (r>=g)<<2 | (r>=b)<<1 | (g>=b): the max
// channel is r if r>=g and r>=b, else g if g>=b, else b (Pillow's order of tests on ties),
// and the case then says which of the other two is the min. Codes 2 and 5 cannot occur.
var hueSub = [8]uint32{0: 5, 1: 3, 3: 2, 4: 4, 6: 1, 7: 0}

// blackIndex is the colour index of a black pixel: max 0, cr 255, which the sat table maps
// to satBlack.
const blackIndex = 0xff00

// colorPrepGeneric computes, for each pixel of rgb, its luma l[i] and its colour index
// idx[i] = sub<<24 | max<<16 | cr<<8 | d, where sub is the hue case, cr = max-min and
// d = max-mid (mid = r+g+b-max-min), or blackIndex when l[i] < 32. It is branch-free and
// the pure-Go twin of colorPrepAVX2.
func colorPrepGeneric(l []uint8, idx []uint32, rgb []uint8) {
	rgb = rgb[:3*len(l)]
	idx = idx[:len(l)]
	for i := range l {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		r, g, b := uint32(p[0]), uint32(p[1]), uint32(p[2])
		lv := (19595*r + 38470*g + 7471*b + 0x8000) >> 16
		l[i] = uint8(lv)
		mx, mn := max(r, g, b), min(r, g, b)
		code := ge(r, g)<<2 | ge(r, b)<<1 | ge(g, b)
		v := hueSub[code&7]<<24 | mx<<16 | (mx-mn)<<8 | (2*mx + mn - r - g - b)
		black := uint32(int32(lv-32) >> 31) // all ones when lv < 32
		idx[i] = v&^black | blackIndex&black
	}
}

// ge returns 1 if a >= b, else 0 (a, b < 2^31).
func ge(a, b uint32) uint32 { return 1 ^ uint32(int32(a-b))>>31 }

// count adds the pixels whose colour indexes are idx (see colorPrepGeneric). Two sets of
// counters break the store-to-load dependency of repeated categories.
func (s *colorStats) count(idx []uint32, t *hsvTables) {
	sat, hue := t.sat[:1<<16], t.hue[:8<<16]
	var cnt [2][16]int
	for i, v := range idx {
		class := sat[(v>>8)&0xffff]
		bin := hue[(v>>24&7)<<16|v&0xffff]
		cnt[i&1][catOf[(class<<3|bin)&63]&15]++
	}
	s.black += cnt[0][catBlack] + cnt[1][catBlack]
	s.gray += cnt[0][catGray] + cnt[1][catGray]
	colors := 0
	for c := catMiddle; c < numCats; c++ {
		colors += cnt[0][c] + cnt[1][c]
	}
	s.colors += colors
	for bin := range 6 {
		s.faint[bin] += cnt[0][catFaint+bin] + cnt[1][catFaint+bin]
		s.bright[bin] += cnt[0][catBright+bin] + cnt[1][catBright+bin]
	}
}

// addRGB counts one row: rgb interleaved. l (len = pixels) and idx are scratch; l receives
// the luma.
func (s *colorStats) addRGB(rgb, l []uint8, idx []uint32, t *hsvTables) {
	colorPrep(l, idx, rgb)
	s.count(idx[:len(l)], t)
}

// colorHashFrom builds colorhash's bits from the counts over npix pixels.
func colorHashFrom(h Hash, st *colorStats, npix, binbits int) Hash {
	maxv := 1 << binbits
	q := func(f float64) int { return min(maxv-1, int(f)) }
	vals := make([]int, 0, 14) // stays on the stack
	vals = append(vals, q(float64(st.black)/float64(npix)*float64(maxv)))
	vals = append(vals, q(float64(st.gray)/float64(npix)*float64(maxv)))
	c := max(1, st.colors)
	for _, cnt := range st.faint {
		vals = append(vals, q(float64(cnt*maxv)*1.0/float64(c)))
	}
	for _, cnt := range st.bright {
		vals = append(vals, q(float64(cnt*maxv)*1.0/float64(c)))
	}
	for vi, v := range vals {
		for i := range binbits {
			if (v>>(binbits-i-1))%(1<<(binbits-i)) > 0 {
				h.set(vi*binbits + i)
			}
		}
	}
	return h
}
