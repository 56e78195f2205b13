package quorum

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDecide64MatchesDecide requires the same verdict from Decide64 and from Decide on the
// big-endian bytes, on clustered random votes where ties are common.
func TestDecide64MatchesDecide(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		n := r.IntN(12)
		base := r.Uint64()
		fps := make([]uint64, n)
		bs := make([][]byte, n)
		for i := range fps {
			f := base
			for range r.IntN(5) {
				f ^= 1 << r.IntN(64)
			}
			if r.IntN(8) == 0 {
				f = r.Uint64()
			}
			fps[i], bs[i] = f, binary.BigEndian.AppendUint64(nil, f)
		}
		replicas := max(1, n+r.IntN(3))
		tol, rule := r.IntN(5), Rule(1+r.IntN(2))
		got, err := Decide64(fps, replicas, tol, rule)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Decide(bs, replicas, tol, rule)
		if err != nil {
			t.Fatal(err)
		}
		if !equalVerdict(got, want) {
			t.Fatalf("Decide64(%x, %d, %d, %v) = %+v, Decide = %+v", fps, replicas, tol, rule, got, want)
		}
	}
	for _, c := range []struct {
		replicas, tol int
		rule          Rule
		want          error
	}{{3, 0, 0, ErrRule}, {3, -1, Majority, ErrTolerance}, {1, 0, Majority, ErrReplicas}} {
		if _, err := Decide64([]uint64{1, 2}, c.replicas, c.tol, c.rule); !errors.Is(err, c.want) {
			t.Errorf("Decide64(%d, %d, %v) error = %v, want %v", c.replicas, c.tol, c.rule, err, c.want)
		}
	}
}

func TestDecide64Allocs(t *testing.T) {
	fps := []uint64{7, 7, 6, 1 << 40, 7, 5, 7}
	if a := testing.AllocsPerRun(100, func() { Decide64(fps, 7, 1, Majority) }); a > 2 {
		t.Errorf("Decide64 allocates %v times, want <= 2", a)
	}
}

func ExampleDecide64() {
	// f00f and f00e are 1 bit apart: at tolerance 1 both have support 3, and the tie goes to
	// the smaller value, which three submissions lie within 1 bit of.
	v, err := Decide64([]uint64{0xf00f, 0xf00f, 0xf00e, 0x1234}, 4, 1, Majority)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v %x %v %v\n", v.Accepted, v.Value, v.Agreeing, v.Outliers)
	// Output:
	// true 000000000000f00e [0 1 2] [3]
}

// BenchmarkDecide64 pairs with BenchmarkDecide's bytes8 cases.
func BenchmarkDecide64(b *testing.B) {
	for _, n := range []int{3, 7, 31} {
		r := rand.New(rand.NewPCG(1, 2))
		fps := make([]uint64, n)
		for i := range fps {
			fps[i] = r.Uint64()
		}
		for i := 1; i < n*2/3+1; i++ {
			fps[i] = fps[0]
		}
		b.Run(fmt.Sprintf("n%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decide64(fps, n, 2, SuperMajority); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
