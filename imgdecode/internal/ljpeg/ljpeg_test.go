package ljpeg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// slowRangeLimit builds libjpeg's sample_range_limit table the way
// jdmaster.c prepare_range_limit_table does and returns the post-IDCT view
// (table + CENTERJSAMPLE) as a function of the masked index.
func slowRangeLimit() func(int) uint8 {
	const maxj, center = 255, 128
	table := make([]uint8, 5*(maxj+1)+center)
	base := maxj + 1 // table += (MAXJSAMPLE + 1)
	for i := 0; i <= maxj; i++ {
		table[base+i] = uint8(i)
	}
	post := base + center
	for i := center; i < 2*(maxj+1); i++ {
		table[post+i] = maxj
	}
	for i := 0; i < 2*(maxj+1)-center; i++ {
		table[post+2*(maxj+1)+i] = 0
	}
	copy(table[post+4*(maxj+1)-center:], table[base:base+center])
	return func(i int) uint8 { return table[post+i] }
}

func TestIDCTRangeLimit(t *testing.T) {
	slow := slowRangeLimit()
	for i := range idctRangeLimit {
		if got, want := idctRangeLimit[i], slow(i); got != want {
			t.Errorf("idctRangeLimit[%d] = %d, want %d", i, got, want)
		}
	}
}

// floatIDCT is the textbook 2-D inverse DCT plus the level shift, rounded
// and clamped: islow must stay within 1 of it.
func floatIDCT(in *block) (out [64]float64) {
	for y := range 8 {
		for x := range 8 {
			var s float64
			for v := range 8 {
				for u := range 8 {
					cu, cv := 1.0, 1.0
					if u == 0 {
						cu = math.Sqrt2 / 2
					}
					if v == 0 {
						cv = math.Sqrt2 / 2
					}
					s += cu * cv * float64(in[8*v+u]) *
						math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) *
						math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
				}
			}
			out[8*y+x] = math.Min(255, math.Max(0, math.Round(s/4+128)))
		}
	}
	return out
}

// TestIDCTIslowNearFloat checks the port against the mathematical IDCT on
// random blocks shaped like real ones (large DC, sparse smaller AC terms).
// Bit-exactness with libjpeg is checked by the golden files of the parent
// package; this catches a wrong constant or sign in the port.
func TestIDCTIslowNearFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var dst [64]byte
	var ones block
	for i := range ones {
		ones[i] = 1
	}
	exact, total := 0, 0
	for n := range 2000 {
		var b block
		b[0] = int32(rng.IntN(2048) - 1024)
		for k := 1; k < 64; k++ {
			if rng.IntN(4) == 0 {
				b[k] = int32(rng.IntN(301) - 150)
			}
		}
		if n%4 == 0 { // DC-only blocks take the shortcut paths
			b = block{0: b[0]}
		}
		idctIslow(&b, &ones, dst[:], 8)
		want := floatIDCT(&b)
		for i := range dst {
			d := math.Abs(float64(dst[i]) - want[i])
			if d > 1 {
				t.Fatalf("block %d sample %d: islow %d, float %v", n, i, dst[i], want[i])
			}
			if d == 0 {
				exact++
			}
			total++
		}
	}
	if exact < total*95/100 {
		t.Errorf("only %d/%d samples equal the rounded float IDCT", exact, total)
	}
}

// TestFancyUpsamplingTwins compares the h2v1/h2v2 kernels, with their
// first/last column special cases, to the plain triangle-filter formula
// with edge samples repeated.
func TestFancyUpsamplingTwins(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 3; n < 40; n++ {
		in0, in1 := make([]byte, n), make([]byte, n)
		for i := range in0 {
			in0[i], in1[i] = byte(rng.IntN(256)), byte(rng.IntN(256))
		}
		at := func(s []byte, i int) int32 { return int32(s[min(max(i, 0), len(s)-1)]) }
		got := make([]byte, 2*n)
		h2v1Fancy(got, in0)
		for i := range 2 * n {
			c, o, bias := i/2, i/2-1, int32(1)
			if i%2 == 1 {
				o, bias = i/2+1, 2
			}
			want := byte((3*at(in0, c) + at(in0, o) + bias) >> 2)
			if got[i] != want {
				t.Fatalf("h2v1Fancy n=%d out[%d] = %d, want %d", n, i, got[i], want)
			}
		}
		h2v2Fancy(got, in0, in1)
		col := func(i int) int32 { return 3*at(in0, i) + at(in1, i) }
		for i := range 2 * n {
			c := i / 2
			var want byte
			if i%2 == 0 {
				want = byte((3*col(c) + col(max(c-1, 0)) + 8) >> 4)
			} else {
				want = byte((3*col(c) + col(min(c+1, n-1)) + 7) >> 4)
			}
			if got[i] != want {
				t.Fatalf("h2v2Fancy n=%d out[%d] = %d, want %d", n, i, got[i], want)
			}
		}
	}
}

