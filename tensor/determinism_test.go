package tensor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// block is a small model with its parameters.
type block struct {
	params []*Tensor
	run    func(tp *Tape) (out, loss *Tensor)
}

// transformerBlock is a llama-style decoder layer with an embedding and an output head:
// RMSNorm, q/k/v projections, RoPE, causal grouped-query attention, output projection,
// residual, RMSNorm, SwiGLU feed-forward, residual, logits, cross-entropy.
func transformerBlock(seed uint64) block {
	const vocab, t, d, hq, hkv, hd, ff = 50, 32, 64, 4, 2, 16, 128
	r := rand.New(rand.NewPCG(seed, 1))
	w := func(shape ...int) *Tensor {
		x := randTensor(r, shape...)
		s := float32(1 / math.Sqrt(float64(shape[len(shape)-1])))
		for i := range x.Data {
			x.Data[i] *= s
		}
		return x.Param()
	}
	emb, n1, wq, wk, wv, wo := w(vocab, d), w(d), w(hq*hd, d), w(hkv*hd, d), w(hkv*hd, d), w(d, hq*hd)
	n2, wg, wu, wd, head := w(d), w(ff, d), w(ff, d), w(d, ff), w(vocab, d)
	ids := make([]int, t+1)
	pos := make([]int, t)
	for i := range ids {
		ids[i] = r.IntN(vocab)
	}
	for i := range pos {
		pos[i] = i
	}
	return block{
		params: []*Tensor{emb, n1, wq, wk, wv, wo, n2, wg, wu, wd, head},
		run: func(tp *Tape) (*Tensor, *Tensor) {
			x := tp.Embedding(emb, ids[:t])
			h := tp.RMSNorm(x, n1, 1e-5)
			q := tp.RoPE(tp.Reshape(tp.Linear(h, wq, nil), t, hq, hd), pos, 10000, false)
			k := tp.RoPE(tp.Reshape(tp.Linear(h, wk, nil), t, hkv, hd), pos, 10000, false)
			v := tp.Reshape(tp.Linear(h, wv, nil), t, hkv, hd)
			a := tp.Attention(q, k, v, float32(1/math.Sqrt(hd)), true)
			x = tp.Add(x, tp.Linear(tp.Reshape(a, t, hq*hd), wo, nil))
			h = tp.RMSNorm(x, n2, 1e-5)
			x = tp.Add(x, tp.Linear(tp.SwiGLU(tp.Linear(h, wg, nil), tp.Linear(h, wu, nil)), wd, nil))
			logits := tp.Linear(x, head, nil)
			return logits, tp.CrossEntropy(logits, ids[1:])
		},
	}
}

// convBlock is a small U-Net stage: conv, GroupNorm, SiLU, strided conv down, GELU,
// self-attention over positions, upsample, skip concatenation, conv, average pool, MSE.
func convBlock(seed uint64) block {
	r := rand.New(rand.NewPCG(seed, 2))
	w := func(shape ...int) *Tensor {
		x := randTensor(r, shape...)
		fan := 1
		for _, s := range shape[1:] {
			fan *= s
		}
		s := float32(1 / math.Sqrt(float64(fan)))
		for i := range x.Data {
			x.Data[i] *= s
		}
		return x.Param()
	}
	x := randTensor(r, 2, 8, 16, 16)
	target := randTensor(r, 2, 4, 8, 8)
	c1, b1, gw, gb := w(16, 8, 3, 3), w(16), w(16), w(16)
	c2, wq, c3, b3 := w(16, 16, 3, 3), w(16, 16), w(4, 24, 3, 3), w(4)
	return block{
		params: []*Tensor{c1, b1, gw, gb, c2, wq, c3, b3},
		run: func(tp *Tape) (*Tensor, *Tensor) {
			h := tp.SiLU(tp.GroupNorm(tp.Conv2d(x, c1, b1, 1, 1), 4, gw, gb, 1e-5)) // [2, 16, 16, 16]
			d := tp.GELU(tp.Conv2d(h, c2, nil, 2, 1))                               // [2, 16, 8, 8]
			seq := tp.Transpose(tp.Reshape(d, 2, 16, 64), 0, 2, 1)                  // [2, 64, 16]
			q := tp.Reshape(tp.Linear(seq, wq, nil), 2, 64, 2, 8)
			k := tp.Reshape(tp.Scale(seq, 0.5), 2, 64, 2, 8)
			v := tp.Reshape(tp.Scale(seq, 1), 2, 64, 2, 8)
			a := tp.Attention(q, k, v, 0.35, false)
			a = tp.Reshape(tp.Transpose(tp.Reshape(a, 2, 64, 16), 0, 2, 1), 2, 16, 8, 8)
			u := tp.Upsample(tp.Add(a, d), 2)                                 // [2, 16, 16, 16]
			out := tp.AvgPool(tp.Conv2d(tp.Concat(1, u, x), c3, b3, 1, 1), 2) // [2, 4, 8, 8]
			return out, tp.MSE(out, target)
		},
	}
}

