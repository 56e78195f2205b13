package fingerprint_test

import (
	"fmt"

	"github.com/genquorum/genquorum/fingerprint"
)

func ExampleOfTokens() {
	a := fingerprint.OfTokens([]int32{1, 450, 4996})
	b := fingerprint.OfTokens([]int32{1, 450, 4997})
	d, _ := fingerprint.Distance(a, b)
	fmt.Println(len(a), d > 0, fingerprint.TokenScheme.MaxTolerance())
	// Output: 32 true 0
}
