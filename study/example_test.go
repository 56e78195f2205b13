package study_test

import (
	"fmt"

	"github.com/genquorum/genquorum/study"
)

// Seed lists as the study commands' --seed takes them: single seeds, ranges, or both.
func ExampleParseSeeds() {
	seeds, err := study.ParseSeeds("1-3,7")
	fmt.Println(seeds, err)
	_, err = study.ParseSeeds("5-1")
	fmt.Println(err)
	// Output:
	// [1 2 3 7] <nil>
	// study: bad seed range "5-1"
}
