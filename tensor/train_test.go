package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// trainMLP fits a 2-layer MLP (3 -> 32 -> 1, SiLU) to y = sin(2 x0) + x1 x2 with AdamW and
// returns the first and last losses and the final parameters.
func trainMLP(p Profile, steps int) (first, last float32, params []*Tensor) {
	r := rand.New(rand.NewPCG(31, 32))
	const n, hidden = 64, 32
	x := New(n, 3)
	y := New(n, 1)
	for i := range n {
		a, b, c := r.Float64()*2-1, r.Float64()*2-1, r.Float64()*2-1
		x.Data[i*3], x.Data[i*3+1], x.Data[i*3+2] = float32(a), float32(b), float32(c)
		y.Data[i] = float32(math.Sin(2*a) + b*c)
	}
	w1 := randTensor(r, hidden, 3).Param()
	b1 := New(hidden).Param()
	w2 := randTensor(r, 1, hidden).Param()
	b2 := New(1).Param()
	for i := range w2.Data {
		w2.Data[i] *= float32(1 / math.Sqrt(hidden))
	}
	params = []*Tensor{w1, b1, w2, b2}
	opt := NewAdamW(1e-2)
	for s := range steps {
		tp := NewTape(p)
		loss := tp.MSE(tp.Linear(tp.SiLU(tp.Linear(x, w1, b1)), w2, b2), y)
		for _, w := range params {
			w.ZeroGrad()
		}
		tp.Backward(loss)
		opt.Step(params)
		if s == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	return first, last, params
}

// TestTrainingConvergesAndIsReproducible trains a small MLP twice per profile: the loss must
// fall to under a tenth of its start, and the final weights of the two runs must be the same
// bits.
func TestTrainingConvergesAndIsReproducible(t *testing.T) {
	for _, name := range []string{"exact", "hopper-bf16"} {
		p, _ := ProfileByName(name)
		first, last, w1 := trainMLP(p, 300)
		_, _, w2 := trainMLP(p, 300)
		t.Logf("%s: loss %.4f -> %.4f after 300 AdamW steps", name, first, last)
		if !(last < first/10) {
			t.Errorf("%s: loss went from %v to %v, want a tenfold decrease", name, first, last)
		}
		for i := range w1 {
			if !sameBits(w1[i].Data, w2[i].Data) {
				t.Errorf("%s: parameter %d differs between two identical runs", name, i)
			}
		}
	}
	_, _, we := trainMLP(Exact, 50)
	hb, _ := ProfileByName("hopper-bf16")
	_, _, wb := trainMLP(hb, 50)
	if sameBits(we[0].Data, wb[0].Data) {
		t.Error("exact and hopper-bf16 trained to the same bits")
	}
}
