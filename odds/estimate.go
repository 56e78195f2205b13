package odds

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Estimate is an estimate of a success probability from observed counts, with a two-sided
// confidence interval [Lo, Hi].
type Estimate struct {
	Successes, Trials int
	// P is the observed rate Successes/Trials.
	P float64
	// Lo and Hi bound the interval at the given Confidence (e.g. 0.95).
	Lo, Hi     float64
	Confidence float64
}

func checkCounts(successes, trials int, confidence float64) error {
	if trials < 1 || successes < 0 || successes > trials {
		return fmt.Errorf("%w: %d successes in %d trials", ErrArgument, successes, trials)
	}
	if !(confidence > 0 && confidence < 1) {
		return fmt.Errorf("%w: confidence %v, want in (0, 1)", ErrArgument, confidence)
	}
	return nil
}

// Wilson returns the Wilson score interval for a success probability from successes out of
// trials, at the two-sided confidence level (0 < confidence < 1):
//
//	z = Phi^-1((1+confidence)/2)
//	center = (phat + z^2/(2n)) / (1 + z^2/n)
//	half = z/(1 + z^2/n) sqrt(phat(1-phat)/n + z^2/(4n^2))
//
// The interval is clamped to [0, 1] and is exactly 0 (1) at its lower (upper) end when no
// trial failed (succeeded). Unlike the normal approximation it behaves at counts near 0 or n,
// the usual case for consensus rates near 100%.
func Wilson(successes, trials int, confidence float64) (Estimate, error) {
	if err := checkCounts(successes, trials, confidence); err != nil {
		return Estimate{}, err
	}
	n := float64(trials)
	ph := float64(successes) / n
	z := math.Sqrt2 * math.Erfinv(confidence)
	z2 := z * z
	den := 1 + z2/n
	center := (ph + z2/(2*n)) / den
	half := z / den * math.Sqrt(ph*(1-ph)/n+z2/(4*n*n))
	e := Estimate{Successes: successes, Trials: trials, P: ph, Confidence: confidence,
		Lo: max(0, center-half), Hi: min(1, center+half)}
	if successes == 0 {
		e.Lo = 0
	}
	if successes == trials {
		e.Hi = 1
	}
	return e, nil
}

// ClopperPearson returns the exact (Clopper-Pearson) interval: the beta quantiles
// Lo = B^-1(a/2; s, n-s+1) and Hi = B^-1(1-a/2; s+1, n-s) with a = 1-confidence, and Lo = 0
// for s = 0, Hi = 1 for s = n. It is conservative: its coverage is at least the confidence.
func ClopperPearson(successes, trials int, confidence float64) (Estimate, error) {
	if err := checkCounts(successes, trials, confidence); err != nil {
		return Estimate{}, err
	}
	s, n := float64(successes), float64(trials)
	a := 1 - confidence
	e := Estimate{Successes: successes, Trials: trials, P: s / n, Confidence: confidence, Hi: 1}
	if successes > 0 {
		e.Lo = distuv.Beta{Alpha: s, Beta: n - s + 1}.Quantile(a / 2)
	}
	if successes < trials {
		e.Hi = distuv.Beta{Alpha: s + 1, Beta: n - s}.Quantile(1 - a/2)
	}
	return e, nil
}
