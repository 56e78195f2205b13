package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestElementaryFunctionsAccuracy checks the deterministic float64 functions against the
// standard library: the tolerance of 1e-14 is far below the float32 resolution (6e-8) they
// serve, so a float32 rounding of ours and of math's agree except on rare exact ties.
func TestElementaryFunctionsAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const tol = 1e-14
	for range 20000 {
		x := (r.Float64()*2 - 1) * 80
		if e := relErr(exp64(x), math.Exp(x)); e > tol {
			t.Fatalf("exp64(%v) = %v, want %v (rel %g)", x, exp64(x), math.Exp(x), e)
		}
		y := math.Exp((r.Float64()*2 - 1) * 80)
		if e := math.Abs(log64(y) - math.Log(y)); e > tol*math.Max(1, math.Abs(math.Log(y))) {
			t.Fatalf("log64(%v) = %v, want %v", y, log64(y), math.Log(y))
		}
		z := (r.Float64()*2 - 1) * 5000
		s, c := sincos64(z)
		if math.Abs(s-math.Sin(z)) > 1e-12 || math.Abs(c-math.Cos(z)) > 1e-12 {
			t.Fatalf("sincos64(%v) = %v, %v, want %v, %v", z, s, c, math.Sin(z), math.Cos(z))
		}
		u := (r.Float64()*2 - 1) * 10
		if math.Abs(tanh64(u)-math.Tanh(u)) > 1e-15 {
			t.Fatalf("tanh64(%v) = %v, want %v", u, tanh64(u), math.Tanh(u))
		}
	}
	specials := []struct {
		name      string
		got, want float64
	}{
		{"exp(0)", exp64(0), 1},
		{"exp(-inf)", exp64(math.Inf(-1)), 0},
		{"exp(1000)", exp64(1000), math.Inf(1)},
		{"log(1)", log64(1), 0},
		{"log(0)", log64(0), math.Inf(-1)},
		{"exp(-740)", exp64(-740), math.Exp(-740)},
		{"log(5e-324)", log64(5e-324), -1074 * math.Ln2}, // math.Log on amd64 gets subnormals wrong
	}
	for _, s := range specials {
		if s.got != s.want && relErr(s.got, s.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", s.name, s.got, s.want)
		}
	}
}
