package odds

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// refTail is the independent reference: the binomial tails of Binomial(n, a/d) as exact
// rationals, summed term by term in integers:
//
//	P(X >= k) = sum_{j>=k} C(n,j) a^j (d-a)^(n-j) / d^n
//
// It shares nothing with bigTail (no recurrence, no rounding).
func refTail(n, k int, p *big.Rat) (upper, lower *big.Rat) {
	a, d := p.Num(), p.Denom()
	b := new(big.Int).Sub(d, a)
	up, lo := new(big.Int), new(big.Int)
	var c, x, y big.Int
	for j := 0; j <= n; j++ {
		c.Binomial(int64(n), int64(j))
		x.Exp(a, big.NewInt(int64(j)), nil)
		y.Exp(b, big.NewInt(int64(n-j)), nil)
		c.Mul(&c, &x)
		c.Mul(&c, &y)
		if j >= k {
			up.Add(up, &c)
		} else {
			lo.Add(lo, &c)
		}
	}
	dn := new(big.Int).Exp(d, big.NewInt(int64(n)), nil)
	return new(big.Rat).SetFrac(up, dn), new(big.Rat).SetFrac(lo, dn)
}

// ratLog10 returns log10(r) for r > 0 without float64 overflow or underflow.
func ratLog10(r *big.Rat) float64 {
	f := new(big.Float).SetPrec(200).SetRat(r)
	return log10(f)
}

// closeTo reports whether got agrees with the exact want to rel relative error (want in the
// normal float64 range), or, for values below it, whether got is the correctly rounded
// float64 give or take one subnormal step.
func closeTo(got float64, want *big.Rat, rel float64) bool {
	w, _ := want.Float64()
	if math.Abs(w) < 0x1p-1022 {
		return math.Abs(got-w) <= 0x1p-1074
	}
	return math.Abs(got-w) <= rel*math.Abs(w)
}

// TestAtLeastAgainstExactRationals checks P and Q against exact rational sums for p taken at
// its exact binary value, to 1e-15 relative (the spec asks for 12 significant digits; the
// 256-bit sums give about one ulp), and log10 Q to 1e-12 where Q underflows.
func TestAtLeastAgainstExactRationals(t *testing.T) {
	ps := []float64{0.5, 0.75, 0.977, 0.981, 0.999999, 1 - 0x1p-30, 0.1, 1e-6}
	ns := []int{1, 2, 3, 4, 5, 6, 7, 10, 51, 100, 1000}
	if testing.Short() {
		ns = ns[:len(ns)-1]
	}
	for _, p := range ps {
		pr := new(big.Rat).SetFloat64(p)
		for _, n := range ns {
			for _, rule := range []quorum.Rule{quorum.Majority, quorum.SuperMajority} {
				k := rule.Need(n)
				got, err := Correct(n, p, rule)
				if err != nil {
					t.Fatal(err)
				}
				up, lo := refTail(n, k, pr)
				if !closeTo(got.P, up, 1e-15) || !closeTo(got.Q, lo, 1e-15) {
					wp, _ := up.Float64()
					wq, _ := lo.Float64()
					t.Errorf("Correct(%d, %v, %v) = P %.17g Q %.17g, exact P %.17g Q %.17g", n, p, rule, got.P, got.Q, wp, wq)
				}
				if lo.Sign() > 0 {
					if want := ratLog10(lo); math.Abs(got.Log10Q-want) > 1e-12*max(1, math.Abs(want)) {
						t.Errorf("Correct(%d, %v, %v).Log10Q = %.15g, exact %.15g", n, p, rule, got.Log10Q, want)
					}
				} else if !math.IsInf(got.Log10Q, -1) {
					t.Errorf("Correct(%d, %v, %v).Log10Q = %v for Q = 0", n, p, rule, got.Log10Q)
				}
			}
		}
	}
}

// TestAtLeastRat checks AtLeastRat against the exact rationals for decimal p, to 1e-15
// relative (12 significant digits asked for). The float64 path cannot do this for p near 1:
// float64(0.999999) moves 1-p by 1e-11 relative, and Q ~ (1-p)^k with it.
func TestAtLeastRat(t *testing.T) {
	ns := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 25, 100}
	for _, ps := range []string{"977/1000", "981/1000", "929/1000", "997/1000", "999999/1000000", "1/3"} {
		pr, _ := new(big.Rat).SetString(ps)
		for _, n := range ns {
			for k := 0; k <= n+1; k++ {
				if n > 25 && k%7 != 0 {
					continue
				}
				got, err := AtLeastRat(n, k, pr)
				if err != nil {
					t.Fatal(err)
				}
				up, lo := refTail(n, k, pr)
				if !closeTo(got.P, up, 1e-15) || !closeTo(got.Q, lo, 1e-15) {
					t.Errorf("AtLeast(%d, %d, %s) = %.17g, %.17g; exact %s, %s", n, k, ps, got.P, got.Q, up.FloatString(20), lo.FloatString(20))
				}
			}
		}
	}
}

