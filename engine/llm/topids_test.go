package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopIDsLongRows is TestTopIDsMatchesOneByOne on rows long enough for the vector skip of
// skipBelow (32 values at a time), with rare large values, ties, NaNs and infinities placed
// anywhere, also at chunk edges.
func TestTopIDsLongRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for trial := range 3000 {
		l := make([]float32, 1+rng.IntN(400))
		for i := range l {
			l[i] = float32(rng.NormFloat64())
		}
		hasNaN := false
		for range rng.IntN(4) {
			i := rng.IntN(len(l))
			switch rng.IntN(5) {
			case 0:
				l[i], hasNaN = float32(math.NaN()), true
			case 1:
				l[i] = float32(math.Inf(2*rng.IntN(2) - 1))
			case 2:
				l[i] = l[rng.IntN(len(l))] // a tie
			default:
				l[i] = float32(3 + rng.NormFloat64())
			}
		}
		hasNaN = slices.ContainsFunc(l, func(v float32) bool { return v != v })
		n := 1 + rng.IntN(6)
		got, nan := topIDsNaN(l, n)
		if want := topIDsOneByOne(l, n); !slices.Equal(got, want) || nan != hasNaN {
			t.Fatalf("trial %d (len %d, n %d): topIDsNaN = %v, %v; want %v, %v", trial, len(l), n, got, nan, want, hasNaN)
		}
	}
}

// TestSkipBelow checks that the skip never passes a value that is not below the threshold.
func TestSkipBelow(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	skipped := 0
	for trial := range 2000 {
		l := make([]float32, rng.IntN(300))
		for i := range l {
			l[i] = float32(rng.NormFloat64())
		}
		if len(l) > 0 && rng.IntN(2) == 0 {
			l[rng.IntN(len(l))] = float32(math.NaN())
		}
		thr := float32(rng.NormFloat64() + 2)
		i := 0
		if len(l) > 0 {
			i = rng.IntN(len(l))
		}
		j := skipBelow(l, i, thr)
		skipped += j - i
		if j < i || j > len(l) {
			t.Fatalf("trial %d: skipBelow from %d = %d (len %d)", trial, i, j, len(l))
		}
		for k := i; k < j; k++ {
			if !(l[k] < thr) {
				t.Fatalf("trial %d: skipBelow(%d) = %d passes l[%d] = %v >= %v", trial, i, j, k, l[k], thr)
			}
		}
	}
	t.Logf("%d values skipped", skipped)
}
