package odds

import (
	"fmt"
	"math"
)

// Spot describes spot-checking: a task runs on one executor, and with probability Q (drawn
// from ledger randomness after the executor committed, so it cannot know) verifiers re-run it
// and an executor whose result is wrong is slashed. Collision is the probability that a
// cheater's wrong result still lands within tolerance of the honest one when it is checked
// (the Type II rate of its cheat: a seed guess's collision rate, a substitute's acceptance).
// Fee is what the executor earns for the task, Cost what honest execution costs it (the
// saving of a cheat that costs nothing), Penalty the stake it loses when caught. Amounts are
// in any one unit. Verifiers is the number of verifiers a check draws (the ledger's
// Params.SpotVerifiers): when a task is checked and they agree with the executor, the fee is
// shared among the 1 + Verifiers agreeing executors (the ledger rounds each share down and
// refunds the remainder); 0 keeps the whole fee with the executor. A caught executor is paid
// nothing.
type Spot struct {
	Q, Collision       float64
	Fee, Cost, Penalty float64
	Verifiers          int
}

// share is the executor's fee when its task is checked and it agrees with the verifiers.
func (s Spot) share() float64 { return s.Fee / float64(1+s.Verifiers) }

func (s Spot) check() error {
	if err := checkProb("q", s.Q); err != nil {
		return err
	}
	if err := checkProb("collision", s.Collision); err != nil {
		return err
	}
	for _, v := range []float64{s.Fee, s.Cost, s.Penalty} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%w: fee, cost and penalty must be finite and >= 0", ErrArgument)
		}
	}
	if s.Verifiers < 0 {
		return fmt.Errorf("%w: %d verifiers", ErrArgument, s.Verifiers)
	}
	return nil
}

// Catch returns the probability that one cheated task is caught: Q (1 - Collision).
func (s Spot) Catch() (float64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.Q * (1 - s.Collision), nil
}

// CatchWithin returns the probability that a node cheating on k tasks is caught at least once:
// 1 - (1 - Q (1 - Collision))^k, computed with log1p so small rates keep their precision.
func (s Spot) CatchWithin(k int) (float64, error) {
	c, err := s.Catch()
	if err != nil {
		return 0, err
	}
	if k < 0 {
		return 0, fmt.Errorf("%w: %d tasks", ErrArgument, k)
	}
	if c == 1 {
		return 1, nil
	}
	return -math.Expm1(float64(k) * math.Log1p(-c)), nil
}

// Expected returns the expected earnings per task of an honest executor, (1 - Q) Fee + Q S -
// Cost, and of a cheater whose cheat costs nothing, (1 - Q) Fee + Q Collision S - c Penalty,
// with S = Fee / (1 + Verifiers) its share when checked and c = Catch(). Cheating pays on
// average exactly when Cost > c (S + Penalty). With Verifiers 0: Fee - Cost and (1 - c) Fee -
// c Penalty.
func (s Spot) Expected() (honest, cheat float64, err error) {
	c, err := s.Catch()
	if err != nil {
		return 0, 0, err
	}
	sh := s.share()
	return (1-s.Q)*s.Fee + s.Q*sh - s.Cost, (1-s.Q)*s.Fee + s.Q*s.Collision*sh - c*s.Penalty, nil
}

// MinQ returns the least check probability at which cheating does not pay on average:
// Cost / ((1 - Collision)(S + Penalty)) with S = Fee / (1 + Verifiers), and an error
// wrapping ErrUnreachable when that is
// above 1 (no spot-check rate deters the cheat: raise the penalty or replicate every task).
// Q is ignored.
func (s Spot) MinQ() (float64, error) {
	s.Q = 0
	if err := s.check(); err != nil {
		return 0, err
	}
	d := (1 - s.Collision) * (s.share() + s.Penalty)
	if s.Cost == 0 {
		return 0, nil
	}
	if d == 0 || s.Cost/d > 1 {
		return 0, fmt.Errorf("%w: a cheat saving %g against fee %g and penalty %g at collision %g is not deterred by any q",
			ErrUnreachable, s.Cost, s.Fee, s.Penalty, s.Collision)
	}
	return s.Cost / d, nil
}
