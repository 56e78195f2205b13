package collide_test

import (
	"context"
	"fmt"

	"github.com/genquorum/genquorum/collide"
)

func ExampleCount() {
	s := collide.NewSet(64)
	for _, h := range []string{
		"ffd8b0b0f0e0c080", // four hashes: the second is 1 bit from the first,
		"ffd8b0b0f0e0c081", // the third 2 bits from the first (1 from the second),
		"ffd8b0b0f0e0c083", // the fourth far from all
		"0123456789abcdef",
	} {
		if err := s.AppendHex(h); err != nil {
			fmt.Println(err)
			return
		}
	}
	c, err := collide.Count(context.Background(), s, collide.Options{Tolerance: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pairs:", c.Pairs)
	for d := range c.Exact {
		fmt.Printf("distance <= %d: %d\n", d, c.AtMost(d))
	}
	fmt.Printf("rate <= 2: %.3f\n", c.Rate(2))
	// Output:
	// pairs: 6
	// distance <= 0: 0
	// distance <= 1: 2
	// distance <= 2: 3
	// rate <= 2: 0.500
}

func ExampleCountGroups() {
	// 3 prompts x 200 images, 64-bit hashes clustered around one random centre per prompt.
	s, bounds := collide.Clustered(3, 200, 64, 0.05, 1)
	c, err := collide.CountGroups(context.Background(), s, bounds, collide.Options{Tolerance: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("intra-group pairs:", c.Pairs)
	fmt.Println("within 2 bits:", c.AtMost(2), c.Exact)
	// Output:
	// intra-group pairs: 59700
	// within 2 bits: 2028 [41 418 1569]
}

func ExamplePairs() {
	s := collide.From64(64, []uint64{0b1011, 0b1010, 0xff00, 0b1011})
	err := collide.Pairs(context.Background(), s, nil, collide.Options{Tolerance: 1, Method: collide.BruteForce},
		func(p collide.Pair) bool {
			fmt.Printf("%d %d at %d\n", p.I, p.J, p.Distance)
			return true
		})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0 1 at 1
	// 0 3 at 0
	// 1 3 at 1
}

func ExampleClustered() {
	s, bounds := collide.Clustered(2, 3, 64, 0.1, 42)
	fmt.Println(s.Len(), s.Bits(), bounds)
	fmt.Println(s.Distance(0, 1) < 20, s.Distance(0, 3) > 10)
	// Output:
	// 6 64 [0 3 6]
	// true true
}
