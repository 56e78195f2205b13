package imghash

import (
	"math/rand/v2"
	"testing"
)

// TestDotPaths requires the assembly and pure-Go dot products to give identical bits,
// including when the int32 sum wraps.
func TestDotPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 600 {
		src := make([]uint8, n)
		k := make([]int32, n)
		for i := range n {
			src[i] = uint8(r.Uint32())
			switch r.IntN(3) {
			case 0:
				k[i] = int32(r.Uint32()) // any value: sums wrap
			default:
				k[i] = int32(r.IntN(1<<23)) - 1<<22 // Pillow's weight range
			}
		}
		want := dotSlow(src, k)
		if got := dotGeneric(src, k); got != want {
			t.Fatalf("n=%d: dotGeneric = %d, want %d", n, got, want)
		}
		if got := dot(src, k); got != want {
			t.Fatalf("n=%d: dot (asm %v) = %d, want %d", n, useAVX2, got, want)
		}
	}
}

func dotSlow(src []uint8, k []int32) int32 {
	var acc int32
	for i := range src {
		acc += int32(src[i]) * k[i]
	}
	return acc
}

// TestResizeAsmMatchesGeneric resizes random images with and without the assembly.
func TestResizeAsmMatchesGeneric(t *testing.T) {
	if !useAVX2 {
		t.Skip("no assembly path on this machine")
	}
	src := randBytes(300 * 200)
	defer func() { useAVX2, useMadd = true, true }()
	for _, sz := range [][2]int{{8, 8}, {9, 8}, {32, 32}, {64, 64}, {256, 256}, {301, 7}, {2, 3}, {1000, 9}} {
		useAVX2 = false
		want := Resize(nil, src, 300, 200, sz[0], sz[1])
		for _, madd := range []bool{false, true} {
			useAVX2, useMadd = true, madd
			got := Resize(nil, src, 300, 200, sz[0], sz[1])
			if string(got) != string(want) {
				t.Errorf("Resize to %v: assembly (madd %v) and pure Go differ", sz, madd)
			}
		}
	}
}

// TestLumaPaths requires the assembly and pure-Go luma to give identical bits.
func TestLumaPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		rgb := make([]uint8, 3*n)
		for i := range rgb {
			rgb[i] = uint8(r.Uint32())
		}
		if n == 299 { // extremes
			for i := range rgb {
				rgb[i] = 255
			}
		}
		want := make([]uint8, n)
		for i := range n {
			want[i] = uint8((19595*uint32(rgb[3*i]) + 38470*uint32(rgb[3*i+1]) + 7471*uint32(rgb[3*i+2]) + 0x8000) >> 16)
		}
		got := make([]uint8, n)
		luma(got, rgb)
		if string(got) != string(want) {
			t.Fatalf("n=%d: luma (asm %v) = %v, want %v", n, useAVX2, got, want)
		}
		lumaGeneric(got, rgb)
		if string(got) != string(want) {
			t.Fatalf("n=%d: lumaGeneric = %v, want %v", n, got, want)
		}
	}
}

// TestColorPrepPaths requires the assembly and pure-Go colour preparation to give identical
// luma and indexes, on random pixels and on pixels with tied channels.
func TestColorPrepPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 300 {
		rgb := make([]uint8, 3*n)
		for i := range rgb {
			rgb[i] = uint8(r.Uint32())
			if r.IntN(3) == 0 && i%3 > 0 { // ties with the previous channel
				rgb[i] = rgb[i-1]
			}
		}
		wl, wi := make([]uint8, n), make([]uint32, n)
		colorPrepGeneric(wl, wi, rgb)
		gl, gi := make([]uint8, n), make([]uint32, n)
		colorPrep(gl, gi, rgb)
		if string(gl) != string(wl) {
			t.Fatalf("n=%d: luma differs (asm %v)", n, useAVX2)
		}
		for i := range wi {
			if gi[i] != wi[i] {
				t.Fatalf("n=%d pixel %d %v: index %#x, want %#x (asm %v)", n, i, rgb[3*i:3*i+3], gi[i], wi[i], useAVX2)
			}
		}
		want := make([]uint8, n)
		lumaGeneric(want, rgb)
		if string(wl) != string(want) {
			t.Fatalf("n=%d: colorPrepGeneric luma differs from lumaGeneric", n)
		}
	}
}
