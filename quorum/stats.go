package quorum

import (
	"bytes"
	"fmt"
	"math"
	"slices"
)

// GroupStats are the statistics of one group of outputs of a task (Table 1 of the paper).
// All fields are integers; ratios are left to the caller or to Pool.
type GroupStats struct {
	// Members is the number of outputs in the group.
	Members int
	// Mode is a copy of the most frequent exact value (ties: the smallest, big-endian unsigned).
	Mode []byte
	// ModeCount is the number of members equal to Mode.
	ModeCount int
	// Tolerances are the tolerances the outliers were counted at, as given to Stats.
	Tolerances []int
	// Outliers[i] is the number of members whose distance to Mode is more than Tolerances[i].
	Outliers []int
	// DistanceSum is the sum of the distances to Mode of the members not equal to it (the
	// outliers at tolerance 0, Members-ModeCount of them). aDist = DistanceSum/(Members-ModeCount).
	DistanceSum int
	// MaxDistance is the largest distance of a member to Mode.
	MaxDistance int
}

// Consensus returns the consensus at Tolerances[i] as the fraction agreeing/Members, in
// integers: the number of members within Tolerances[i] of the mode, and Members.
func (s GroupStats) Consensus(i int) (agreeing, members int) {
	return s.Members - s.Outliers[i], s.Members
}

// Stats returns the statistics of the group fps (all of one length, at least one) at each of
// the given tolerances (each >= 0, in any order). Integer arithmetic only; O(len(fps)^2) time.
// Errors wrap ErrEmpty, ErrLength or ErrTolerance.
func Stats(fps [][]byte, tolerances []int) (GroupStats, error) {
	if len(fps) == 0 {
		return GroupStats{}, fmt.Errorf("quorum: stats: %w", ErrEmpty)
	}
	if err := checkSameLength(fps); err != nil {
		return GroupStats{}, fmt.Errorf("quorum: stats: %w", err)
	}
	for _, t := range tolerances {
		if t < 0 {
			return GroupStats{}, fmt.Errorf("quorum: stats: %w %d", ErrTolerance, t)
		}
	}
	mode, count := 0, 0
	for i, c := range fps {
		if i > 0 && bytes.Equal(c, fps[mode]) {
			continue
		}
		k := 0
		for _, f := range fps {
			if bytes.Equal(c, f) {
				k++
			}
		}
		if k > count || (k == count && bytes.Compare(c, fps[mode]) < 0) {
			mode, count = i, k
		}
	}
	s := GroupStats{
		Members:    len(fps),
		Mode:       bytes.Clone(fps[mode]),
		ModeCount:  count,
		Tolerances: slices.Clone(tolerances),
		Outliers:   make([]int, len(tolerances)),
	}
	for _, f := range fps {
		d := Distance(s.Mode, f)
		s.DistanceSum += d
		s.MaxDistance = max(s.MaxDistance, d)
		for i, t := range tolerances {
			if d > t {
				s.Outliers[i]++
			}
		}
	}
	return s, nil
}

// Pool accumulates the statistics of many groups the way the paper pools Table 1: consensus at
// t is 1 - (sum of outliers at t)/(sum of members), and aDist is the mean distance over all the
// tolerance-0 outliers of all groups. The zero Pool is ready to use; the first Add fixes the
// tolerances. A Pool is not safe for concurrent use. Its ratios are float64: it serves reports,
// not the ledger.
type Pool struct {
	groups, members, exactOutliers, distanceSum, maxDistance int
	tolerances, outliers                                     []int
}

// Add adds the statistics of one group. It returns an error if s was counted at other
// tolerances than the groups already added.
func (p *Pool) Add(s GroupStats) error {
	if len(s.Outliers) != len(s.Tolerances) {
		return fmt.Errorf("quorum: pool: %d outlier counts for %d tolerances", len(s.Outliers), len(s.Tolerances))
	}
	if p.groups == 0 {
		p.tolerances = slices.Clone(s.Tolerances)
		p.outliers = make([]int, len(s.Tolerances))
	} else if !slices.Equal(p.tolerances, s.Tolerances) {
		return fmt.Errorf("quorum: pool: group at tolerances %v, pool at %v", s.Tolerances, p.tolerances)
	}
	p.groups++
	p.members += s.Members
	p.exactOutliers += s.Members - s.ModeCount
	p.distanceSum += s.DistanceSum
	p.maxDistance = max(p.maxDistance, s.MaxDistance)
	for i, o := range s.Outliers {
		p.outliers[i] += o
	}
	return nil
}

// Groups returns the number of groups added.
func (p *Pool) Groups() int { return p.groups }

// Members returns the total number of members of the groups added.
func (p *Pool) Members() int { return p.members }

// Tolerances returns the tolerances of the pool (a copy).
func (p *Pool) Tolerances() []int { return slices.Clone(p.tolerances) }

// Outliers returns the total number of outliers at Tolerances()[i].
func (p *Pool) Outliers(i int) int { return p.outliers[i] }

// ExactOutliers returns the total number of members not equal to their group's mode.
func (p *Pool) ExactOutliers() int { return p.exactOutliers }

// MaxDistance returns the largest distance of a member to its group's mode.
func (p *Pool) MaxDistance() int { return p.maxDistance }

// Consensus returns 1 - Outliers(i)/Members(), or NaN for an empty pool.
func (p *Pool) Consensus(i int) float64 {
	if p.members == 0 {
		return math.NaN()
	}
	return float64(p.members-p.outliers[i]) / float64(p.members)
}

// ADist returns the mean distance to their group's mode of all members not equal to it, or 0
// when there are none.
func (p *Pool) ADist() float64 {
	if p.exactOutliers == 0 {
		return 0
	}
	return float64(p.distanceSum) / float64(p.exactOutliers)
}
