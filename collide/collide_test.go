package collide

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveCount is the slow, obvious twin of CountGroups: every pair of every group, one at a time.
func naiveCount(s *Set, bounds []int, t int) Counts {
	c := Counts{Exact: make([]uint64, t+1)}
	for g := 0; g+1 < len(bounds); g++ {
		for i := bounds[g]; i < bounds[g+1]; i++ {
			for j := i + 1; j < bounds[g+1]; j++ {
				c.Pairs++
				if d := s.Distance(i, j); d <= t {
					c.Exact[d]++
				}
			}
		}
	}
	return c
}

// naivePairs lists the pairs within t of every group, sorted.
func naivePairs(s *Set, bounds []int, t int) []Pair {
	var ps []Pair
	for g := 0; g+1 < len(bounds); g++ {
		for i := bounds[g]; i < bounds[g+1]; i++ {
			for j := i + 1; j < bounds[g+1]; j++ {
				if d := s.Distance(i, j); d <= t {
					ps = append(ps, Pair{i, j, d})
				}
			}
		}
	}
	return ps
}

func comparePairs(a, b Pair) int {
	if a.I != b.I {
		return a.I - b.I
	}
	return a.J - b.J
}

// dataset is a test input: a set and its groups.
type dataset struct {
	name   string
	s      *Set
	bounds []int
}

// uniform returns n uniformly random bits-wide hashes.
func uniform(n, bits int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 2))
	s := NewSet(bits)
	h := make([]uint64, s.Words())
	for range n {
		for k := range h {
			h[k] = r.Uint64()
		}
		h[0] &= topMask(bits)
		s.Append(h...)
	}
	return s
}

// withDuplicates returns s with extra copies of some of its hashes (distance-0 pairs) inserted
// next to the originals, so they stay in the same group; bounds are adjusted.
func withDuplicates(s *Set, bounds []int, every int) (*Set, []int) {
	out := NewSet(s.Bits())
	nb := []int{0}
	for g := 0; g+1 < len(bounds); g++ {
		for i := bounds[g]; i < bounds[g+1]; i++ {
			out.Append(s.At(i)...)
			if i%every == 0 {
				out.Append(s.At(i)...)
				out.Append(s.At(i)...)
			}
		}
		nb = append(nb, out.Len())
	}
	return out, nb
}

func datasets() []dataset {
	var ds []dataset
	for _, bits := range []int{64, 256, 44, 100} {
		u := uniform(700, bits, uint64(bits))
		ds = append(ds, dataset{fmt.Sprintf("uniform%d", bits), u, []int{0, u.Len()}})
		// Few bits flipped: many pairs within small distances, and big multi-index buckets.
		c, b := Clustered(6, 150, bits, 0.02, uint64(bits))
		ds = append(ds, dataset{fmt.Sprintf("clustered%d", bits), c, b})
		c, b = Clustered(10, 90, bits, 0.1, uint64(bits)+1)
		ds = append(ds, dataset{fmt.Sprintf("clustered%d-flip0.1", bits), c, b})
		d, db := withDuplicates(c, b, 7)
		ds = append(ds, dataset{fmt.Sprintf("duplicates%d", bits), d, db})
	}
	// Small widths: tolerances up to and past the width.
	c, b := Clustered(4, 60, 8, 0.2, 3)
	ds = append(ds, dataset{"clustered8", c, b})
	// Uneven groups, including empty and single-hash ones.
	u := uniform(400, 64, 9)
	ds = append(ds, dataset{"uneven64", u, []int{0, 0, 1, 1, 150, 151, 400}})
	return ds
}