func TestAtLeastHandChecked(t *testing.T) {
	const p = 0.9
	tests := []struct {
		n, k   int
		p      float64
		wantP  float64
		wantQ  float64
		approx bool
	}{
		{3, 2, 0.5, 0.5, 0.5, false}, // 3 of 8 + 1 of 8
		{4, 3, 0.5, 5.0 / 16, 11.0 / 16, false},
		{2, 2, 0.5, 0.25, 0.75, false},  // n even, majority of 2
		{1, 1, 0.75, 0.75, 0.25, false}, // n=1: P = p
		{5, 3, 0.5, 0.5, 0.5, false},    // symmetric
		{7, 5, 0.5, 29.0 / 128, 99.0 / 128, false},
		{3, 0, 0.3, 1, 0, false}, // k <= 0
		{3, 4, 0.3, 0, 1, false}, // k > n
		{3, 1, 0, 0, 1, false},   // p = 0
		{3, 3, 1, 1, 0, false},   // p = 1
		{0, 0, 0.5, 1, 0, false}, // no trials, nothing needed
		{0, 1, 0.5, 0, 1, false},
		{3, 2, p, p*p*p + 3*p*p*(1-p), 3*p*(1-p)*(1-p) + (1-p)*(1-p)*(1-p), true},
		{4, 3, p, p*p*p*p + 4*p*p*p*(1-p), 6*p*p*(1-p)*(1-p) + 4*p*(1-p)*(1-p)*(1-p) + (1-p)*(1-p)*(1-p)*(1-p), true},
	}
	for _, tt := range tests {
		got, err := AtLeast(tt.n, tt.k, tt.p)
		if err != nil {
			t.Fatal(err)
		}
		ok := got.P == tt.wantP && got.Q == tt.wantQ
		if tt.approx {
			ok = math.Abs(got.P-tt.wantP) < 1e-15 && math.Abs(got.Q-tt.wantQ) < 1e-15
		}
		if !ok {
			t.Errorf("AtLeast(%d, %d, %v) = %v, %v; want %v, %v", tt.n, tt.k, tt.p, got.P, got.Q, tt.wantP, tt.wantQ)
		}
	}
}

