package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks report GFLOP/s (2 flops per multiply-add) of wall time, and GFLOP per CPU
// second of this process (gflop/cpu-s), which stays meaningful on a machine shared with other
// work: with -cpu 1 it is the per-core speed. Run with -cpu 1,2 to see the scaling.

// timed runs body in a b.Loop and reports both metrics for flops per iteration.
func timed(b *testing.B, flops float64, body func()) {
	b.ReportAllocs()
	c0 := cpuSeconds()
	for b.Loop() {
		body()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c := cpuSeconds() - c0; c > 0 {
		b.ReportMetric(flops*float64(b.N)/c/1e9, "gflop/cpu-s")
	}
}

func BenchmarkMatMul(b *testing.B) {
	for _, name := range []string{"exact", "cpu-avx512", "hopper-bf16"} {
		p, _ := ProfileByName(name)
		for _, n := range []int{256, 512, 1024} {
			if name != "exact" && n != 512 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				x, y := randTensor(r, n, n), randTensor(r, n, n)
				tp := NoGrad(p)
				timed(b, 2*float64(n)*float64(n)*float64(n), func() { tp.MatMul(x, y) })
			})
		}
	}
}

// BenchmarkLinearDecode is the LLM decode step: one token through a 4096 x 4096 weight.
func BenchmarkLinearDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, w := randTensor(r, 1, 4096), randTensor(r, 4096, 4096).Freeze()
	tp := NoGrad(Exact)
	timed(b, 2*4096*4096, func() { tp.Linear(x, w, nil) })
}

func BenchmarkConv2d(b *testing.B) {
	for _, sh := range []struct{ n, c, hw, co, stride int }{{1, 64, 32, 64, 1}, {1, 128, 16, 128, 1}, {4, 32, 32, 64, 2}} {
		b.Run(fmt.Sprintf("n%d_c%d_%dx%d_co%d_s%d", sh.n, sh.c, sh.hw, sh.hw, sh.co, sh.stride), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, w := randTensor(r, sh.n, sh.c, sh.hw, sh.hw), randTensor(r, sh.co, sh.c, 3, 3)
			tp := NoGrad(Exact)
			oh := (sh.hw+2-3)/sh.stride + 1
			flops := 2 * float64(sh.n*sh.co*oh*oh*sh.c*9)
			timed(b, flops, func() { tp.Conv2d(x, w, nil, sh.stride, 1) })
		})
	}
}

func BenchmarkAttention(b *testing.B) {
	const t, hq, hkv, d = 256, 8, 2, 64
	flops := 4 * float64(t*t*hq*d) // two products, masked half still computed
	for _, train := range []bool{false, true} {
		name := "forward"
		if train {
			name = "forward+backward"
		}
		b.Run(fmt.Sprintf("T%d_H%d_KV%d_D%d/%s", t, hq, hkv, d, name), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			q, k, v := randTensor(r, 1, t, hq, d), randTensor(r, 1, t, hkv, d), randTensor(r, 1, t, hkv, d)
			if train {
				q.Param()
				k.Param()
				v.Param()
			}
			f := flops
			if train {
				f *= 3
			}
			timed(b, f, func() {
				if !train {
					NoGrad(Exact).Attention(q, k, v, 0.125, true)
					return
				}
				tp := NewTape(Exact)
				tp.Backward(tp.Sum(tp.Attention(q, k, v, 0.125, true)))
			})
		})
	}
}
