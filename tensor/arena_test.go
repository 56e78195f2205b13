package tensor

import (
	"math/rand/v2"
	"testing"
)

// TestArenaReusesZeroed dirties a buffer, resets the arena and asks for one of the same
// length: it must be the same memory, zeroed.
func TestArenaReusesZeroed(t *testing.T) {
	a := NewArena()
	b := a.alloc(100)
	for i := range b {
		b[i] = float32(i + 1)
	}
	a.Reset()
	c := a.alloc(100)
	if &c[0] != &b[0] {
		t.Fatal("the buffer was not reused after Reset")
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("reused buffer[%d] = %v, want 0", i, v)
		}
	}
	if d := a.alloc(100); &d[0] == &c[0] {
		t.Fatal("a lent buffer was lent twice")
	}
}

// convStep does steps SGD steps of a small conv net (conv, group norm, SiLU, stride-2 conv, a transpose,
// a linear head, with broadcast adds) on fixed data, with a tape on an arena (reset each
// step) or not, and returns the losses and the final weights.
func convStep(p Profile, arena bool, steps int) (losses []float32, params []*Tensor) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randTensor(r, 2, 3, 8, 8)
	y := randTensor(r, 2, 5)
	w1, b1 := randTensor(r, 4, 3, 3, 3).Param(), randTensor(r, 4).Param()
	gw, gb := randTensor(r, 4).Param(), randTensor(r, 4).Param()
	w2 := randTensor(r, 4, 4, 3, 3).Param()
	sh := randTensor(r, 1, 4, 1, 1).Param()
	wl, bl := randTensor(r, 5, 64).Param(), randTensor(r, 5).Param()
	params = []*Tensor{w1, b1, gw, gb, w2, sh, wl, bl}
	var a *Arena
	if arena {
		a = NewArena()
	}
	for range steps {
		tp := NewTape(p)
		if a != nil {
			a.Reset()
			tp.WithArena(a)
		}
		h := tp.SiLU(tp.GroupNorm(tp.Conv2d(x, w1, b1, 1, 1), 2, gw, gb, 1e-5))
		h = tp.Transpose(tp.Add(tp.Conv2d(h, w2, nil, 2, 1), sh), 0, 1, 3, 2)
		loss := tp.MSE(tp.Linear(tp.Reshape(h, 2, 64), wl, bl), y)
		for _, w := range params {
			w.ZeroGrad()
		}
		tp.Backward(loss)
		losses = append(losses, loss.Item())
		for _, w := range params {
			for i, g := range w.Grad {
				w.Data[i] -= 1e-5 * g
			}
		}
	}
	return losses, params
}

// TestArenaSameBits trains the same small net with and without an arena under two profiles:
// every loss and final weight must be the same bits.
func TestArenaSameBits(t *testing.T) {
	for _, name := range []string{"exact", "hopper-bf16"} {
		p, _ := ProfileByName(name)
		l0, w0 := convStep(p, false, 5)
		l1, w1 := convStep(p, true, 5)
		if !sameBits(l0, l1) {
			t.Errorf("%s: losses %v without an arena, %v with", name, l0, l1)
		}
		for i := range w0 {
			if !sameBits(w0[i].Data, w1[i].Data) {
				t.Errorf("%s: parameter %d differs with an arena", name, i)
			}
		}
		t.Logf("%s: losses %v", name, l0)
		if sameBits(w0[0].Data, convStepInit(p)) {
			t.Errorf("%s: training did not change the weights", name)
		}
	}
}

// convStepInit returns convStep's initial first weight.
func convStepInit(p Profile) []float32 {
	_, w := convStep(p, false, 0)
	return w[0].Data
}

// TestArenaReleasesGradients: on an arena, Backward takes back the gradient of every output
// the tape made once passed on (the arena then holds only the outputs' data), and leaves the
// Params' gradients, the same bits as without an arena.
func TestArenaReleasesGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x, y := randTensor(r, 4, 6), randTensor(r, 4, 5)
	w0 := randTensor(r, 5, 6)
	var grads [2][]float32
	for i, arena := range []bool{false, true} {
		w := w0.Clone().Param()
		tp := NewTape(Exact)
		a := NewArena()
		if arena {
			tp.WithArena(a)
		}
		h := tp.SiLU(tp.Linear(x, w, nil))
		hr := tp.Reshape(h, 20)
		loss := tp.MSE(tp.Reshape(hr, 4, 5), y)
		tp.Backward(loss)
		grads[i] = w.Grad
		if !arena {
			if h.Grad == nil {
				t.Fatal("without an arena the intermediate gradient is gone")
			}
			continue
		}
		for _, o := range []*Tensor{h, hr, loss} {
			if o.Grad != nil {
				t.Errorf("output %v kept its gradient after Backward on an arena", o.Shape)
			}
		}
		if got, want := len(a.lent), 3; got != want { // Linear's, SiLU's and MSE's data
			t.Errorf("arena lends %d buffers after Backward, want %d (the outputs' data)", got, want)
		}
	}
	if grads[1] == nil || !sameBits(grads[0], grads[1]) {
		t.Errorf("the Param's gradient differs with an arena: %v, %v", grads[0], grads[1])
	}
}