// digest runs one forward and backward pass of b under p and returns a hash of the bits of
// the output, the loss and every parameter gradient.
func digest(b block, p Profile) string {
	for _, w := range b.params {
		w.ZeroGrad()
	}
	tp := NewTape(p)
	out, loss := b.run(tp)
	tp.Backward(loss)
	h := sha256.New()
	put := func(xs []float32) {
		var buf [4]byte
		for _, v := range xs {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			h.Write(buf[:])
		}
	}
	put(out.Data)
	put(loss.Data)
	for _, w := range b.params {
		put(w.Grad)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestDeterminismAcrossGOMAXPROCS requires identical bits of outputs, losses and gradients of
// a transformer block and a conv block for GOMAXPROCS 1, 2 and 8 and across repeated runs,
// for every preset; and the digests must equal testdata/determinism.golden, which pins them
// across machines (the golden file was written on amd64 with the AVX2 kernel; a machine using
// the portable kernel must produce the same file).
func TestDeterminismAcrossGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	blocks := []struct {
		name string
		b    block
	}{{"transformer", transformerBlock(1)}, {"conv", convBlock(2)}}
	var lines []string
	for _, p := range Profiles() {
		for _, bl := range blocks {
			var first string
			for i, procs := range []int{1, 2, 8, 2} {
				runtime.GOMAXPROCS(procs)
				d := digest(bl.b, p)
				if i == 0 {
					first = d
					continue
				}
				if d != first {
					t.Errorf("%s/%s: GOMAXPROCS %d gives digest %s, GOMAXPROCS 1 gave %s", p.Name, bl.name, procs, d, first)
				}
			}
			lines = append(lines, fmt.Sprintf("%s %s %s", p.Name, bl.name, first))
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	const golden = "testdata/determinism.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run go test -update once): %v", err)
	}
	if got != string(want) {
		t.Errorf("digests differ from %s (kernel %s):\n%s\nwant:\n%s", golden, kernelName, got, want)
	}
	// Different profiles must actually differ.
	seen := map[string]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if prev, ok := seen[f[1]+f[2]]; ok {
			t.Errorf("profiles %s and %s give the same %s digest", prev, f[0], f[1])
		}
		seen[f[1]+f[2]] = f[0]
	}
}

// TestDeterminismUnderFusingCompiler reruns TestDeterminismAcrossGOMAXPROCS in a subprocess
// built with GOAMD64=v3, where the Go compiler fuses x*y+z into FMA instructions wherever the
// language allows (as it does on arm64), and with -tags noasm, so that the portable kernel is
// the one tested. The digests must still equal the golden file: every product that feeds a sum
// is rounded explicitly. Skipped with -short, off amd64, and without a go command.
func TestDeterminismUnderFusingCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second test binary")
	}
	if runtime.GOARCH != "amd64" || os.Getenv("TENSOR_SUBPROCESS") != "" {
		t.Skip("amd64 only, and not inside itself")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.CommandContext(t.Context(), goCmd, "test", "-count=1", "-tags", "noasm", "-run", "^TestDeterminismAcrossGOMAXPROCS$", ".")
	cmd.Env = append(os.Environ(), "GOAMD64=v3", "TENSOR_SUBPROCESS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("GOAMD64=v3 -tags noasm: %v\n%s", err, out)
	}
}