// TestCountMatchesNaive is the property test: every method, worker count and tolerance gives
// exactly the brute-force counts, per group and for the whole set.
func TestCountMatchesNaive(t *testing.T) {
	for _, ds := range datasets() {
		for _, tol := range []int{0, 1, 2, 3, 5, 9} {
			if tol > ds.s.Bits() {
				continue
			}
			scopes := []struct {
				name   string
				bounds []int
			}{{"groups", ds.bounds}, {"whole", []int{0, ds.s.Len()}}}
			for _, sc := range scopes {
				want := naiveCount(ds.s, sc.bounds, tol)
				for _, m := range []Method{Auto, BruteForce, MultiIndex} {
					for _, workers := range []int{1, 3} {
						name := fmt.Sprintf("%s/%s/t%d/%v/w%d", ds.name, sc.name, tol, m, workers)
						got, err := CountGroups(t.Context(), ds.s, sc.bounds, Options{Tolerance: tol, Method: m, Workers: workers})
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if got.Pairs != want.Pairs || !slices.Equal(got.Exact, want.Exact) {
							t.Errorf("%s: pairs %d exact %v, want %d %v", name, got.Pairs, got.Exact, want.Pairs, want.Exact)
						}
						if m == BruteForce && got.Compared != got.Pairs {
							t.Errorf("%s: brute force compared %d of %d pairs", name, got.Compared, got.Pairs)
						}
					}
				}
			}
		}
	}
}

