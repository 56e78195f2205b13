package odds

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/genquorum/genquorum/quorum"
)

// prec is the precision of the big.Float arithmetic, in bits. 256 bits leave a relative error
// below 2^-240 after thousands of operations, far below float64's 2^-53.
const prec = 256

var (
	// ErrArgument reports an argument out of its domain (a probability outside [0, 1], a
	// negative count, an invalid rule).
	ErrArgument = errors.New("odds: invalid argument")
	// ErrUnreachable reports that no verifier count in the searched range reaches the target.
	ErrUnreachable = errors.New("odds: target unreachable")
)

// Tail is a binomial tail and its complement.
type Tail struct {
	// N is the number of trials (verifiers) and Need the number of successes asked for.
	N, Need int
	// P is the probability of at least Need successes; Q = 1 - P, computed from its own terms
	// so that it stays accurate when tiny. Both are correctly rounded to within about one ulp;
	// either may underflow to 0 when below about 1e-308 (see Log10Q).
	P, Q float64
	// Log10Q is log10(Q), finite even where Q underflows (-Inf when Q is exactly 0).
	Log10Q float64
}

func newFloat() *big.Float { return new(big.Float).SetPrec(prec) }

// checkProb returns an error unless 0 <= p <= 1.
func checkProb(name string, p float64) error {
	if !(p >= 0 && p <= 1) { // also catches NaN
		return fmt.Errorf("%w: %s = %v, want a probability in [0, 1]", ErrArgument, name, p)
	}
	return nil
}

// prob is a probability p held with its complement q = 1-p, both at prec bits, so that q
// keeps its relative accuracy when p is near 1.
type prob struct{ p, q *big.Float }

// floatProb returns the exact binary value of p and 1-p (rounded to prec bits only when p is
// below 2^-200).
func floatProb(p float64) prob {
	bp := newFloat().SetFloat64(p)
	return prob{bp, newFloat().Sub(newFloat().SetInt64(1), bp)}
}

// ratProb returns p and 1-p, each rounded once from the exact rational.
func ratProb(p *big.Rat) prob {
	q := new(big.Rat).Sub(big.NewRat(1, 1), p)
	return prob{newFloat().SetRat(p), newFloat().SetRat(q)}
}

// checkRat returns an error unless p is a probability.
func checkRat(name string, p *big.Rat) error {
	if p == nil || p.Sign() < 0 || p.Cmp(big.NewRat(1, 1)) > 0 {
		return fmt.Errorf("%w: %s = %v, want a probability in [0, 1]", ErrArgument, name, p)
	}
	return nil
}

// bigTail returns P(X >= k) and P(X < k) for X ~ Binomial(n, p), exactly up to prec-bit
// rounding. n >= 0; any k; 0 <= p <= 1.
func bigTail(n, k int, pr prob) (upper, lower *big.Float) {
	p, q := pr.p, pr.q
	upper, lower = newFloat(), newFloat()
	switch {
	case k <= 0:
		upper.SetInt64(1)
		return upper, lower
	case k > n:
		lower.SetInt64(1)
		return upper, lower
	case p.Sign() == 0: // X = 0 < k
		lower.SetInt64(1)
		return upper, lower
	}
	if q.Sign() == 0 { // X = n >= k
		upper.SetInt64(1)
		return upper, lower
	}
	ratio := newFloat().Quo(p, q)
	term := pow(q, n)
	num, den := newFloat(), newFloat()
	for j := 0; j <= n; j++ {
		if j < k {
			lower.Add(lower, term)
		} else {
			upper.Add(upper, term)
		}
		if j == n {
			break
		}
		term.Mul(term, num.SetInt64(int64(n-j)))
		term.Quo(term, den.SetInt64(int64(j+1)))
		term.Mul(term, ratio)
	}
	return upper, lower
}

// pow returns x^n for n >= 0 by repeated squaring.
func pow(x *big.Float, n int) *big.Float {
	r := newFloat().SetInt64(1)
	b := newFloat().Set(x)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r.Mul(r, b)
		}
		b.Mul(b, b)
	}
	return r
}

// log10 returns log10(x) for x >= 0, finite for any non-zero big.Float.
func log10(x *big.Float) float64 {
	if x.Sign() == 0 {
		return math.Inf(-1)
	}
	mant := newFloat()
	exp := x.MantExp(mant) // x = mant * 2^exp, 0.5 <= mant < 1
	m, _ := mant.Float64()
	return math.Log10(m) + float64(exp)*math.Log10(2)
}

func makeTail(n, need int, upper, lower *big.Float) Tail {
	t := Tail{N: n, Need: need, Log10Q: log10(lower)}
	t.P, _ = upper.Float64()
	t.Q, _ = lower.Float64()
	return t
}

