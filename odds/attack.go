package odds

import (
	"fmt"
	"math/big"

	"github.com/genquorum/genquorum/quorum"
)

// Collusion returns the probability that m colluders among n verifiers get a wrong value W
// accepted under rule.
//
// Model: the m colluders all submit the same wrong value W, far (more than twice the
// tolerance) from the true result. Each of the n-m honest verifiers independently submits a
// result within tolerance of the true one with probability p; otherwise, with probability
// (1-p)c its wrong result lands within tolerance of W (c is the collision rate of unrelated
// outputs, see Guess; c = 0 when honest errors never meet W), and elsewhere with probability
// (1-p)(1-c). W is accepted when its support reaches need = rule.Need(n):
//
//	P = P(m + X >= need),  X ~ Binomial(n-m, (1-p)c)
//
// With c = 0 this is 1 when m >= need and 0 otherwise. The returned Tail has N = n-m honest
// verifiers and Need = need-m of them required to side with W.
func Collusion(n, m int, p, c float64, rule quorum.Rule) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if n < 1 || m < 0 || m > n {
		return Tail{}, fmt.Errorf("%w: %d colluders among %d verifiers", ErrArgument, m, n)
	}
	if err := checkProb("p", p); err != nil {
		return Tail{}, err
	}
	if err := checkProb("c", c); err != nil {
		return Tail{}, err
	}
	need := rule.Need(n)
	up, lo := bigTail(n-m, need-m, errorJoins(p, c))
	return makeTail(n-m, need-m, up, lo), nil
}

// Capture returns the probability that verifiers drawn at random capture the verdict: n of
// population nodes are drawn without replacement, colluders of which collude, and at least
// rule.Need(n) colluders are drawn (hypergeometric tail, computed exactly in rationals). Use
// AtLeast(n, rule.Need(n), f) for an unbounded population with colluding fraction f.
func Capture(population, colluders, n int, rule quorum.Rule) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if population < 1 || colluders < 0 || colluders > population || n < 1 || n > population {
		return Tail{}, fmt.Errorf("%w: %d drawn of %d nodes, %d colluding", ErrArgument, n, population, colluders)
	}
	need := rule.Need(n)
	up, lo := new(big.Int), new(big.Int)
	var a, b big.Int
	for k := 0; k <= n; k++ {
		if k > colluders || n-k > population-colluders {
			continue
		}
		a.Binomial(int64(colluders), int64(k))
		b.Binomial(int64(population-colluders), int64(n-k))
		a.Mul(&a, &b)
		if k >= need {
			up.Add(up, &a)
		} else {
			lo.Add(lo, &a)
		}
	}
	total := new(big.Int).Binomial(int64(population), int64(n))
	ratio := func(x *big.Int) *big.Float {
		f := newFloat().SetInt(x)
		return f.Quo(f, newFloat().SetInt(total))
	}
	return makeTail(n, need, ratio(up), ratio(lo)), nil
}

// Guess returns the probability that a guessed result is accepted (the paper's Type II
// error): a node that skips the work submits a guess G, k colluders (0 <= k < n) submit G too,
// and the other n-1-k verifiers are honest.
//
// Model: G lands within tolerance of the true result with probability c, the collision rate
// measured by comparing many same-prompt, different-seed outputs (the paper: c < 0.0267% for
// aHash at tolerance 2). If it does, G is accepted with the honest majority: its support is
// k+1 plus the honest verifiers correct with probability p. If it does not, it can only win as
// a colluded wrong value (Collusion's model: honest errors land within tolerance of G with
// probability c). With need = rule.Need(n) and h = n-1-k honest verifiers:
//
//	P = c P(Bin(h, p) >= need-1-k) + (1-c) P(Bin(h, (1-p)c) >= need-1-k)
//
// Alone (k = 0) with n = 1, P = 1: an unreplicated task accepts any guess. The returned Tail
// has N = h and Need = need-1-k.
func Guess(n, k int, p, c float64, rule quorum.Rule) (Tail, error) {
	if err := checkRule(rule); err != nil {
		return Tail{}, err
	}
	if n < 1 || k < 0 || k >= n {
		return Tail{}, fmt.Errorf("%w: guesser with %d colluders among %d verifiers", ErrArgument, k, n)
	}
	if err := checkProb("p", p); err != nil {
		return Tail{}, err
	}
	if err := checkProb("c", c); err != nil {
		return Tail{}, err
	}
	h, need := n-1-k, rule.Need(n)-1-k
	bc := newFloat().SetFloat64(c)
	notC := newFloat().Sub(newFloat().SetInt64(1), bc)
	hitUp, hitLo := bigTail(h, need, floatProb(p))
	missUp, missLo := bigTail(h, need, errorJoins(p, c))
	up := newFloat().Mul(bc, hitUp)
	up.Add(up, newFloat().Mul(notC, missUp))
	lo := newFloat().Mul(bc, hitLo)
	lo.Add(lo, newFloat().Mul(notC, missLo))
	return makeTail(h, need, up, lo), nil
}

// errorJoins returns the probability (1-p)c that an honest verifier errs onto a given wrong
// value, and its complement, in prec-bit arithmetic.
func errorJoins(p, c float64) prob {
	x := newFloat().Sub(newFloat().SetInt64(1), newFloat().SetFloat64(p))
	x.Mul(x, newFloat().SetFloat64(c))
	return prob{x, newFloat().Sub(newFloat().SetInt64(1), x)}
}
