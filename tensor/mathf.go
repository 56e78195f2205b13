package tensor

import "math"

// The elementary functions of this file are computed in float64 with basic operations only
// (+, -, *, / and exact scaling), each product written float64(a*b) so that no compiler may fuse
// it: the results are the same bits on every architecture. The standard library's math.Exp and
// math.Log use assembly on some architectures, and its pure-Go code may be compiled with fused
// multiply-adds on arm64, so it gives no such guarantee. Accuracy is a few float64 ulps, far
// below float32 resolution.

const (
	ln2Hi  = 6.93147180369123816490e-01 // high bits of ln 2; k*ln2Hi is exact for |k| < 2^11
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 - ln2Hi
	invLn2 = 1.44269504088896338700e+00
	// pi/2 split in three parts (twice Go's PI4A, PI4B, PI4C); k*pio2A is exact for the
	// arguments RoPE produces.
	pio2A   = 2 * 7.85398125648498535156e-1
	pio2B   = 2 * 3.77489470793079817668e-8
	pio2C   = 2 * 2.69515142907905952645e-15
	twoOvPi = 6.36619772367581382433e-01
)

// pow2 returns 2^k for -1022 <= k <= 1023.
func pow2(k int) float64 {
	return math.Float64frombits(uint64(k+1023) << 52)
}

// exp64 returns e^x.
func exp64(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 709.7:
		return math.Inf(1)
	case x < -745.2:
		return 0
	}
	k := math.Floor(float64(x*invLn2) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	// Taylor series to r^13/13!; |r| <= 0.347 so the remainder is below 1e-17.
	p := 1.0 / 6227020800
	for _, c := range [...]float64{1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float64(p*r) + c
	}
	ki := int(k)
	if ki < -1022 {
		return float64(float64(p*pow2(ki+600)) * pow2(-600))
	}
	if ki > 1023 {
		return float64(float64(p*pow2(ki-600)) * pow2(600))
	}
	return float64(p * pow2(ki))
}

// log64 returns the natural logarithm of x.
func log64(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	e := 0
	if x < 0x1p-1022 { // subnormal
		x = float64(x * 0x1p52)
		e = -52
	}
	b := math.Float64bits(x)
	e += int(b>>52) - 1023
	m := math.Float64frombits(b&^(0x7ff<<52) | 1023<<52) // in [1, 2)
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	f := (m - 1) / (m + 1)
	s := float64(f * f)
	// 2 atanh(f) = 2f (1 + s/3 + s^2/5 + ...); |f| <= 0.1716, terms to s^12.
	q := 1.0 / 25
	for _, c := range [...]float64{1.0 / 23, 1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13,
		1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1} {
		q = float64(q*s) + c
	}
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(float64(2*f)*q) + float64(fe*ln2Lo))
}

// sincos64 returns sin x and cos x. Accurate for |x| up to about 1e6; deterministic everywhere.
func sincos64(x float64) (sin, cos float64) {
	if math.IsInf(x, 0) || x != x {
		return math.NaN(), math.NaN()
	}
	k := math.Floor(float64(x*twoOvPi) + 0.5)
	r := float64(float64(x-float64(k*pio2A))-float64(k*pio2B)) - float64(k*pio2C)
	z := float64(r * r)
	// sin r = r (1 - z/3! + z^2/5! ...), cos r = 1 - z/2! + z^2/4! ..., |r| <= pi/4.
	s := -1.0 / 355687428096000 // -1/17!
	for _, c := range [...]float64{1.0 / 1307674368000, -1.0 / 6227020800, 1.0 / 39916800,
		-1.0 / 362880, 1.0 / 5040, -1.0 / 120, 1.0 / 6} {
		s = float64(s*z) + c
	}
	// s now approximates sum_{j>=1} (-1)^(j+1) z^(j-1)/(2j+1)! with alternating signs shifted:
	// sin r = r - r*z*s.
	sn := r - float64(float64(r*z)*s)
	c := 1.0 / 6402373705728000 // 1/18!
	for _, d := range [...]float64{-1.0 / 20922789888000, 1.0 / 87178291200, -1.0 / 479001600,
		1.0 / 3628800, -1.0 / 40320, 1.0 / 720, -1.0 / 24, 0.5} {
		c = float64(c*z) + d
	}
	cs := 1 - float64(z*c)
	switch int64(k) & 3 {
	case 0:
		return sn, cs
	case 1:
		return cs, -sn
	case 2:
		return -sn, -cs
	}
	return -cs, sn
}

// sigmoid64 returns 1/(1+e^-x).
func sigmoid64(x float64) float64 {
	return 1 / (1 + exp64(-x))
}

// tanh64 returns tanh x.
func tanh64(x float64) float64 {
	a := math.Abs(x)
	if a > 20 {
		return math.Copysign(1, x)
	}
	t := 1 - 2/(exp64(2*a)+1)
	return math.Copysign(t, x)
}

// Exp returns e^x rounded to float32, the same bits on every architecture.
func Exp(x float32) float32 { return float32(exp64(float64(x))) }

// Log returns the natural logarithm of x rounded to float32, the same bits on every architecture.
func Log(x float32) float32 { return float32(log64(float64(x))) }

// SinCos returns sin x and cos x rounded to float32, the same bits on every architecture.
func SinCos(x float64) (sin, cos float32) {
	s, c := sincos64(x)
	return float32(s), float32(c)
}
