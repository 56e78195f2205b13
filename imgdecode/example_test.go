package imgdecode_test

import (
	"fmt"
	"log"

	"github.com/genquorum/genquorum/imgdecode"
)

func Example() {
	im, err := imgdecode.DecodeFile("../testdata/imagehash/images/p13_rose.jpg", imgdecode.Options{})
	if err != nil {
		log.Fatal(err)
	}
	gray, rgb := im.Gray(), im.RGB() // Pillow 9.4 gives the same bytes
	fmt.Println(im.Mode, im.Width, im.Height)
	fmt.Println("L:", gray[:4])
	fmt.Println("RGB:", rgb[:6])
	// Output:
	// RGB 70 46
	// L: [47 48 51 52]
	// RGB: [48 47 45 49 48 46]
}

func ExampleDecodeFile_grey() {
	im, err := imgdecode.DecodeFile("../testdata/imagehash/images/p25_camera_gray16.png", imgdecode.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// 16-bit grey is Pillow mode "I"; L clips each sample at 255, and
	// grey modes have no RGB plane.
	fmt.Println(im.Mode, im.Width, im.Height, len(im.Gray()), im.RGB() == nil)
	// Output:
	// I 512 512 262144 true
}

func ExampleDecode_tooLarge() {
	_, err := imgdecode.DecodeFile("../testdata/imagehash/images/p13_rose.jpg", imgdecode.Options{MaxPixels: 1000})
	fmt.Println(err)
	// Output:
	// imgdecode: image is 70x46 (3220 pixels), over the limit of 1000
}
