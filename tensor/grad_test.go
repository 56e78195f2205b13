package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gradCase is one operation under gradient check: f builds the output from the inputs.
type gradCase struct {
	name   string
	inputs [][]int // shapes of the inputs, filled with N(0, 1) values
	f      func(tp *Tape, in []*Tensor) *Tensor
}

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	return FromData(randSlice(r, numel(shape)), shape...)
}

var gradCases = []gradCase{
	{"Add/broadcast", [][]int{{3, 4}, {4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }},
	{"Add/middle", [][]int{{2, 3, 4}, {3, 1}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }},
	{"Sub", [][]int{{2, 3, 4}, {3, 1}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Sub(in[0], in[1]) }},
	{"Mul", [][]int{{2, 3, 4}, {1, 3, 4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Mul(in[0], in[1]) }},
	{"Scale", [][]int{{5}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Scale(in[0], -1.5) }},
	{"Reshape", [][]int{{2, 6}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Reshape(in[0], 3, -1) }},
	{"Transpose", [][]int{{2, 3, 4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Transpose(in[0], 2, 0, 1) }},
	{"Concat", [][]int{{2, 3}, {2, 2}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Concat(1, in[0], in[1]) }},
	{"Split", [][]int{{2, 6}}, func(tp *Tape, in []*Tensor) *Tensor {
		s := tp.Split(in[0], 1, 2, 4)
		return tp.Concat(1, tp.Scale(s[1], 2), s[0])
	}},
	{"Sum", [][]int{{3, 5}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Sum(in[0]) }},
	{"Mean", [][]int{{3, 5}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Mean(in[0]) }},
	{"SumAxis", [][]int{{3, 4, 2}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.SumAxis(in[0], 1) }},
	{"MeanAxis", [][]int{{3, 4, 2}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.MeanAxis(in[0], -1) }},
	{"Embedding", [][]int{{5, 3}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Embedding(in[0], []int{1, 4, 1, 0}) }},
	{"MatMul/shared", [][]int{{2, 3, 5}, {5, 4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.MatMul(in[0], in[1]) }},
	{"MatMul/batched", [][]int{{2, 3, 5}, {2, 5, 17}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.MatMul(in[0], in[1]) }},
	{"Linear", [][]int{{2, 3, 6}, {5, 6}, {5}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2]) }},
	{"RMSNorm", [][]int{{3, 8}, {8}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.RMSNorm(in[0], in[1], 1e-5) }},
	{"LayerNorm", [][]int{{3, 8}, {8}, {8}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.LayerNorm(in[0], in[1], in[2], 1e-5) }},
	{"GroupNorm", [][]int{{2, 4, 3, 3}, {4}, {4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.GroupNorm(in[0], 2, in[1], in[2], 1e-5) }},
	{"Softmax", [][]int{{3, 7}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Softmax(in[0]) }},
	{"LogSoftmax", [][]int{{3, 7}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.LogSoftmax(in[0]) }},
	{"SiLU", [][]int{{9}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.SiLU(in[0]) }},
	{"GELU", [][]int{{9}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.GELU(in[0]) }},
	{"SwiGLU", [][]int{{2, 5}, {2, 5}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.SwiGLU(in[0], in[1]) }},
	{"RoPE/normal", [][]int{{4, 2, 6}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.RoPE(in[0], []int{0, 1, 2, 7}, 10000, false) }},
	{"RoPE/neox", [][]int{{1, 4, 2, 6}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.RoPE(in[0], []int{3, 4, 5, 6}, 10000, true) }},
	{"Attention/causal-gqa", [][]int{{1, 5, 4, 8}, {1, 5, 2, 8}, {1, 5, 2, 8}}, func(tp *Tape, in []*Tensor) *Tensor {
		return tp.Attention(in[0], in[1], in[2], 0.35, true)
	}},
	{"Attention/kv-cache", [][]int{{3, 2, 4}, {6, 1, 4}, {6, 1, 4}}, func(tp *Tape, in []*Tensor) *Tensor {
		return tp.Attention(in[0], in[1], in[2], 0.5, true)
	}},
	{"Attention/full", [][]int{{2, 3, 2, 4}, {2, 4, 2, 4}, {2, 4, 2, 4}}, func(tp *Tape, in []*Tensor) *Tensor {
		return tp.Attention(in[0], in[1], in[2], 0.5, false)
	}},
	{"Attention/shared-qkv", [][]int{{4, 2, 4}}, func(tp *Tape, in []*Tensor) *Tensor {
		return tp.Attention(in[0], in[0], in[0], 0.5, true)
	}},
	{"Conv2d/s1p1", [][]int{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Conv2d(in[0], in[1], in[2], 1, 1) }},
	{"Conv2d/s2p1", [][]int{{1, 2, 6, 6}, {3, 2, 3, 3}, {3}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Conv2d(in[0], in[1], in[2], 2, 1) }},
	{"Conv2d/1x1", [][]int{{1, 3, 4, 4}, {2, 3, 1, 1}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Conv2d(in[0], in[1], nil, 1, 0) }},
	{"Upsample", [][]int{{1, 2, 3, 3}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.Upsample(in[0], 2) }},
	{"AvgPool", [][]int{{1, 2, 4, 4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.AvgPool(in[0], 2) }},
	{"MSE", [][]int{{3, 4}, {3, 4}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.MSE(in[0], in[1]) }},
	{"CrossEntropy", [][]int{{3, 6}}, func(tp *Tape, in []*Tensor) *Tensor { return tp.CrossEntropy(in[0], []int{2, 0, 5}) }},
}

// Gradient-check tolerances. The numerical gradient is a central difference with step
// gradStep on float32 evaluations, the objective sum(out * R) accumulated in float64: its
// truncation error is O(gradStep^2) ~ 1e-5 for these smooth ops with N(0,1) inputs, and its
// rounding error about 2^-24 * sum|out*R| / (2 gradStep) ~ 1e-4 for outputs of tens of
// elements. An analytic gradient is accepted when |analytic - numeric| <= gradAbsTol +
// gradRelTol*|numeric|; a wrong formula (a missing factor, a sign) misses by orders more.
const (
	gradStep   = 1e-2
	gradAbsTol = 2e-3
	gradRelTol = 1e-2
)

// objective returns sum(out * w) in float64.
func objective(out *Tensor, w []float32) float64 {
	var s float64
	for i, v := range out.Data {
		s += float64(v) * float64(w[i])
	}
	return s
}

// TestGradients checks every operation's backward pass against central finite differences, for
// every input, under the Exact profile and under cpu-avx512 (lanes and FMA; no half precision,
// where a finite difference would drown in rounding).
func TestGradients(t *testing.T) {
	for _, name := range []string{"exact", "cpu-avx512", "ampere-tf32"} {
		prof, err := ProfileByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if prof.Input != F32 {
			// TF32 inputs: keep the profile's split and FMA but not its rounding, which no
			// finite difference can see through.
			prof.Input = F32
		}
		for _, tc := range gradCases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(11, 12))
				in := make([]*Tensor, len(tc.inputs))
				for i, sh := range tc.inputs {
					in[i] = randTensor(r, sh...).Param()
				}
				tp := NewTape(prof)
				out := tc.f(tp, in)
				w := randTensor(r, out.Shape...)
				loss := tp.Sum(tp.Mul(out, w))
				tp.Backward(loss)
				ng := NoGrad(prof)
				for ii, x := range in {
					if x.Grad == nil {
						t.Fatalf("input %d has no gradient", ii)
					}
					for j := range x.Data {
						orig := x.Data[j]
						x.Data[j] = orig + gradStep
						fp := objective(tc.f(ng, in), w.Data)
						x.Data[j] = orig - gradStep
						fm := objective(tc.f(ng, in), w.Data)
						x.Data[j] = orig
						num := (fp - fm) / (2 * gradStep)
						got := float64(x.Grad[j])
						if math.Abs(got-num) > gradAbsTol+gradRelTol*math.Abs(num) {
							t.Errorf("d/d input%d[%d] = %.6g, finite difference %.6g", ii, j, got, num)
						}
					}
				}
			})
		}
	}
}

