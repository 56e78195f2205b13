package hashscan_test

import (
	"context"
	"fmt"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imghash"
)

func ExampleScan() {
	specs := []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.ColorHash, Size: 3}}
	res, err := hashscan.Scan(context.Background(),
		[]string{"../testdata/imagehash/images/p01_astronaut.png", "../testdata/imagehash/images/p03_chelsea.png"},
		specs, hashscan.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		if r.Err != nil {
			fmt.Println(r.File, r.Err)
			continue
		}
		fmt.Println(r.File, r.Hashes[0], r.Hashes[1])
	}
	// Output:
	// ../testdata/imagehash/images/p01_astronaut.png 7f7f7fc744f8d050 0b400018000
	// ../testdata/imagehash/images/p03_chelsea.png 82808e4b09a373e7 02c00000000
}
