package llm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// TestMatVecMatchesTensor checks that the decoding kernel gives tensor.Tape.Linear's bits under
// the profiles it is used for, and that the assembly and the portable kernel agree.
func TestMatVecMatchesTensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	halfStore := tensor.Exact
	halfStore.Name, halfStore.Storage = "exact-f16-storage", tensor.F16
	for _, prof := range []tensor.Profile{tensor.Exact, halfStore} {
		for _, sz := range []struct{ n, k int }{{1, 1}, {63, 64}, {64, 64}, {65, 32}, {130, 128}, {3000, 64}} {
			w := make([]float32, sz.n*sz.k)
			x := make([]float32, sz.k)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 3)
			}
			want := tensor.NoGrad(prof).Linear(tensor.FromData(x, 1, sz.k), tensor.FromData(w, sz.n, sz.k), nil).Data
			p := packPanels(w, sz.n, sz.k)
			got := make([]float32, sz.n)
			p.mulVec(x, got)
			prof.Accum.RoundSlice(got)
			prof.Storage.RoundSlice(got)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n %d k %d: output %d = %v, tensor %v", prof.Name, sz.n, sz.k, i, got[i], want[i])
				}
			}
			// Several rows at once (mulMat): the same bits as tensor on the batch.
			const rows = 7 // a group of four rows (mulMat's four-row kernel) and three single rows
			xs := make([]float32, rows*sz.k)
			for i := range xs {
				xs[i] = float32(rng.NormFloat64() * 3)
			}
			wantM := tensor.NoGrad(prof).Linear(tensor.FromData(xs, rows, sz.k), tensor.FromData(w, sz.n, sz.k), nil).Data
			gotM := make([]float32, rows*sz.n)
			p.mulMat(xs, rows, gotM)
			prof.Accum.RoundSlice(gotM)
			prof.Storage.RoundSlice(gotM)
			for i := range wantM {
				if math.Float32bits(gotM[i]) != math.Float32bits(wantM[i]) {
					t.Fatalf("%s n %d k %d: batched output %d = %v, tensor %v", prof.Name, sz.n, sz.k, i, gotM[i], wantM[i])
				}
			}
			var a, b [panelWidth]float32
			matvecGo(sz.k, x, p.data[:sz.k*panelWidth], &a)
			matvecPanel(sz.k, x, p.data[:sz.k*panelWidth], &b)
			if a != b {
				t.Errorf("n %d k %d: assembly and Go kernels differ", sz.n, sz.k)
			}
		}
	}
}

// TestQ8DotMatchesProfile checks the inlined block sum of linearQ8 against Profile.Dot.
func TestQ8DotMatchesProfile(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-q8_0.gguf")
	prompt := []int32{1, 9038, 2501, 263, 931}
	for _, prof := range tensor.Profiles() {
		slow := prof
		slow.Lanes, slow.Chunk = 1, 1 // parts of length 1: Dot's general path, same order
		if prof.Lanes > 1 || prof.Chunk > 0 || prof.FMA {
			continue
		}
		a, err := m.NewState(prof).Eval(prompt, 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.NewState(slow).Eval(prompt, 1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: logit %d = %v inlined, %v with Profile.Dot", prof.Name, i, a[i], b[i])
			}
		}
	}
}

// TestAttendMatchesTensor checks the decoding attention against tensor.Tape.Attention (bits),
// for one and several new queries against a cache, with grouped-query heads, under the
// profiles attend is used for.
func TestAttendMatchesTensor(t *testing.T) {
	m := loadModel(t, "tiny-llama-b-gqa-f16.gguf")
	c := m.Config
	rng := rand.New(rand.NewPCG(7, 8))
	halfStore := tensor.Exact
	halfStore.Name, halfStore.Accum, halfStore.Storage = "exact-f16", tensor.F16, tensor.F16
	for _, prof := range []tensor.Profile{tensor.Exact, halfStore} {
		if !attendProfile(&prof) {
			t.Fatalf("%s: not an attend profile", prof.Name)
		}
		for _, sz := range []struct{ tq, total int }{{1, 1}, {1, 9}, {5, 5}, {4, 11}} {
			q := make([]float32, sz.tq*c.Heads*c.HeadDim)
			k := make([]float32, sz.total*c.KVHeads*c.HeadDim)
			v := make([]float32, len(k))
			for _, s := range [][]float32{q, k, v} {
				for i := range s {
					s[i] = float32(rng.NormFloat64() * 2)
				}
			}
			scale := 1 / float32(math.Sqrt(float64(c.HeadDim)))
			want := tensor.NoGrad(prof).Attention(tensor.FromData(q, sz.tq, c.Heads, c.HeadDim),
				tensor.FromData(k, sz.total, c.KVHeads, c.HeadDim), tensor.FromData(v, sz.total, c.KVHeads, c.HeadDim), scale, true).Data
			got := m.NewState(prof).attend(q, sz.tq, k, v, sz.total, scale).Data
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s tq %d total %d: output %d = %v, tensor %v", prof.Name, sz.tq, sz.total, i, got[i], want[i])
				}
			}
		}
	}
}

// TestMatVecF16MatchesTensor checks the F16-panel kernels (one row and batched) against
// tensor.Tape.Linear on the same weights as float32, and the assembly against the Go twin.
func TestMatVecF16MatchesTensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sz := range []struct{ n, k int }{{1, 1}, {64, 64}, {65, 32}, {130, 128}, {3000, 64}} {
		w := make([]float32, sz.n*sz.k)
		for i := range w {
			w[i] = tensor.F16.Round(float32(rng.NormFloat64()))
		}
		w[0] = tensor.Float16ToFloat32(0x0001) // a subnormal half
		const rows = 6
		x := make([]float32, rows*sz.k)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		want := tensor.NoGrad(tensor.Exact).Linear(tensor.FromData(x, rows, sz.k), tensor.FromData(w, sz.n, sz.k), nil).Data
		p := packPanelsF16(w, sz.n, sz.k)
		got := make([]float32, rows*sz.n)
		p.mulMat(x, rows, got)
		one := make([]float32, sz.n)
		p.mulVec(x[:sz.k], one)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d k %d: batched output %d = %v, tensor %v", sz.n, sz.k, i, got[i], want[i])
			}
		}
		for i := range one {
			if math.Float32bits(one[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d k %d: output %d = %v, tensor %v", sz.n, sz.k, i, one[i], want[i])
			}
		}
		var a, b [panelWidth]float32
		matvecGoF16(sz.k, x, p.half[:sz.k*panelWidth], &a)
		matvecPanelF16(sz.k, x, p.half[:sz.k*panelWidth], &b)
		if a != b {
			t.Errorf("n %d k %d: assembly and Go F16 kernels differ", sz.n, sz.k)
		}
	}
}
