package llm

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

func TestRandSplitMix64(t *testing.T) {
	// Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
	r := NewRand(0)
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := r.Uint64(); got != want {
			t.Errorf("draw %d = %#x, want %#x", i, got, want)
		}
	}
}

func TestSamplingDist(t *testing.T) {
	logits := []float32{1, 3, 2, 3, -1, 0}
	tests := []struct {
		name string
		p    Params
		want []int32
	}{
		{"all, in id order", Params{Temperature: 1}, []int32{0, 1, 2, 3, 4, 5}},
		{"top-k 3", Params{Temperature: 1, TopK: 3}, []int32{1, 2, 3}},
		{"top-k 1 with a tie keeps the lower id", Params{Temperature: 1, TopK: 1}, []int32{1}},
		{"top-p 0.5 keeps the two tied best", Params{Temperature: 1, TopP: 0.5}, []int32{1, 3}},
		{"top-p 0.3 keeps one", Params{Temperature: 1, TopP: 0.3}, []int32{1}},
		{"top-p 0.9", Params{Temperature: 1, TopP: 0.9}, []int32{1, 2, 3}},
	}
	for _, tt := range tests {
		c := samplingDist(logits, &tt.p, -1)
		if !slices.Equal(c.ids, tt.want) {
			t.Errorf("%s: kept %v, want %v", tt.name, c.ids, tt.want)
		}
	}
	// Frequencies of pick over an even grid of draws follow the softmax.
	p := Params{Temperature: 0.7}
	c := samplingDist(logits, &p, -1)
	counts := map[int32]int{}
	const n = 200000
	for i := range n {
		counts[c.ids[c.pick((float64(i)+0.5)/n)]]++
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l) / 0.7)
	}
	for id, l := range logits {
		want := math.Exp(float64(l)/0.7) / z
		if got := float64(counts[int32(id)]) / n; math.Abs(got-want) > 1e-4 {
			t.Errorf("token %d picked with frequency %.5f, softmax %.5f", id, got, want)
		}
	}
}

func TestSampleSeeds(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-f32.gguf")
	prompt := m.Tok.Encode("Hello world", true, true)
	gen := func(seed uint64, prof tensor.Profile) []int32 {
		res, err := m.Generate(t.Context(), prompt, Params{Decode: DecodeSample, MaxTokens: 16, Temperature: 1, Seed: seed}, prof)
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	a, b, c := gen(1, tensor.Exact), gen(1, tensor.Exact), gen(2, tensor.Exact)
	if !slices.Equal(a, b) {
		t.Errorf("seed 1 twice: %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 gave the same sample %v", a)
	}
	// Temperature 0 is greedy whatever the seed.
	res, err := m.Generate(t.Context(), prompt, Params{Decode: DecodeSample, MaxTokens: 8, Temperature: 0, Seed: 9}, tensor.Exact)
	if err != nil {
		t.Fatal(err)
	}
	greedy, err := m.Generate(t.Context(), prompt, Params{Decode: DecodeGreedy, MaxTokens: 8}, tensor.Exact)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Tokens, greedy.Tokens) {
		t.Errorf("temperature 0: %v, greedy %v", res.Tokens, greedy.Tokens)
	}
}

