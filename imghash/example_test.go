package imghash_test

import (
	"fmt"

	"github.com/genquorum/genquorum/imghash"
)

// gradient returns a w x h RGB image whose red rises to the right and blue downwards.
func gradient(w, h int) imghash.Image {
	rgb := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = uint8(255*x/(w-1)), 40, uint8(255*y/(h-1))
		}
	}
	return imghash.Image{Width: w, Height: h, RGB: rgb}
}

func ExampleHasher_Compute() {
	img := gradient(64, 48)
	var hs imghash.Hasher
	hashes, err := hs.Compute(img, []imghash.Spec{
		{Kind: imghash.AverageHash, Size: 8},
		{Kind: imghash.DHash, Size: 8},
		{Kind: imghash.PHash, Size: 8},
		{Kind: imghash.ColorHash, Size: 3},
	})
	if err != nil {
		panic(err)
	}
	for _, h := range hashes {
		fmt.Println(h)
	}
	// Output:
	// 0707070f0f1f1f1f
	// ffffffffffffffff
	// aa77983f34186633
	// 00000008012
}

func ExampleAverage() {
	h, err := imghash.Average(gradient(64, 48), 8)
	if err != nil {
		panic(err)
	}
	fmt.Println(h, h.Len())
	// Output:
	// 0707070f0f1f1f1f 64
}

func ExampleParseHex() {
	a, _ := imghash.ParseHex("7f7f7fc744f8d050", 64)
	b, _ := imghash.ParseHex("7f7f7fc744f8d051", 64)
	d, _ := a.Distance(b)
	fmt.Println(d)

	c, _ := imghash.ParseHex("0b400018000", 14*3) // colorhash, binbits 3
	fmt.Println(c.Len(), c)
	// Output:
	// 1
	// 42 0b400018000
}

func ExampleResize() {
	// A 4x1 grey ramp resized to 2x1 with Pillow's LANCZOS.
	fmt.Println(imghash.Resize(nil, []uint8{0, 85, 170, 255}, 4, 1, 2, 1))
	// Output:
	// [46 209]
}
