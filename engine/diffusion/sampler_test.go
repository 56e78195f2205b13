package diffusion

import (
	"math"
	"testing"
)

// TestSamplersRecoverImageWithOracle runs each sampler with the ideal noise predictor for a
// single known image x0 (eps = (x_t - sqrt(ab) x0) / sqrt(1 - ab)): every sampler must end at
// x0, which checks the samplers' algebra and the schedule apart from any model.
func TestSamplersRecoverImageWithOracle(t *testing.T) {
	s := NewSchedule(1000, 1e-4, 0.02)
	const n = 64
	x0 := make([]float32, n)
	for i := range x0 {
		x0[i] = float32(math.Sin(float64(i))) * 0.9
	}
	oracle := func(xin []float32, t int) []float32 {
		e := make([]float32, len(xin))
		for i, v := range xin {
			e[i] = (v - s.sqrtAB[t]*x0[i]) / s.sqrt1mAB[t]
		}
		return e
	}
	for _, sampler := range Samplers {
		for _, steps := range []int{1, 5, 20, 50} {
			x, err := s.sample(t.Context(), SampleParams{Sampler: sampler, Steps: steps, Seed: 3}, n, oracle)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range x {
				worst = math.Max(worst, math.Abs(float64(x[i]-x0[i])))
			}
			// The last step divides by sqrt(alphaBar) of the final timestep, so float32 rounding
			// of the noisy input is amplified; 1e-3 is far below one grey level (1/127.5).
			if worst > 1e-3 {
				t.Errorf("%s with %d steps ends %.2g from x0, want within 1e-3", sampler, steps, worst)
			}
		}
	}
}