// TestPaperFigure3 checks the Type I numbers of the paper (reference/paper.txt, section 4.2,
// "Verification of Correctness - Type I Error"): at tolerance 2 with p = 0.977 (aHash, LoRA,
// Table 1), which the paper prints truncated to 0.001%.
func TestPaperFigure3(t *testing.T) {
	trunc := func(x float64) float64 { return math.Floor(x*1e5) / 1e3 }
	tests := []struct {
		rule  quorum.Rule
		n     int
		paper float64 // percent
	}{
		{quorum.Majority, 3, 99.843},
		{quorum.Majority, 5, 99.988},
		{quorum.Majority, 7, 99.999},
		{quorum.SuperMajority, 4, 99.692},
		{quorum.SuperMajority, 7, 99.960},
	}
	for _, tt := range tests {
		got, err := Correct(tt.n, 0.977, tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if trunc(got.P) != tt.paper {
			t.Errorf("Correct(%d, 0.977, %v) = %.5f%%, paper %.3f%%", tt.n, tt.rule, 100*got.P, tt.paper)
		}
	}
	// The paper also prints 99.999% for a super-majority of 10. Under its own rule (more than
	// 2/3: 7 of 10, the rule that reproduces 4 and 7 above) p = 0.977 gives 99.9947%; 99.999%
	// would need only 6 of 10 votes. We keep the rule and record the discrepancy here.
	got, _ := Correct(10, 0.977, quorum.SuperMajority)
	if trunc(got.P) != 99.994 {
		t.Errorf("Correct(10, 0.977, supermajority) = %.5f%%, want 99.994%%", 100*got.P)
	}
	six, _ := AtLeast(10, 6, 0.977)
	if trunc(six.P) != 99.999 {
		t.Errorf("AtLeast(10, 6, 0.977) = %.5f%%, want 99.999%% (the paper's figure)", 100*six.P)
	}
	// Abstract: "with a majority vote between three independent verifiers, we can detect ...
	// with over 99.89% probability". That is p = 0.981 (aHash, textual inversion, t = 2).
	abs, _ := Correct(3, 0.981, quorum.Majority)
	if math.Floor(abs.P*1e4)/1e2 != 99.89 {
		t.Errorf("Correct(3, 0.981, majority) = %.5f%%, paper: over 99.89%%", 100*abs.P)
	}
}

// TestQNearOne shows why Q is summed on its own: with p = 0.999999 the correct-verdict
// probability rounds to 1 in float64, and 1-P would be 0 or noise, but Q is exact to an ulp.
func TestQNearOne(t *testing.T) {
	pr := big.NewRat(999999, 1000000)
	p, _ := pr.Float64()
	for _, n := range []int{3, 7, 101, 1001} {
		got, err := Correct(n, p, quorum.Majority)
		if err != nil {
			t.Fatal(err)
		}
		up, lo := refTail(n, quorum.Majority.Need(n), new(big.Rat).SetFloat64(p))
		wp, _ := up.Float64()
		if !closeTo(got.Q, lo, 1e-15) || got.P != wp || (n > 3 && got.P != 1) {
			w, _ := lo.Float64()
			t.Errorf("Correct(%d, 0.999999) = P %v, Q %v; want P %v, Q %v", n, got.P, got.Q, wp, w)
		}
	}
}

func TestArgumentErrors(t *testing.T) {
	calls := map[string]func() error{
		"AtLeast n<0":      func() error { _, err := AtLeast(-1, 0, 0.5); return err },
		"AtLeast p>1":      func() error { _, err := AtLeast(3, 2, 1.5); return err },
		"AtLeast p NaN":    func() error { _, err := AtLeast(3, 2, math.NaN()); return err },
		"Correct n=0":      func() error { _, err := Correct(0, 0.5, quorum.Majority); return err },
		"Correct rule":     func() error { _, err := Correct(3, 0.5, 0); return err },
		"Plan target":      func() error { _, err := Plan(0.9, 2, quorum.Majority, PlanOptions{}); return err },
		"Plan range":       func() error { _, err := Plan(0.9, 0.9, quorum.Majority, PlanOptions{Min: 5, Max: 4}); return err },
		"Collusion m>n":    func() error { _, err := Collusion(3, 4, 0.9, 0, quorum.Majority); return err },
		"Collusion c":      func() error { _, err := Collusion(3, 1, 0.9, -1, quorum.Majority); return err },
		"Capture n>pop":    func() error { _, err := Capture(5, 1, 6, quorum.Majority); return err },
		"Guess k=n":        func() error { _, err := Guess(3, 3, 0.9, 0, quorum.Majority); return err },
		"Wilson s>n":       func() error { _, err := Wilson(4, 3, 0.95); return err },
		"Wilson conf":      func() error { _, err := Wilson(1, 3, 1); return err },
		"ClopperPearson 0": func() error { _, err := ClopperPearson(0, 0, 0.95); return err },
	}
	for _, name := range slices.Sorted(mapKeys(calls)) {
		err := calls[name]()
		if !errors.Is(err, ErrArgument) || !strings.HasPrefix(err.Error(), "odds: ") {
			t.Errorf("%s: error %v, want ErrArgument", name, err)
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		p, target float64
		rule      quorum.Rule
		opts      PlanOptions
		want      int
	}{
		{0.977, 0.9999, quorum.Majority, PlanOptions{}, 7},
		{0.977, 0.9999, quorum.SuperMajority, PlanOptions{}, 10},
		{0.977, 0.99, quorum.Majority, PlanOptions{}, 3},
		{0.977, 0.9, quorum.Majority, PlanOptions{}, 1},
		{0.977, 0, quorum.Majority, PlanOptions{Min: 4}, 4},
		{0.9, 0.999, quorum.Majority, PlanOptions{Odd: true}, 9},
		{0.999999, 1 - 1e-15, quorum.Majority, PlanOptions{}, 5},
	}
	for _, tt := range tests {
		got, err := Plan(tt.p, tt.target, tt.rule, tt.opts)
		if err != nil {
			t.Fatalf("Plan(%v, %v, %v, %+v): %v", tt.p, tt.target, tt.rule, tt.opts, err)
		}
		if got.N != tt.want {
			t.Errorf("Plan(%v, %v, %v, %+v) = %d, want %d", tt.p, tt.target, tt.rule, tt.opts, got.N, tt.want)
		}
		// Brute force: no smaller allowed count reaches the target; the found one does.
		for n := max(1, tt.opts.Min); n <= got.N; n++ {
			if tt.opts.Odd && n%2 == 0 {
				continue
			}
			c, _ := Correct(n, tt.p, tt.rule)
			if reached := c.P >= tt.target || c.Q <= 1-tt.target; reached != (n == got.N) {
				t.Errorf("Plan(%v, %v, %v) = %d, but Correct(%d) = %.17g", tt.p, tt.target, tt.rule, got.N, n, c.P)
			}
		}
	}
	_, err := Plan(0.5, 0.9, quorum.Majority, PlanOptions{Max: 50})
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Plan(0.5, 0.9) error = %v, want ErrUnreachable", err)
	}
	best, err := Plan(0.6, 0.9, quorum.SuperMajority, PlanOptions{Max: 30})
	if !errors.Is(err, ErrUnreachable) || best.N == 0 {
		t.Errorf("Plan(0.6, 0.9, supermajority) = %+v, %v; want the best count and ErrUnreachable", best, err)
	}
}

func TestCollusion(t *testing.T) {
	tests := []struct {
		n, m  int
		p, c  float64
		rule  quorum.Rule
		wantP float64
	}{
		{3, 1, 0.9, 0, quorum.Majority, 0},       // a minority alone never wins
		{3, 2, 0.9, 0, quorum.Majority, 1},       // a majority always does
		{4, 2, 0.9, 0, quorum.Majority, 0},       // half is not a majority
		{7, 4, 0.9, 0, quorum.SuperMajority, 0},  // 4 of 7 < 5
		{7, 5, 0.9, 0, quorum.SuperMajority, 1},  // 5 of 7
		{3, 1, 0.5, 1, quorum.Majority, 0.75},    // one of two honest errors (each 1/2) joins
		{3, 0, 0.5, 1, quorum.Majority, 0.5},     // two of three honest errors join
		{5, 2, 0.75, 0.5, quorum.Majority, 0.34}, // 1 - (7/8)^3 = 169/512
	}
	tests[len(tests)-1].wantP = 169.0 / 512
	for _, tt := range tests {
		got, err := Collusion(tt.n, tt.m, tt.p, tt.c, tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got.P != tt.wantP || got.Q != 1-tt.wantP {
			t.Errorf("Collusion(%d, %d, %v, %v, %v) = %v, %v; want %v", tt.n, tt.m, tt.p, tt.c, tt.rule, got.P, got.Q, tt.wantP)
		}
	}
}

func TestCapture(t *testing.T) {
	// 10 nodes, 5 colluding, 3 drawn: P(at least 2 colluders) = (C(5,2)C(5,1) + C(5,3))/C(10,3) = 60/120.
	got, err := Capture(10, 5, 3, quorum.Majority)
	if err != nil {
		t.Fatal(err)
	}
	if got.P != 0.5 || got.Q != 0.5 {
		t.Errorf("Capture(10, 5, 3) = %v, %v; want 0.5, 0.5", got.P, got.Q)
	}
	// Too few colluders to fill the quorum.
	if got, _ := Capture(100, 3, 7, quorum.Majority); got.P != 0 || got.Q != 1 {
		t.Errorf("Capture(100, 3, 7) = %v, %v; want 0, 1", got.P, got.Q)
	}
	// A large population approaches the binomial with f = colluders/population.
	c, _ := Capture(1_000_000, 100_000, 7, quorum.Majority)
	b, _ := AtLeast(7, 4, 0.1)
	if math.Abs(c.P-b.P)/b.P > 1e-4 {
		t.Errorf("Capture(1e6, 1e5, 7) = %v, binomial %v", c.P, b.P)
	}
}

func TestGuess(t *testing.T) {
	tests := []struct {
		n, k  int
		p, c  float64
		rule  quorum.Rule
		wantP float64
	}{
		{1, 0, 0.9, 0.001, quorum.Majority, 1},     // unreplicated: any guess passes
		{3, 0, 1, 0.5, quorum.Majority, 0.5},       // accepted exactly when it collides
		{3, 1, 0.9, 0, quorum.Majority, 1},         // guesser + 1 colluder are 2 of 3
		{3, 0, 0.9, 0, quorum.Majority, 0},         // never collides, no help
		{4, 1, 0.9, 0, quorum.Majority, 0},         // 2 of 4 is not a majority
		{3, 0, 0.9, 0.1, quorum.Majority, 0.11691}, // 0.1*0.99 + 0.9*(1-0.99^2)
	}
	for _, tt := range tests {
		got, err := Guess(tt.n, tt.k, tt.p, tt.c, tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.P-tt.wantP) > 1e-15 || math.Abs(got.P+got.Q-1) > 1e-15 {
			t.Errorf("Guess(%d, %d, %v, %v, %v) = %.17g, %.17g; want %v", tt.n, tt.k, tt.p, tt.c, tt.rule, got.P, got.Q, tt.wantP)
		}
	}
}

func TestWilson(t *testing.T) {
	// Reference values from the formula in Python's float64 (statistics.NormalDist for z).
	tests := []struct {
		s, n   int
		conf   float64
		lo, hi float64
	}{
		{81, 263, 0.95, 0.2552885198782743, 0.3662095769828001},
		{0, 10, 0.95, 0, 0.27753279986288915}, // z^2/(n+z^2)
		{6928 - 157, 6928, 0.95, 0.9735604158034645, 0.980587199846884},
		{9, 10, 0.99, 0.4927682287671066, 0.988148496588967},
		{10, 10, 0.95, 1 - 0.27753279986288915, 1},
	}
	for _, tt := range tests {
		e, err := Wilson(tt.s, tt.n, tt.conf)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(e.Lo-tt.lo) > 1e-13 || math.Abs(e.Hi-tt.hi) > 1e-13 || e.P != float64(tt.s)/float64(tt.n) {
			t.Errorf("Wilson(%d, %d, %v) = %+v, want [%v, %v]", tt.s, tt.n, tt.conf, e, tt.lo, tt.hi)
		}
	}
}

func TestClopperPearson(t *testing.T) {
	// Closed forms at the ends: s = 0 gives Hi = 1 - (a/2)^(1/n), s = n gives Lo = (a/2)^(1/n).
	for _, n := range []int{1, 7, 100, 6985} {
		e0, _ := ClopperPearson(0, n, 0.95)
		en, _ := ClopperPearson(n, n, 0.95)
		want := math.Pow(0.025, 1/float64(n))
		if e0.Lo != 0 || math.Abs(e0.Hi-(1-want)) > 1e-9 || en.Hi != 1 || math.Abs(en.Lo-want) > 1e-9 {
			t.Errorf("ClopperPearson(0|%d, %d) = %+v, %+v; want Hi %v, Lo %v", n, n, e0, en, 1-want, want)
		}
	}
	// 5 of 10 at 95%: the textbook [0.187086, 0.812914]. The interval contains Wilson's.
	e, _ := ClopperPearson(5, 10, 0.95)
	w, _ := Wilson(5, 10, 0.95)
	if math.Abs(e.Lo-0.187086) > 1e-6 || math.Abs(e.Hi-0.812914) > 1e-6 || e.Lo > w.Lo || e.Hi < w.Hi {
		t.Errorf("ClopperPearson(5, 10) = %+v (Wilson %+v), want [0.187086, 0.812914]", e, w)
	}
}

// TestImports: odds does no I/O and reads no clock or randomness (DESIGN.md).
func TestImports(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goCmd, "list", "-f", "{{.Imports}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(strings.Trim(strings.TrimSpace(string(out)), "[]"))
	for _, bad := range []string{"time", "math/rand", "math/rand/v2", "crypto/rand", "os", "net", "io"} {
		if slices.Contains(imports, bad) {
			t.Errorf("odds imports %s (imports: %v)", bad, imports)
		}
	}
}

func BenchmarkCorrect(b *testing.B) {
	for _, n := range []int{3, 101, 1001} {
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Correct(n, 0.977, quorum.Majority); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPlan(b *testing.B) {
	b.Run("p0.977/target1e-12", func(b *testing.B) {
		for b.Loop() {
			if _, err := Plan(0.977, 1-1e-12, quorum.Majority, PlanOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unreachable/max1000", func(b *testing.B) {
		for b.Loop() {
			if _, err := Plan(0.5, 0.9, quorum.Majority, PlanOptions{}); !errors.Is(err, ErrUnreachable) {
				b.Fatal(err)
			}
		}
	})
}
