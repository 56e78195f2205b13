package tensor_test

import (
	"fmt"
	"os"

	"github.com/genquorum/genquorum/tensor"
)

// The same sum under two profiles: the exact profile adds left to right in float32, so the 1
// is absorbed by 1e8; two interleaved lanes keep it.
func ExampleProfile_Sum() {
	xs := []float32{1e8, 1, -1e8, 1}
	exact := tensor.Exact
	lanes := tensor.Profile{Name: "two-lanes", Lanes: 2}
	fmt.Println(exact.Sum(xs), lanes.Sum(xs))
	// Output: 1 2
}

func ExampleProfileByName() {
	p, err := tensor.ProfileByName("hopper-bf16")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Name, p.Split(), p.FMA, p.Input, p.Storage)
	// Output: hopper-bf16 chunks of 128, sequential true bf16 bf16
}

func ExampleFormat_Round() {
	fmt.Println(tensor.F16.Round(0.1), tensor.BF16.Round(0.1), tensor.TF32.Round(0.1))
	// Output: 0.099975586 0.100097656 0.099975586
}

// A forward and backward pass: y = x @ w^T, loss = mean((y - t)^2).
func ExampleTape_Backward() {
	x := tensor.FromData([]float32{1, 2}, 1, 2)
	w := tensor.FromData([]float32{0.5, -1}, 1, 2).Param()
	t := tensor.FromData([]float32{1}, 1, 1)
	tp := tensor.NewTape(tensor.Exact)
	loss := tp.MSE(tp.Linear(x, w, nil), t)
	tp.Backward(loss)
	fmt.Println(loss.Item(), w.Grad)
	// Output: 6.25 [-5 -10]
}

// Inference without a tape: a causal attention over 3 positions with one head.
func ExampleNoGrad() {
	tp := tensor.NoGrad(tensor.Exact)
	q := tensor.FromData([]float32{1, 0, 0, 1, 1, 1}, 3, 1, 2)
	k := tensor.FromData([]float32{1, 0, 0, 1, 1, 1}, 3, 1, 2)
	v := tensor.FromData([]float32{1, 0, 0, 1, 2, 2}, 3, 1, 2)
	out := tp.Attention(q, k, v, 1, true)
	fmt.Printf("%.4f\n", out.Data)
	// Output: [1.0000 0.0000 0.2689 0.7311 1.3642 1.3642]
}

func ExampleTensor_Freeze() {
	w := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 3, 2).Freeze() // [out=3, in=2]
	tp := tensor.NoGrad(tensor.Exact)
	fmt.Println(tp.Linear(tensor.FromData([]float32{1, 1}, 1, 2), w, nil).Data)
	// Output: [3 7 11]
}

// The profiles a task can name, as `genquorum profiles` lists them.
func ExampleWriteProfiles() {
	exact, _ := tensor.ProfileByName("exact")
	hopper, _ := tensor.ProfileByName("hopper-bf16")
	if err := tensor.WriteProfiles(os.Stdout, "text", []tensor.Profile{exact, hopper}); err != nil {
		panic(err)
	}
	// Output:
	// NAME         REDUCTION SPLIT            FMA  INPUT  ACCUM  STORAGE  IMITATES
	// exact        one sequential sum         no   f32    f32    f32      plain sequential float32 sums, no FMA, no half-precision rounding (the default)
	// hopper-bf16  chunks of 128, sequential  yes  bf16   f32    bf16     Hopper tensor cores in BF16: BF16 operands and activations, float32 accumulation, split-K of 128, sequential combine
}

// A training loop that reuses its memory: each step's tape takes its outputs and their
// gradients from the arena, and Reset takes them back for the next step. Buffers are zeroed
// when lent again, so every step gives the bits it would give without the arena.
func ExampleArena() {
	x := tensor.FromData([]float32{1, 2}, 1, 2)
	w := tensor.FromData([]float32{0.5, -1}, 1, 2).Param()
	t := tensor.FromData([]float32{1}, 1, 1)
	a := tensor.NewArena()
	for range 2 {
		w.ZeroGrad()
		tp := tensor.NewTape(tensor.Exact).WithArena(a)
		loss := tp.MSE(tp.Linear(x, w, nil), t)
		tp.Backward(loss)
		fmt.Println(loss.Item(), w.Grad) // w is a parameter: its gradient is not the arena's
		a.Reset()                        // loss and the other outputs must not be used from here
	}
	// Output:
	// 6.25 [-5 -10]
	// 6.25 [-5 -10]
}
