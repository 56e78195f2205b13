// Package odds computes the odds of verification by replication: the probability that n
// verifiers reach a correct verdict (the paper's Type I), the smallest n that reaches a target
// confidence, the chance that colluders or a guesser get a wrong result accepted (Type II), and
// estimates of the per-verifier success probability p from observed counts.
//
// # Model
//
// Each of n verifiers re-runs a task and is correct, that is lands within tolerance of the true
// result, independently with probability p (measured per model, fingerprint and tolerance: the
// consensus of quorum.Pool). A rule (quorum.Majority, quorum.SuperMajority) needs
// need = rule.Need(n) agreeing verifiers. The probability of a correct verdict is the binomial
// tail
//
//	P = sum_{k=need}^{n} C(n,k) p^k (1-p)^(n-k)
//
// and Q = 1 - P is the probability of no verdict or a wrong one. Collusion, Capture and Guess
// document their own models.
//
// # Accuracy
//
// Tails are sums of non-negative binomial terms, computed in 256-bit big.Float arithmetic by
// the recurrence term(k+1) = term(k) (n-k)/(k+1) p/(1-p) from term(0) = (1-p)^n. Both P and Q
// are summed directly from their own terms, never as 1 minus the other, so each is accurate to
// about one unit in the last place of a float64 even when it is tiny (p near 1, n up to
// thousands: the big.Float exponent does not underflow). The float64 p is taken at its exact
// binary value. This is why the package does its own arithmetic instead of calling
// gonum's distuv.Binomial, which works in float64 and loses Q to cancellation near p = 1.
// Wilson and ClopperPearson are ordinary float64 formulas (the latter through gonum's
// incomplete beta function).
//
// All functions are pure and safe for concurrent use. Invalid arguments give errors wrapping
// ErrArgument; a planner that cannot reach its target gives ErrUnreachable.
package odds
