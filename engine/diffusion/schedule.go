package diffusion

import (
	"fmt"
	"math"
)

// Schedule is the DDPM noise schedule: beta_t rises linearly from BetaStart to BetaEnd over T
// steps, and alphaBar_t = prod_{s<=t} (1 - beta_s). The noisy image at step t is
// x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps. The products are taken in float64
// (multiplications and square roots only, correctly rounded everywhere), then rounded to
// float32 once.
type Schedule struct {
	T        int
	AlphaBar []float64 // alphaBar_t, t = 0..T-1
	sqrtAB   []float32 // sqrt(alphaBar_t)
	sqrt1mAB []float32 // sqrt(1 - alphaBar_t)
}

// NewSchedule returns the linear schedule of t steps from betaStart to betaEnd.
func NewSchedule(t int, betaStart, betaEnd float64) *Schedule {
	s := &Schedule{T: t, AlphaBar: make([]float64, t), sqrtAB: make([]float32, t), sqrt1mAB: make([]float32, t)}
	ab := 1.0
	for i := range t {
		beta := betaStart + float64(betaEnd-betaStart)*float64(i)/float64(t-1)
		ab = float64(ab * (1 - beta))
		s.AlphaBar[i] = ab
		s.sqrtAB[i] = float32(math.Sqrt(ab))
		s.sqrt1mAB[i] = float32(math.Sqrt(1 - ab))
	}
	return s
}

// Timesteps returns the steps visited by a sampler of n steps, in decreasing order: the n
// evenly spaced t_i = floor((i+1) T / n) - 1, so that the first is T-1 (pure noise).
func (s *Schedule) Timesteps(n int) []int {
	ts := make([]int, n)
	for i := range n {
		ts[n-1-i] = (i+1)*s.T/n - 1
	}
	return ts
}

// sigma returns the noise-to-signal ratio sqrt((1 - alphaBar_t) / alphaBar_t) of step t, the
// noise level of the variance-exploding view that Euler samplers integrate in.
func (s *Schedule) sigma(t int) float64 {
	return math.Sqrt((1 - s.AlphaBar[t]) / s.AlphaBar[t])
}

// Samplers.
const (
	SamplerDDIM   = "ddim"    // DDIM, eta 0, x_0 prediction clipped to [-1, 1]
	SamplerEuler  = "euler"   // Euler on the probability-flow ODE in sigma (k-diffusion's sample_euler)
	SamplerEulerA = "euler_a" // Euler ancestral (k-diffusion's sample_euler_ancestral), eta 1
)

// Samplers lists the sampler names Run accepts.
var Samplers = []string{SamplerDDIM, SamplerEuler, SamplerEulerA}

// ddimStep returns x_{t'} from x_t and the predicted noise eps (t' = prev, or -1 for the
// final image): x0 = (x - sqrt(1-ab) eps) / sqrt(ab) clipped to [-1, 1], eps re-derived from
// the clipped x0, then x' = sqrt(ab') x0 + sqrt(1-ab') eps.
func (s *Schedule) ddimStep(x, eps []float32, t, prev int) {
	sa, s1 := s.sqrtAB[t], s.sqrt1mAB[t]
	var sp, s1p float32 = 1, 0
	if prev >= 0 {
		sp, s1p = s.sqrtAB[prev], s.sqrt1mAB[prev]
	}
	for i := range x {
		x0 := (x[i] - float32(s1*eps[i])) / sa
		x0 = min(max(x0, -1), 1)
		e := (x[i] - float32(sa*x0)) / s1
		x[i] = float32(sp*x0) + float32(s1p*e)
	}
}

// checkSampler returns an error for an unknown sampler name.
func checkSampler(name string) error {
	for _, s := range Samplers {
		if s == name {
			return nil
		}
	}
	return fmt.Errorf("diffusion: unknown sampler %q (have %v)", name, Samplers)
}
