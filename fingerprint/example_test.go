package fingerprint_test

import (
	"bytes"
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

// A text artifact travels as a TextRecord: whoever fetches it recomputes the token fingerprint
// from the ids and compares it with the accepted one.
func ExampleTextRecord() {
	rec := fingerprint.TextRecord{Text: []byte(" Hello world"), Tokens: []int32{15043, 3186}}
	b, _ := rec.MarshalBinary() // what a node stores and serves; its SHA-256 is revealed
	var got fingerprint.TextRecord
	if err := got.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
	}
	accepted := fingerprint.OfTokens([]int32{15043, 3186})
	fmt.Printf("%d bytes, %q, ids %v, matches %v\n", len(b), got.Text, got.Tokens, bytes.Equal(got.Fingerprint(), accepted))
	// Output: 33 bytes, " Hello world", ids [15043 3186], matches true
}