// TestScoreMatchesGeneration checks that the teacher-forced pass (prompt and claim in one
// batch) reproduces the log-prob bits of token-by-token decoding, for greedy and beam outputs,
// under profiles whose attention is batch-invariant.
func TestScoreMatchesGeneration(t *testing.T) {
	for _, name := range benchModels {
		m := loadModel(t, name)
		prompt := m.Tok.Encode("The capital of France is", true, true)
		for _, pn := range []string{"exact", "cpu-avx2", "hopper-bf16"} {
			prof, _ := tensor.ProfileByName(pn)
			for _, dec := range []string{"greedy", "beam:4"} {
				res, err := m.Generate(t.Context(), prompt, Params{Decode: dec, MaxTokens: 12, TopN: 3}, prof)
				if err != nil {
					t.Fatal(err)
				}
				sc, err := m.Score(t.Context(), prompt, res.Tokens, prof, 3)
				if err != nil {
					t.Fatal(err)
				}
				var sum float64
				for i, s := range sc {
					st := res.Steps[i]
					if math.Float32bits(s.LogProb) != math.Float32bits(st.LogProb) || !slices.Equal(s.Top, st.Top) {
						t.Errorf("%s %s %s pos %d: Score log-prob %v top %v, generation %v top %v", name, pn, dec, i, s.LogProb, s.Top, st.LogProb, st.Top)
					}
					if dec == "greedy" && (s.Rank != 0 || s.Margin != st.Margin) {
						t.Errorf("%s %s greedy pos %d: rank %d margin %v, generation margin %v", name, pn, i, s.Rank, s.Margin, st.Margin)
					}
					sum += float64(st.LogProb)
				}
				if sum != res.Score {
					t.Errorf("%s %s %s: Score %v, sum of steps %v", name, pn, dec, res.Score, sum)
				}
			}
		}
	}
}

