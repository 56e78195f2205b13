package study

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxSeeds bounds a seed list.
const MaxSeeds = 100000

// ParseSeeds parses "42", "1-100" or "1,5,9" (and combinations like "1-3,7").
func ParseSeeds(s string) ([]uint64, error) {
	var seeds []uint64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("study: bad seed %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("study: bad seed range %q", part)
			}
		}
		if b-a >= MaxSeeds || len(seeds)+int(b-a) >= MaxSeeds {
			return nil, fmt.Errorf("study: seed list %q: over %d seeds", s, MaxSeeds)
		}
		for v := a; v <= b; v++ {
			seeds = append(seeds, v)
		}
	}
	return seeds, nil
}