// TestYCCTables checks the jdcolor.c fixed-point tables against the
// formulas they round (R = Y + 1.402 (Cr-128), B = Y + 1.772 (Cb-128),
// G = Y - 0.34414 (Cb-128) - 0.71414 (Cr-128)) and a few exact entries.
func TestYCCTables(t *testing.T) {
	if crR[0] != -179 || crR[255] != 178 || cbB[0] != -227 || cbB[255] != 225 {
		t.Errorf("crR[0], crR[255], cbB[0], cbB[255] = %d %d %d %d, want -179 178 -227 225",
			crR[0], crR[255], cbB[0], cbB[255])
	}
	for cb := range 256 {
		for cr := range 256 {
			g := float64((cbG[cb] + crG[cr]) >> 16)
			want := -0.34414*float64(cb-128) - 0.71414*float64(cr-128)
			if math.Abs(g-want) > 1 {
				t.Fatalf("G offset for cb=%d cr=%d: %v, want about %v", cb, cr, g, want)
			}
		}
		if d := math.Abs(float64(cbB[cb]) - 1.772*float64(cb-128)); d > 0.5 {
			t.Errorf("cbB[%d] = %d, want round(%v)", cb, cbB[cb], 1.772*float64(cb-128))
		}
	}
}

// fdct is the float forward DCT of a level-shifted 8x8 pixel block, in
// JPEG's normalisation (the inverse of floatIDCT).
func fdct(px *[64]float64) (out [64]float64) {
	for v := range 8 {
		for u := range 8 {
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = math.Sqrt2 / 2
			}
			if v == 0 {
				cv = math.Sqrt2 / 2
			}
			var s float64
			for y := range 8 {
				for x := range 8 {
					s += (px[8*y+x] - 128) *
						math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) *
						math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
				}
			}
			out[8*v+u] = cu * cv * s / 4
		}
	}
	return out
}

// TestIDCTIslowSIMDMatchesC checks the SIMD-semantics IDCT against the
// plain C port on blocks a JPEG encoder can produce (forward DCT of random
// pixels, smooth or noisy, quantized with random tables): they must agree
// bit for bit, since the SIMD code only differs when 16-bit lanes overflow.
func TestIDCTIslowSIMDMatchesC(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var got, want [64]byte
	for n := range 3000 {
		var px [64]float64
		base, amp := rng.Float64()*255, rng.Float64()*255
		for i := range px {
			px[i] = math.Min(255, math.Max(0, base+amp*(rng.Float64()-0.5)*float64(n%3)))
			if n%7 == 0 { // hard edges and extremes
				px[i] = float64(255 * rng.IntN(2))
			}
		}
		coef := fdct(&px)
		var b, q, deq block
		for i := range b {
			q[i] = int32(1 + rng.IntN([]int{1, 16, 100, 255}[n%4]))
			b[i] = int32(math.Round(coef[i] / float64(q[i])))
			deq[i] = b[i] * q[i]
		}
		if n%5 == 0 { // DC-only blocks take the shortcut
			for i := 1; i < 64; i++ {
				b[i], deq[i] = 0, 0
			}
		}
		idctIslow(&b, &q, got[:], 8)
		idctIslowC(&deq, want[:], 8)
		if got != want {
			t.Fatalf("block %d: SIMD %v, C %v (coefs %v, quant %v)", n, got, want, b, q)
		}
	}
}

// TestIDCTIslowOverflow pins the SIMD behaviour on corrupt coefficients:
// a huge DC saturates to white where C's range-limit table wraps to black.
func TestIDCTIslowOverflow(t *testing.T) {
	var b, q block
	for i := range q {
		q[i] = 1
	}
	b[0] = 5200 // pass 1 gives 20800, the output (20800+16)>>5 = 650 -> 255
	var dst [64]byte
	idctIslow(&b, &q, dst[:], 8)
	if dst[0] != 255 {
		t.Errorf("idctIslow(DC 5200)[0] = %d, want 255", dst[0])
	}
	b[8] = 1 // AC in row 1: no block shortcut, the same through full passes
	idctIslow(&b, &q, dst[:], 8)
	if dst[0] != 255 {
		t.Errorf("idctIslow(DC 5200, AC10 1)[0] = %d, want 255", dst[0])
	}
	// DC 9000: pass 1 gives 36000, which the all-AC-zero shortcut (vpsllw)
	// wraps to -29536 (black) and the full pass saturates to 32767 (white).
	b = block{0: 9000}
	idctIslow(&b, &q, dst[:], 8)
	if dst[0] != 0 {
		t.Errorf("idctIslow(DC 9000)[0] = %d, want 0 (16-bit wrap)", dst[0])
	}
	b[8] = 1
	idctIslow(&b, &q, dst[:], 8)
	if dst[0] != 255 {
		t.Errorf("idctIslow(DC 9000, AC10 1)[0] = %d, want 255 (saturation)", dst[0])
	}
	var deq block
	deq[0] = 5200
	idctIslowC(&deq, dst[:], 8)
	if dst[0] != 0 {
		t.Errorf("idctIslowC(DC 5200)[0] = %d, want 0 (range-limit wrap)", dst[0])
	}
}
