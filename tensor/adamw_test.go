package tensor

import (
	"math"
	"testing"
)

// TestAdamWMatchesReference runs AdamW for 20 steps on fixed gradients and compares with the
// update of torch.optim.AdamW written in float64: float32 arithmetic keeps within 1e-6.
func TestAdamWMatchesReference(t *testing.T) {
	p := FromData([]float32{1, -2, 0.5}, 3).Param()
	grads := []float32{0.5, -0.1, 3}
	ref := []float64{1, -2, 0.5}
	m, v := make([]float64, 3), make([]float64, 3)
	opt := NewAdamW(0.1)
	for step := 1; step <= 20; step++ {
		g := make([]float32, 3)
		for i := range g {
			g[i] = grads[i] * float32(step%3+1) // gradients change from step to step
		}
		p.Grad = g
		opt.Step([]*Tensor{p})
		for i := range ref {
			gi := float64(g[i])
			ref[i] *= 1 - 0.1*0.01
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			mh := m[i] / (1 - math.Pow(0.9, float64(step)))
			vh := v[i] / (1 - math.Pow(0.999, float64(step)))
			ref[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	for i := range ref {
		if math.Abs(float64(p.Data[i])-ref[i]) > 1e-6*math.Max(1, math.Abs(ref[i])) {
			t.Errorf("param %d after 20 steps = %v, reference %v", i, p.Data[i], ref[i])
		}
	}
	if opt.Steps() != 20 {
		t.Errorf("Steps() = %d, want 20", opt.Steps())
	}
}
