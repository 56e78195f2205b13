//go:build !noasm

package llm

// skipBelowAVX returns the first j >= i, in steps of 32, such that l[j:j+32] holds a value
// that is not below thr (or a NaN), or where fewer than 32 values remain.
//
//go:noescape
func skipBelowAVX(l *float32, n, i int, thr float32) int

// skipBelow returns an index j >= i with every l[i:j] below thr (none NaN): where topIDsNaN's
// scan may resume. thr must not be NaN.
func skipBelow(l []float32, i int, thr float32) int {
	if !useAVX || len(l)-i < 32 {
		return i
	}
	return skipBelowAVX(&l[0], len(l), i, thr)
}