// AtLeast returns the probability of at least k successes in n independent trials that each
// succeed with probability p, and its complement. n >= 0, 0 <= p <= 1; k may be any integer
// (k <= 0: P = 1; k > n: P = 0).
func AtLeast(n, k int, p float64) (Tail, error) {
	if n < 0 {
		return Tail{}, fmt.Errorf("%w: n = %d trials", ErrArgument, n)
	}
	if err := checkProb("p", p); err != nil {
		return Tail{}, err
	}
	up, lo := bigTail(n, k, floatProb(p))
	return makeTail(n, k, up, lo), nil
}

// AtLeastRat is AtLeast for a rational p, such as a decimal typed by a user (0.999999 is not a
// float64, and the nearest float64 moves 1-p by 1e-11 relative; AtLeastRat does not).
func AtLeastRat(n, k int, p *big.Rat) (Tail, error) {
	if n < 0 {
		return Tail{}, fmt.Errorf("%w: n = %d trials", ErrArgument, n)
	}
	if err := checkRat("p", p); err != nil {
		return Tail{}, err
	}
	up, lo := bigTail(n, k, ratProb(p))
	return makeTail(n, k, up, lo), nil
}

// Correct returns the probability that n verifiers, each correct with probability p, reach a
// correct verdict under rule: at least rule.Need(n) of them are correct (Type I). Q is the
// probability of no verdict or a wrong one.
func Correct(n int, p float64, rule quorum.Rule) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if n < 1 {
		return Tail{}, fmt.Errorf("%w: n = %d verifiers, want at least 1", ErrArgument, n)
	}
	return AtLeast(n, rule.Need(n), p)
}

// CorrectRat is Correct for a rational p.
func CorrectRat(n int, p *big.Rat, rule quorum.Rule) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if n < 1 {
		return Tail{}, fmt.Errorf("%w: n = %d verifiers, want at least 1", ErrArgument, n)
	}
	return AtLeastRat(n, rule.Need(n), p)
}

func checkRule(rule quorum.Rule) error {
	if !rule.Valid() {
		return fmt.Errorf("%w: rule %v", ErrArgument, rule)
	}
	return nil
}

// PlanOptions bound the search of Plan.
type PlanOptions struct {
	// Min and Max bound the verifier counts tried (defaults 1 and 1000).
	Min, Max int
	// Odd restricts the search to odd counts (an even count never helps a majority: n = 2j
	// needs j+1 votes, as n = 2j+1 does, with one verifier more to fail).
	Odd bool
}

// Plan returns the smallest verifier count n in [opts.Min, opts.Max] (odd only, if asked) whose
// probability of a correct verdict is at least target, with that probability. If none
// reaches it, Plan returns the best count seen and an error wrapping ErrUnreachable.
//
// The comparison P >= target is made exactly, on the 256-bit tail, as Q <= 1 - target.
func Plan(p, target float64, rule quorum.Rule, opts PlanOptions) (Tail, error) {
	if err := checkProb("p", p); err != nil {
		return Tail{}, err
	}
	return plan(floatProb(p), target, rule, opts)
}

// PlanRat is Plan for a rational p.
func PlanRat(p *big.Rat, target float64, rule quorum.Rule, opts PlanOptions) (Tail, error) {
	if err := checkRat("p", p); err != nil {
		return Tail{}, err
	}
	return plan(ratProb(p), target, rule, opts)
}

func plan(bp prob, target float64, rule quorum.Rule, opts PlanOptions) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if err := checkProb("target", target); err != nil {
		return Tail{}, err
	}
	lo, hi := opts.Min, opts.Max
	if lo == 0 {
		lo = 1
	}
	if hi == 0 {
		hi = 1000
	}
	if lo < 1 || hi < lo {
		return Tail{}, fmt.Errorf("%w: verifier range [%d, %d]", ErrArgument, lo, hi)
	}
	maxQ := newFloat().Sub(newFloat().SetInt64(1), newFloat().SetFloat64(target))
	var best Tail
	var bestQ *big.Float
	for n := lo; n <= hi; n++ {
		if opts.Odd && n%2 == 0 {
			continue
		}
		need := rule.Need(n)
		up, q := bigTail(n, need, bp)
		if q.Cmp(maxQ) <= 0 {
			return makeTail(n, need, up, q), nil
		}
		if bestQ == nil || q.Cmp(bestQ) < 0 {
			best, bestQ = makeTail(n, need, up, q), q
		}
	}
	if bestQ == nil {
		return Tail{}, fmt.Errorf("%w: no odd count in [%d, %d]", ErrArgument, lo, hi)
	}
	return best, fmt.Errorf("%w: best n = %d gives P = %.12g < %v under %v, n in [%d, %d]",
		ErrUnreachable, best.N, best.P, target, rule, lo, hi)
}