// TestGradientAccumulation checks that two Backward calls add up and ZeroGrad clears.
func TestGradientAccumulation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := randTensor(r, 3, 4).Param()
	x := randTensor(r, 2, 4)
	run := func() {
		tp := NewTape(Exact)
		tp.Backward(tp.Sum(tp.Linear(x, w, nil)))
	}
	run()
	once := append([]float32(nil), w.Grad...)
	run()
	for i := range once {
		if w.Grad[i] != 2*once[i] {
			t.Fatalf("after two Backward calls grad[%d] = %v, want %v", i, w.Grad[i], 2*once[i])
		}
	}
	w.ZeroGrad()
	if w.Grad != nil {
		t.Error("ZeroGrad left a gradient")
	}
	ng := NoGrad(Exact)
	if out := ng.Linear(x, w, nil); out.RequiresGrad() || ng.Len() != 0 {
		t.Error("NoGrad tape recorded an operation")
	}
}

// TestGradientsUnderHalfPrecisionProfiles compares, for every operation, the gradients under
// each half-precision preset with those under Exact: a finite difference cannot see through
// FP16 or BF16 rounding, but the gradients must stay within halfGradTol(p) (normwise relative
// difference), 8 unit roundoffs of the profile's coarsest format. The measured worst case is
// logged.
func TestGradientsUnderHalfPrecisionProfiles(t *testing.T) {
	for _, p := range Profiles() {
		if p.Input == F32 && p.Storage == F32 && p.Accum == F32 {
			continue
		}
		tol := 8 * max(p.Input.UnitRoundoff(), p.Storage.UnitRoundoff(), p.Accum.UnitRoundoff())
		worst, worstOp := 0.0, ""
		for _, tc := range gradCases {
			grads := func(prof Profile) [][]float32 {
				r := rand.New(rand.NewPCG(11, 12))
				in := make([]*Tensor, len(tc.inputs))
				for i, sh := range tc.inputs {
					in[i] = randTensor(r, sh...).Param()
				}
				tp := NewTape(prof)
				out := tc.f(tp, in)
				w := randTensor(r, out.Shape...)
				tp.Backward(tp.Sum(tp.Mul(out, w)))
				g := make([][]float32, len(in))
				for i, x := range in {
					g[i] = x.Grad
				}
				return g
			}
			ge, gp := grads(Exact), grads(p)
			for i := range ge {
				d := relDiff32(gp[i], ge[i])
				if d > worst {
					worst, worstOp = d, tc.name
				}
				if d > tol {
					t.Errorf("%s/%s: gradient of input %d differs from exact by %.3g, above %.3g", p.Name, tc.name, i, d, tol)
				}
			}
		}
		t.Logf("%s: worst gradient difference from exact %.3g (%s), tolerance %.3g", p.Name, worst, worstOp, tol)
	}
}
