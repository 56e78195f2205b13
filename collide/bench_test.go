package collide

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks use data shaped like the paper's Type II experiment: 1000 prompts x 1300
// images, 64-bit average hashes. Clustered with flip 0.1 gives an intra-class rate at t <= 2
// near the paper's. Run them with
//
//	go test -run '^$' -bench . -benchtime 3x ./collide/
//
// They report pairs/s: pairs in scope per second of wall time (not pairs compared), and
// cpu-s/op: the CPU time of the whole process per operation, a better guide than wall time
// when other processes share the machine.

var paperData = sync.OnceValues(func() (*Set, []int) { return Clustered(1000, 1300, 64, 0.1, 1) })

func benchCount(b *testing.B, s *Set, bounds []int, opts Options) {
	b.Helper()
	b.ReportAllocs()
	var c Counts
	cpu0 := cpuTime()
	for b.Loop() {
		var err error
		c, err = CountGroups(b.Context(), s, bounds, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(c.Pairs)*float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	b.ReportMetric(float64(c.Compared), "compared")
	b.ReportMetric(c.Rate(opts.Tolerance), "rate")
}

// BenchmarkIntraClass1000x1300T2 is the paper's intra-class all-to-all count: 0.84e9 pairs.
func BenchmarkIntraClass1000x1300T2(b *testing.B) {
	s, bounds := paperData()
	benchCount(b, s, bounds, Options{Tolerance: 2})
}

// BenchmarkIntraClass1000x1300T2Workers1 is the same on one goroutine.
func BenchmarkIntraClass1000x1300T2Workers1(b *testing.B) {
	s, bounds := paperData()
	benchCount(b, s, bounds, Options{Tolerance: 2, Workers: 1})
}

// BenchmarkIntraClass1000x1300T2BruteForce is the intra-class count comparing every pair.
func BenchmarkIntraClass1000x1300T2BruteForce(b *testing.B) {
	s, bounds := paperData()
	benchCount(b, s, bounds, Options{Tolerance: 2, Method: BruteForce})
}

// BenchmarkIntraClass1000x1300T2Naive is the reference path for the intra-class count.
func BenchmarkIntraClass1000x1300T2Naive(b *testing.B) {
	s, bounds := paperData()
	b.ReportAllocs()
	for b.Loop() {
		naiveCount(s, bounds, 2)
	}
}

// BenchmarkIntraClass1000x1300T2Bits256 is the intra-class count for 256-bit hashes.
func BenchmarkIntraClass1000x1300T2Bits256(b *testing.B) {
	s, bounds := Clustered(1000, 1300, 256, 0.1, 1)
	benchCount(b, s, bounds, Options{Tolerance: 2})
}

// BenchmarkWholeSet1300kT2 counts all 8.45e11 pairs of the 1.3 M hashes.
func BenchmarkWholeSet1300kT2(b *testing.B) {
	s, _ := paperData()
	benchCount(b, s, []int{0, s.Len()}, Options{Tolerance: 2})
}

// BenchmarkWholeSet1300kT2Bits256 is the whole-set count for 256-bit hashes.
func BenchmarkWholeSet1300kT2Bits256(b *testing.B) {
	s, _ := Clustered(1000, 1300, 256, 0.1, 1)
	benchCount(b, s, []int{0, s.Len()}, Options{Tolerance: 2})
}

// BenchmarkWholeSetScaling shows how the whole-set multi-index count grows with N (groups of
// 1300 as in the paper), at t = 2 and t = 4.
func BenchmarkWholeSetScaling(b *testing.B) {
	s, _ := paperData()
	for _, tol := range []int{2, 4} {
		for _, n := range []int{100_000, 200_000, 400_000, 800_000, 1_300_000} {
			b.Run(fmt.Sprintf("N%dk/T%d", n/1000, tol), func(b *testing.B) {
				sub := From64(64, s.data[:n])
				benchCount(b, sub, []int{0, n}, Options{Tolerance: tol})
			})
		}
	}
}

// BenchmarkWholeSetBruteForce100k is brute force on a sample, to extrapolate its cost.
func BenchmarkWholeSetBruteForce100k(b *testing.B) {
	s, _ := paperData()
	sub := From64(64, s.data[:100_000])
	benchCount(b, sub, []int{0, sub.Len()}, Options{Tolerance: 2, Method: BruteForce})
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
