package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// attendRef is attend as it was before the vector kernels and the masked-key shortcut: one
// query and head at a time, scalar sums over every key. The reference of
// TestAttendKernelsMatchScalar.
func (s *State) attendRef(q []float32, t int, k, v []float32, total int, scale float32) *tensor.Tensor {
	c := &s.m.Config
	hd, hq, hk := c.HeadDim, c.Heads, c.KVHeads
	grp, off := hq/hk, total-t
	out := tensor.New(t, hq, hd)
	probs := make([]float32, total)
	acc := make([]float32, hd)
	for i := range t {
		valid := off + i + 1
		for h := range hq {
			qv := q[(i*hq+h)*hd : (i*hq+h+1)*hd]
			kh := h / grp
			row := probs[:valid]
			for j := range row {
				kv := k[(j*hk+kh)*hd : (j*hk+kh+1)*hd]
				var a float32
				for e, x := range qv {
					a += float32(x * kv[e])
				}
				row[j] = s.prof.Accum.Round(a) * scale
			}
			m := float32(math.Inf(-1))
			for _, x := range row {
				if x > m || x != x {
					m = x
				}
			}
			for j, x := range row {
				row[j] = tensor.Exp(x - m)
			}
			sum := s.prof.Sum(row)
			for j := range row {
				row[j] /= sum
			}
			clear(probs[valid:total])
			clear(acc)
			for j, p := range probs[:total] {
				vv := v[(j*hk+kh)*hd : (j*hk+kh+1)*hd]
				for e, x := range vv {
					acc[e] += float32(p * x)
				}
			}
			o := out.Data[(i*hq+h)*hd : (i*hq+h+1)*hd]
			copy(o, acc)
			s.prof.Accum.RoundSlice(o)
		}
	}
	s.prof.Storage.RoundSlice(out.Data)
	return out
}

// TestAttendKernelsMatchScalar checks attend (query-lane score kernel, vector weighted sums,
// masked keys skipped) against the scalar reference, bit for bit, for one and many new
// queries, on finite values and with an infinite or NaN query, key or value placed anywhere
// (the cases where the kernels must step aside).
func TestAttendKernelsMatchScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	half := tensor.Exact
	half.Name, half.Accum, half.Storage = "exact-f16", tensor.F16, tensor.F16
	for _, name := range []string{"tiny-llama-a-f32.gguf", "tiny-llama-b-gqa-f16.gguf"} {
		m := loadModel(t, name)
		c := m.Config
		scale := 1 / float32(math.Sqrt(float64(c.HeadDim)))
		for _, sz := range []struct{ tq, total int }{{1, 1}, {1, 30}, {5, 5}, {9, 20}, {17, 17}, {24, 40}} {
			for special := range 7 {
				t.Run(fmt.Sprintf("%s/t=%d/total=%d/special=%d", name, sz.tq, sz.total, special), func(t *testing.T) {
					q := make([]float32, sz.tq*c.Heads*c.HeadDim)
					k := make([]float32, sz.total*c.KVHeads*c.HeadDim)
					v := make([]float32, len(k))
					for _, s := range [][]float32{q, k, v} {
						for i := range s {
							s[i] = float32(rng.NormFloat64() * 2)
						}
					}
					nan := float32(math.NaN())
					switch special {
					case 1:
						q[rng.IntN(len(q))] = float32(math.Inf(1))
					case 2:
						k[rng.IntN(len(k))] = nan
					case 3:
						v[rng.IntN(len(v))] = float32(math.Inf(-1))
					case 4:
						v[len(v)-1] = nan // a masked value for every query but the last
					case 5:
						k[rng.IntN(len(k))] = 1e30 // scores overflow to infinity
						q[rng.IntN(len(q))] = -1e30
					case 6:
						v[rng.IntN(len(v))], q[0] = nan, nan
					}
					for _, prof := range []tensor.Profile{tensor.Exact, half} {
						st := m.NewState(prof)
						want := st.attendRef(q, sz.tq, k, v, sz.total, scale).Data
						got := st.attend(q, sz.tq, k, v, sz.total, scale).Data
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("output %d = %#x, scalar %#x", i, math.Float32bits(got[i]), math.Float32bits(want[i]))
							}
						}
					}
				})
			}
		}
	}
}

// TestAttendKernels checks the score and weighted-sum kernels against their Go twins.
func TestAttendKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	for _, hd := range []int{16, 32, 64} {
		const nkeys, ldq, ldk = 37, 24, 80
		qT := make([]float32, hd*ldq)
		k := make([]float32, nkeys*ldk)
		for _, s := range [][]float32{qT, k} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		a := make([]float32, nkeys*ldq)
		b := make([]float32, nkeys*ldq)
		qkLanesGo(hd, nkeys, qT, ldq, k, ldk, a, ldq)
		qkLanes(hd, nkeys, qT, ldq, k, ldk, b, ldq)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("hd %d: score %d = %v, Go twin %v", hd, i, b[i], a[i])
			}
		}
		p := make([]float32, nkeys)
		for i := range p {
			p[i] = float32(rng.Float64())
		}
		x := make([]float32, hd)
		y := make([]float32, hd)
		pvGo(p, k, ldk, x)
		pv(p, k, ldk, y)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("hd %d: weighted sum %d = %v, Go twin %v", hd, i, y[i], x[i])
			}
		}
	}
}
