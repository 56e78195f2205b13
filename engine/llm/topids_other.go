//go:build !amd64 || noasm

package llm

// skipBelow returns an index j >= i with every l[i:j] below thr: here i (topIDsNaN's own
// eight-at-a-time skip does the work).
func skipBelow(l []float32, i int, thr float32) int { return i }
