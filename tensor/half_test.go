package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloat16Conversion(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},                     // largest finite
		{65519, 0x7bff},                     // just below the halfway point to 65536
		{65520, 0x7c00},                     // halfway: ties to even rounds to Inf
		{0x1p-14, 0x0400},                   // smallest normal
		{0x1p-24, 0x0001},                   // smallest subnormal
		{0x1p-25, 0x0000},                   // halfway to the smallest subnormal: even is 0
		{0x1.8p-25, 0x0001},                 // above halfway
		{0x3p-24, 0x0003},                   // subnormal 3
		{0.1, 0x2e66},                       // 0.0999755859375
		{1.0 / 3, 0x3555},                   // 0.333251953125
		{1 + 0x1p-11, 0x3c00},               // tie between 1 and 1+2^-10: even is 1
		{1 + 0x3p-11, 0x3c02},               // tie between 1+2^-10 and 1+2^-9: even is 1+2^-9
		{float32(math.Inf(1)), 0x7c00},      //
		{float32(math.Inf(-1)), 0xfc00},     //
		{float32(math.NaN()), 0x7e00},       // quiet NaN
		{1e-10, 0x0000},                     // underflow
		{-1e10, 0xfc00},                     // overflow
		{6.103515625e-05 - 0x1p-25, 0x0400}, // rounds up into the smallest normal
	}
	for _, tt := range tests {
		if got := Float32ToFloat16(tt.in); got != tt.want {
			t.Errorf("Float32ToFloat16(%v) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
	// Every finite half converts to float32 and back unchanged.
	for h := range 0x10000 {
		f := Float16ToFloat32(uint16(h))
		if f != f {
			continue
		}
		if back := Float32ToFloat16(f); back != uint16(h) {
			t.Fatalf("round trip of %#04x through %v gives %#04x", h, f, back)
		}
	}
}

func TestBFloat16AndTF32Rounding(t *testing.T) {
	tests := []struct {
		f    Format
		in   float32
		want float32
	}{
		{BF16, 1, 1},
		{BF16, 1.0 / 3, math.Float32frombits(0x3eab0000)},
		{BF16, 0.1, math.Float32frombits(0x3dcd0000)},
		{BF16, 1 + 0x1p-8, 1},                      // tie: even is 1
		{BF16, 1 + 0x3p-8, 1 + 0x1p-6},             // tie: even is 1+2^-6
		{BF16, 3.4e38, float32(math.Inf(1))},       // carry out of the largest finite value
		{TF32, 1 + 0x1p-11, 1},                     // tie
		{TF32, 1 + 0x1p-11 + 0x1p-20, 1 + 0x1p-10}, // above tie
		{F16, 1 + 0x1p-12, 1},
		{F32, 0.1, 0.1},
	}
	for _, tt := range tests {
		if got := tt.f.Round(tt.in); math.Float32bits(got) != math.Float32bits(tt.want) {
			t.Errorf("%v.Round(%v) = %v, want %v", tt.f, tt.in, got, tt.want)
		}
	}
	if got := Float32ToBFloat16(0.1); got != 0x3dcd {
		t.Errorf("Float32ToBFloat16(0.1) = %#04x, want 0x3dcd", got)
	}
	if got := BFloat16ToFloat32(0x3f80); got != 1 {
		t.Errorf("BFloat16ToFloat32(0x3f80) = %v, want 1", got)
	}
	// Rounding is to nearest: the error is at most half a unit in the last place (for F16
	// below 2^-14, half the subnormal step).
	r := rand.New(rand.NewPCG(7, 8))
	for _, f := range []Format{TF32, F16, BF16} {
		for range 10000 {
			x := float32(r.NormFloat64())
			bound := f.UnitRoundoff() * math.Abs(float64(x)) * 1.0000001
			if f == F16 {
				bound = math.Max(bound, 0x1p-25) // half a subnormal step
			}
			if e := math.Abs(float64(f.Round(x)) - float64(x)); e > bound {
				t.Fatalf("%v.Round(%v) = %v: error %g above the unit roundoff", f, x, f.Round(x), e)
			}
		}
	}
}

func TestProfileSumDefinitions(t *testing.T) {
	xs := []float32{1e8, 1, -1e8, 1, 3, 5, 7, 9}
	tests := []struct {
		p    Profile
		want float32
	}{
		// ((((1e8 + 1) - 1e8) + 1) + 3 ...: 1e8+1 rounds to 1e8.
		{Exact, 25},
		// Two lanes: (1e8 - 1e8 + 3 + 7) + (1 + 1 + 5 + 9) = 10 + 16.
		{Profile{Name: "l2", Lanes: 2}, 26},
		// Chunks of 3: (1e8+1-1e8 = 0), (1+3+5 = 9), (7+9 = 16).
		{Profile{Name: "c3", Chunk: 3}, 25},
		{Profile{Name: "c2", Chunk: 2, Combine: Pairwise}, 24},
		// Four lanes (1e8+3, 1+5, -1e8+7, 1+9) folded: (1e8+3 - 1e8+7) + (6 + 10), with
		// 1e8+3 = 1e8 and -1e8+7 = -99999992 in float32.
		{Profile{Name: "l4f", Lanes: 4, Combine: Folded}, 24},
	}
	for _, tt := range tests {
		if got := tt.p.Sum(xs); got != tt.want {
			t.Errorf("%s.Sum(%v) = %v, want %v", tt.p.Name, xs, got, tt.want)
		}
	}
	for _, p := range Profiles() {
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
		got, err := ProfileByName(p.Name)
		if err != nil || got != p {
			t.Errorf("ProfileByName(%q) = %v, %v", p.Name, got.Name, err)
		}
	}
	if _, err := ProfileByName("no-such"); err == nil {
		t.Error("ProfileByName(no-such) succeeded")
	}
	bad := []Profile{{}, {Name: "x", Lanes: 2, Chunk: 4}, {Name: "x", Lanes: -1}, {Name: "x", Input: 9}}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", p)
		}
	}
}