func TestBeam(t *testing.T) {
	m := loadModel(t, "tiny-llama-b-gqa-f16.gguf")
	for _, text := range []string{"Once upon a time", "1, 2, 3, 4,", "Bonjour"} {
		prompt := m.Tok.Encode(text, true, true)
		gen := func(dec string) *Result {
			res, err := m.Generate(t.Context(), prompt, Params{Decode: dec, MaxTokens: 10}, tensor.Exact)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		g, b1, b5, b5again := gen("greedy"), gen("beam:1"), gen("beam:5"), gen("beam:5")
		if !slices.Equal(g.Tokens, b1.Tokens) {
			t.Errorf("%q: beam:1 %v, greedy %v", text, b1.Tokens, g.Tokens)
		}
		if !slices.Equal(b5.Tokens, b5again.Tokens) || len(b5.Tokens) != 10 {
			t.Errorf("%q: beam:5 gave %v then %v", text, b5.Tokens, b5again.Tokens)
		}
		if b5.Score < b1.Score {
			// Not a theorem, but expected on these prompts: the wider beam finds a sequence at
			// least as likely as greedy's.
			t.Errorf("%q: beam:5 score %v below greedy's %v", text, b5.Score, b1.Score)
		}
	}
}

func TestContextOverflow(t *testing.T) {
	m := loadModel(t, "tiny-llama-a-f32.gguf")
	long := make([]int32, m.Config.Context)
	for i := range long {
		long[i] = int32(1 + i%100)
	}
	if _, err := m.Generate(t.Context(), long, Params{Decode: DecodeGreedy, MaxTokens: 1}, tensor.Exact); !errors.Is(err, ErrContext) {
		t.Errorf("prompt of %d tokens + 1: %v, want ErrContext", len(long), err)
	}
	if _, err := m.Score(t.Context(), long, []int32{5, 6}, tensor.Exact, 0); !errors.Is(err, ErrContext) {
		t.Errorf("Score beyond the context: %v, want ErrContext", err)
	}
}

// rewrite copies the f32 model with edit applied to its metadata and tensors.
func rewrite(t *testing.T, edit func(kvs []gguf.KV, ts []gguf.WriterTensor) ([]gguf.KV, []gguf.WriterTensor)) string {
	t.Helper()
	f, err := gguf.Open(filepath.Join(refDir, "models", "tiny-llama-a-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ts []gguf.WriterTensor
	for _, ti := range f.Tensors {
		data, err := f.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, gguf.WriterTensor{Name: ti.Name, Shape: ti.Shape, Type: ti.Type, Data: data})
	}
	kvs, ts := edit(slices.Clone(f.KV), ts)
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kvs, ts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrors(t *testing.T) {
	setKV := func(key string, v any) func([]gguf.KV, []gguf.WriterTensor) ([]gguf.KV, []gguf.WriterTensor) {
		return func(kvs []gguf.KV, ts []gguf.WriterTensor) ([]gguf.KV, []gguf.WriterTensor) {
			for i := range kvs {
				if kvs[i].Key == key {
					kvs[i].Value = v
				}
			}
			return kvs, ts
		}
	}
	tests := []struct {
		name string
		edit func([]gguf.KV, []gguf.WriterTensor) ([]gguf.KV, []gguf.WriterTensor)
		want error
	}{
		{"unknown architecture", setKV("general.architecture", "mamba"), ErrArchitecture},
		{"heads not dividing the width", setKV("llama.attention.head_count", uint32(5)), ErrArchitecture},
		{"unsupported tensor type", func(kvs []gguf.KV, ts []gguf.WriterTensor) ([]gguf.KV, []gguf.WriterTensor) {
			for i := range ts {
				if ts[i].Name == "blk.0.attn_q.weight" {
					ts[i].Type = gguf.TypeQ5_0
					ts[i].Data = make([]byte, 64*64/32*22)
				}
			}
			return kvs, ts
		}, ErrTensorType},
	}
	for _, tt := range tests {
		_, err := Load(rewrite(t, tt.edit), "")
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Load = %v, want %v", tt.name, err, tt.want)
		} else {
			t.Logf("%s: %v", tt.name, err)
		}
	}
	if _, err := Load(filepath.Join(refDir, "models", "no-such.gguf"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestTopIDs(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		l    []float32
		n    int
		want []int32
	}{
		{[]float32{1, 3, 2}, 2, []int32{1, 2}},
		{[]float32{3, 1, 3, 3}, 2, []int32{0, 2}},
		{[]float32{nan, 1, 2}, 3, []int32{2, 1, 0}},
		{[]float32{1, nan, 5, 5}, 2, []int32{2, 3}},
		{[]float32{2}, 5, []int32{0}},
	}
	for _, tt := range tests {
		if got := topIDs(tt.l, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("topIDs(%v, %d) = %v, want %v", tt.l, tt.n, got, tt.want)
		}
	}
	if got := rank([]float32{1, 3, 3, 2}, 2); got != 1 {
		t.Errorf("rank of a tie = %d, want 1 (the lower id ranks first)", got)
	}
}

// topIDsOneByOne is topIDs without the eight-at-a-time skip: the reference of
// TestTopIDsMatchesOneByOne.
func topIDsOneByOne(l []float32, n int) []int32 {
	n = min(n, len(l))
	top := make([]int32, 0, n+1)
	thr := float32(math.Inf(-1))
	for i, v := range l {
		if len(top) == n && v < thr {
			continue
		}
		id := int32(i)
		if len(top) == n && !better(l, id, top[n-1]) {
			continue
		}
		j := len(top)
		if j == n {
			j--
		} else {
			top = append(top, 0)
		}
		for j > 0 && better(l, id, top[j-1]) {
			top[j] = top[j-1]
			j--
		}
		top[j] = id
		if len(top) == n {
			thr = l[top[n-1]]
			if thr != thr {
				thr = float32(math.Inf(-1))
			}
		}
	}
	return top
}

// TestTopIDsMatchesOneByOne checks topIDs and its NaN report on random rows with ties, NaNs
// and infinities against the element-by-element scan.
func TestTopIDsMatchesOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 2000 {
		l := make([]float32, 1+rng.IntN(70))
		hasNaN := false
		for i := range l {
			switch r := rng.IntN(20); {
			case r == 0:
				l[i], hasNaN = float32(math.NaN()), true
			case r == 1:
				l[i] = float32(math.Inf(2*rng.IntN(2) - 1))
			default:
				l[i] = float32(rng.IntN(12)) // many ties
			}
		}
		n := 1 + rng.IntN(6)
		got, nan := topIDsNaN(l, n)
		if want := topIDsOneByOne(l, n); !slices.Equal(got, want) || nan != hasNaN {
			t.Fatalf("trial %d: topIDsNaN(%v, %d) = %v, %v; want %v, %v", trial, l, n, got, nan, want, hasNaN)
		}
	}
}
