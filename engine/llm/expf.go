package llm

import "math"

// expf returns e^x rounded to float32 (within 2 ulp), computed with float32 operations only,
// every product rounded explicitly so that no compiler may fuse it into a multiply-add: the
// bits are the same on every architecture. It is Cephes' expf (Cody-Waite reduction by ln 2,
// degree-6 polynomial). This package writes it instead of using tensor.Exp (float64, exact to
// float32 rounding) because the log-sum-exp over a 32 000-token vocabulary at every decoded
// position made tensor.Exp the largest cost of decoding (measured: 54 % of the CPU time of
// greedy decoding with log-probs); expf is about ten times cheaper. Log-probs differ from
// tensor.Exp's by about 1e-7, far below any tolerance used with llama.cpp.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375 // ln 2 high part: 9 significant bits, so k*c1 is exact
		c2    = -2.12194440e-4
	)
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.97208:
		return 0
	}
	k := float32(math.Floor(float64(float32(x*log2e) + 0.5)))
	r := x - float32(k*c1)
	r = r - float32(k*c2)
	p := float32(1.9875691500e-4)
	p = float32(p*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	p = float32(float32(p*float32(r*r))+r) + 1
	ki := int(k)
	if ki < -126 {
		// Scale in two steps so that the subnormal result is rounded once.
		return float32(p*math.Float32frombits(uint32(ki+126+127)<<23)) * math.Float32frombits(1<<23) // 2^-126
	}
	if ki > 127 {
		return float32(p*2) * math.Float32frombits(uint32(ki-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(ki+127)<<23)
}