// TestCountAutoLarge checks Auto on sets large enough for it to choose multi-index hashing,
// against brute force, for 64 and 256 bits.
func TestCountAutoLarge(t *testing.T) {
	for _, bits := range []int{64, 256} {
		s, _ := Clustered(8, 700, bits, 0.05, 7)
		d, _ := withDuplicates(s, []int{0, s.Len()}, 11)
		for _, tol := range []int{0, 2, 4} {
			opts := Options{Tolerance: tol, Method: BruteForce}
			want, err := Count(t.Context(), d, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Method = Auto
			got, err := Count(t.Context(), d, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Exact, want.Exact) {
				t.Errorf("%d bits, t=%d: Auto %v, brute force %v", bits, tol, got.Exact, want.Exact)
			}
			if got.Method != MultiIndex || 2*got.Compared >= want.Compared {
				t.Errorf("%d bits, t=%d: Auto used %v comparing %d pairs; want multi-index comparing under half of %d",
					bits, tol, got.Method, got.Compared, want.Compared)
			}
		}
	}
}

// TestPairsMatchesNaive checks that Pairs lists exactly the brute-force pairs, each once.
func TestPairsMatchesNaive(t *testing.T) {
	for _, ds := range datasets() {
		for _, tol := range []int{0, 2, 5} {
			if tol > ds.s.Bits() {
				continue
			}
			want := naivePairs(ds.s, ds.bounds, tol)
			for _, m := range []Method{BruteForce, MultiIndex} {
				var got []Pair
				err := Pairs(t.Context(), ds.s, ds.bounds, Options{Tolerance: tol, Method: m}, func(p Pair) bool {
					got = append(got, p)
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range got {
					if p.I >= p.J {
						t.Errorf("%s/t%d/%v: pair %v not ordered", ds.name, tol, m, p)
					}
				}
				slices.SortFunc(got, comparePairs)
				if !slices.Equal(got, want) {
					t.Errorf("%s/t%d/%v: %d pairs, want %d", ds.name, tol, m, len(got), len(want))
				}
			}
		}
	}
}

func TestPairsStops(t *testing.T) {
	s, b := Clustered(3, 100, 64, 0.02, 1)
	for _, m := range []Method{BruteForce, MultiIndex} {
		n := 0
		err := Pairs(t.Context(), s, b, Options{Tolerance: 3, Method: m}, func(Pair) bool {
			n++
			return n < 5
		})
		if err != nil || n != 5 {
			t.Errorf("%v: yield called %d times (err %v), want 5", m, n, err)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, b := Clustered(3, 5000, 64, 0.1, 1)
	for _, m := range []Method{BruteForce, MultiIndex} {
		if _, err := CountGroups(ctx, s, b, Options{Tolerance: 2, Method: m}); !errors.Is(err, context.Canceled) {
			t.Errorf("%v: CountGroups(cancelled) error %v, want context.Canceled", m, err)
		}
		if err := Pairs(ctx, s, nil, Options{Tolerance: 2, Method: m}, func(Pair) bool { return true }); !errors.Is(err, context.Canceled) {
			t.Errorf("%v: Pairs(cancelled) error %v, want context.Canceled", m, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	s := uniform(10, 64, 1)
	tests := []struct {
		name   string
		bounds []int
		opts   Options
	}{
		{"negative tolerance", []int{0, 10}, Options{Tolerance: -1}},
		{"tolerance above width", []int{0, 10}, Options{Tolerance: 65}},
		{"unknown method", []int{0, 10}, Options{Method: 7}},
		{"bounds not from 0", []int{1, 10}, Options{}},
		{"bounds short", []int{0, 9}, Options{}},
		{"bounds decrease", []int{0, 6, 5, 10}, Options{}},
		{"no bounds", []int{}, Options{}},
	}
	for _, tt := range tests {
		if _, err := CountGroups(t.Context(), s, tt.bounds, tt.opts); !errors.Is(err, ErrOptions) {
			t.Errorf("CountGroups(%s) error %v, want ErrOptions", tt.name, err)
		}
	}
}

func TestProgress(t *testing.T) {
	s, b := Clustered(20, 300, 64, 0.1, 1)
	var last, total uint64
	calls := 0
	got, err := CountGroups(t.Context(), s, b, Options{Tolerance: 2, Workers: 2, Progress: func(done, tot uint64) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last, total = done, tot
		calls++
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != got.Compared || total != got.Compared {
		t.Errorf("progress ended at %d of %d after %d calls, want %d of %d", last, total, calls, got.Compared, got.Compared)
	}
}

func TestChunkMasksPartition(t *testing.T) {
	for _, bits := range []int{1, 8, 44, 64, 100, 256, 257} {
		for _, tol := range []int{0, 1, 2, 7, 16} {
			if tol+1 > bits {
				continue
			}
			w := (bits + 63) / 64
			masks := chunkMasks(bits, w, tol)
			m := len(masks) / w
			if m < tol+1 {
				t.Errorf("bits %d t %d: %d chunks, want at least %d", bits, tol, m, tol+1)
			}
			union := make([]uint64, w)
			for c := range m {
				n := 0
				for k := range w {
					if union[k]&masks[c*w+k] != 0 {
						t.Errorf("bits %d t %d: chunk %d overlaps an earlier one", bits, tol, c)
					}
					union[k] |= masks[c*w+k]
					n += popcount(masks[c*w+k])
				}
				if n == 0 || n > 64 {
					t.Errorf("bits %d t %d: chunk %d has %d bits, want 1..64", bits, tol, c, n)
				}
			}
			for k := range w {
				want := ^uint64(0)
				if k == 0 {
					want = topMask(bits)
				}
				if union[k] != want {
					t.Errorf("bits %d t %d: chunks cover word %d as %#x, want %#x", bits, tol, k, union[k], want)
				}
			}
		}
	}
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{1, 5, 11, 12, 21, 22, 33, 64} {
		for _, n := range []int{0, 1, 2, 31, 33, 100, 5000, 70000} {
			keys := make([]uint64, n)
			perm := make([]int32, n)
			for i := range keys {
				keys[i] = r.Uint64()
				if width < 64 {
					keys[i] &= 1<<width - 1
				}
				perm[i] = int32(i)
			}
			orig := slices.Clone(keys)
			radixSort(keys, perm, width)
			if !slices.IsSorted(keys) {
				t.Errorf("width %d n %d: not sorted", width, n)
			}
			for i, p := range perm {
				if orig[p] != keys[i] {
					t.Fatalf("width %d n %d: perm[%d] = %d points at %#x, want %#x", width, n, i, p, orig[p], keys[i])
				}
				if i > 0 && keys[i] == keys[i-1] && perm[i] < perm[i-1] {
					t.Errorf("width %d n %d: not stable at %d", width, n, i)
				}
			}
		}
	}
}

// TestCountDoesNotAllocatePerComparison pins DESIGN.md's rule: allocations do not grow with
// the number of pairs compared.
func TestCountDoesNotAllocatePerComparison(t *testing.T) {
	for _, m := range []Method{BruteForce, MultiIndex} {
		small, sb := Clustered(10, 200, 64, 0.1, 1)
		big, bb := Clustered(10, 2000, 64, 0.1, 1) // 100 times the pairs
		opts := Options{Tolerance: 2, Method: m, Workers: 2}
		a := testing.AllocsPerRun(3, func() { CountGroups(context.Background(), small, sb, opts) })
		b := testing.AllocsPerRun(3, func() { CountGroups(context.Background(), big, bb, opts) })
		if b > 2*a+50 {
			t.Errorf("%v: %.0f allocations for 10x200 hashes but %.0f for 10x2000", m, a, b)
		}
	}
}

// TestFoldedKeyCollision: chunks wider than keyBits are folded, so a bucket can hold hashes
// that differ on the chunk. Such a pair, within t and agreeing on a later chunk, must be counted
// once, in the later chunk.
func TestFoldedKeyCollision(t *testing.T) {
	s := NewSet(128)
	// t = 2 cuts 128 bits into chunks of bits 0..41, 42..84, 85..127. These two hashes differ
	// in bits 0 and 32 of chunk 0, whose folded keys (k ^ k>>32, 32 bits) are equal.
	s.Append(0xabc, 0)
	s.Append(0xabc, 1<<32|1)
	s.Append(0xabc, 1<<32|1) // and a duplicate
	for _, m := range []Method{BruteForce, MultiIndex} {
		got, err := Count(t.Context(), s, Options{Tolerance: 2, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if want := []uint64{1, 0, 2}; !slices.Equal(got.Exact, want) {
			t.Errorf("%v: %v, want %v", m, got.Exact, want)
		}
	}
	if k0, k1 := foldKey(chunkKey(s.At(0), 0, 42), 42), foldKey(chunkKey(s.At(1), 0, 42), 42); k0 != k1 {
		t.Errorf("folded keys %#x and %#x differ: the test no longer tests a folded collision", k0, k1)
	}
}

// TestPaperScaleIntraClass compares multi-index hashing with brute force on the benchmark's
// data, 1000 groups x 1300 64-bit hashes (0.84e9 pairs), and on its whole set restricted to
// the first 30 groups (39 000 hashes, 7.6e8 pairs), at t = 0..4.
func TestPaperScaleIntraClass(t *testing.T) {
	if testing.Short() {
		t.Skip("compares 1.6e9 pairs by brute force; skipped with -short")
	}
	s, bounds := Clustered(1000, 1300, 64, 0.1, 1)
	sub := From64(64, s.data[:30*1300])
	for _, tt := range []struct {
		name   string
		s      *Set
		bounds []int
	}{{"intra-class", s, bounds}, {"whole 39000", sub, []int{0, sub.Len()}}} {
		brute, err := CountGroups(t.Context(), tt.s, tt.bounds, Options{Tolerance: 4, Method: BruteForce})
		if err != nil {
			t.Fatal(err)
		}
		for _, tol := range []int{0, 2, 4} {
			mih, err := CountGroups(t.Context(), tt.s, tt.bounds, Options{Tolerance: tol, Method: MultiIndex})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(mih.Exact, brute.Exact[:tol+1]) {
				t.Errorf("%s t=%d: multi-index %v, brute force %v", tt.name, tol, mih.Exact, brute.Exact[:tol+1])
			}
		}
	}
}

// TestAutoFallsBack: where multi-index buckets would hold most pairs, Auto counts by brute force.
func TestAutoFallsBack(t *testing.T) {
	same := From64(64, make([]uint64, 3000)) // 4.5e6 pairs, all at distance 0
	wide := uniform(3000, 64, 5)
	for _, tt := range []struct {
		name string
		s    *Set
		tol  int
	}{{"identical hashes", same, 2}, {"t=16 on 64 bits", wide, 16}} {
		got, err := Count(t.Context(), tt.s, Options{Tolerance: tt.tol})
		if err != nil {
			t.Fatal(err)
		}
		want := naiveCount(tt.s, []int{0, tt.s.Len()}, tt.tol)
		if got.Method != BruteForce || !slices.Equal(got.Exact, want.Exact) {
			t.Errorf("%s: %v %v, want brute-force %v", tt.name, got.Method, got.Exact, want.Exact)
		}
	}
}

func TestEmptyAndSingle(t *testing.T) {
	for _, n := range []int{0, 1} {
		s := uniform(n, 64, 1)
		for _, m := range []Method{Auto, BruteForce, MultiIndex} {
			got, err := Count(t.Context(), s, Options{Tolerance: 2, Method: m})
			if err != nil || got.Pairs != 0 || !slices.Equal(got.Exact, []uint64{0, 0, 0}) || got.Rate(2) != 0 {
				t.Errorf("%d hashes, %v: %+v, %v", n, m, got, err)
			}
		}
	}
}
