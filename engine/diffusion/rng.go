package diffusion

import (
	"math"

	"github.com/genquorum/genquorum/tensor"
)

// rng is SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter passed through a
// bijective mixer. It is written here, not taken from math/rand, so that no library upgrade
// can change a sample: every random draw of training and sampling comes from it.
type rng struct{ state uint64 }

// newRNG returns a generator for the stream (seed, stream): different streams of one seed
// are independent for practical purposes (the stream is mixed into the start state).
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

// intn returns a uniform integer in [0, n) (n > 0), by rejection so that there is no bias.
func (r *rng) intn(n int) int {
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		if v := r.next(); v < limit {
			return int(v % un)
		}
	}
}

// uniform returns a float32 in (0, 1]: 24 random bits, never zero (so its log is finite).
func (r *rng) uniform() float32 {
	return float32(r.next()>>40+1) / (1 << 24)
}

// normals fills xs with standard normal samples by the Box-Muller transform, using tensor's
// Log and SinCos, which give the same bits on every architecture.
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
