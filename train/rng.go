package train

import (
	"math"

	"github.com/genquorum/genquorum/tensor"
)

// rng is SplitMix64, as in engine/diffusion (written out here, not taken from math/rand, so
// that no library upgrade can change a draw). Every source of randomness of a run draws from
// its own stream (seed, stream), so that switching one source on leaves the others' draws
// untouched.
type rng struct{ state uint64 }

func newRNG(seed, stream uint64) *rng {
	r := &rng{state: seed}
	r.state = r.next() ^ stream*0xd1342543de82ef95
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform integer in [0, n) (n > 0) by rejection.
func (r *rng) intn(n int) int {
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		if v := r.next(); v < limit {
			return int(v % un)
		}
	}
}

// uniform returns a float32 in (0, 1].
func (r *rng) uniform() float32 { return float32(r.next()>>40+1) / (1 << 24) }

// normals fills xs with standard normals (Box-Muller on tensor's portable Log and SinCos).
func (r *rng) normals(xs []float32) {
	for i := 0; i < len(xs); i += 2 {
		u, v := r.uniform(), r.uniform()
		rad := float32(math.Sqrt(float64(-2 * tensor.Log(u))))
		s, c := tensor.SinCos(float64(2*math.Pi) * float64(v))
		xs[i] = float32(rad * c)
		if i+1 < len(xs) {
			xs[i+1] = float32(rad * s)
		}
	}
}

// mix derives a seed from a seed and a label (one SplitMix64 round of their combination).
func mix(seed, label uint64) uint64 {
	r := rng{state: seed ^ label*0x9e3779b97f4a7c15}
	return r.next()
}
