package odds_test

import (
	"fmt"
	"math/big"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

func ExampleCorrect() {
	// The paper's Figure 3 at tolerance 2: aHash on a LoRA model agrees with the mode 97.7% of
	// the time.
	for _, n := range []int{3, 5, 7} {
		t, err := odds.Correct(n, 0.977, quorum.Majority)
		if err != nil {
			panic(err)
		}
		fmt.Printf("n=%d need=%d P=%.6f Q=%.3g\n", t.N, t.Need, t.P, t.Q)
	}
	// Output:
	// n=3 need=2 P=0.998437 Q=0.00156
	// n=5 need=3 P=0.999882 Q=0.000118
	// n=7 need=4 P=0.999991 Q=9.26e-06
}

func ExampleCorrectRat() {
	// Near p = 1, 1-P is far below float64's resolution of P; Q keeps it.
	p, _ := new(big.Rat).SetString("0.999999")
	t, err := odds.CorrectRat(1001, p, quorum.Majority)
	if err != nil {
		panic(err)
	}
	fmt.Printf("P=%v Q=%v log10(Q)=%.2f\n", t.P, t.Q, t.Log10Q)
	// Output:
	// P=1 Q=0 log10(Q)=-2706.27
}

func ExamplePlan() {
	t, err := odds.Plan(0.977, 0.9999, quorum.SuperMajority, odds.PlanOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("n=%d need=%d P=%.6f\n", t.N, t.Need, t.P)
	// Output:
	// n=10 need=7 P=0.999947
}

func ExampleCollusion() {
	// Two colluders among five verifiers, honest verifiers right 97.7% of the time, honest
	// errors meeting the colluders' value at the paper's aHash collision rate.
	t, err := odds.Collusion(5, 2, 0.977, 0.000267, quorum.Majority)
	if err != nil {
		panic(err)
	}
	fmt.Printf("P(wrong value accepted) = %.3g\n", t.P)
	// Output:
	// P(wrong value accepted) = 1.84e-05
}

func ExampleGuess() {
	// A guesser alone among three verifiers, at the paper's collision rate.
	t, err := odds.Guess(3, 0, 0.977, 0.000267, quorum.Majority)
	if err != nil {
		panic(err)
	}
	fmt.Printf("P(guess accepted) = %.4g\n", t.P)
	// Output:
	// P(guess accepted) = 0.0002791
}

func ExampleWilson() {
	// aHash, LoRA, tolerance 2: 157 outliers among 6928 images (the paper's Table 1).
	e, err := odds.Wilson(6928-157, 6928, 0.95)
	if err != nil {
		panic(err)
	}
	fmt.Printf("p = %.4f, 95%% interval [%.4f, %.4f]\n", e.P, e.Lo, e.Hi)
	// Output:
	// p = 0.9773, 95% interval [0.9736, 0.9806]
}
