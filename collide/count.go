package collide

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Method chooses how pairs are found. Every method gives the same, exact counts.
type Method int

const (
	// Auto plans multi-index hashing for counts of at least 2^22 pairs and uses it when it
	// compares fewer than half the pairs brute force would; otherwise brute force (few pairs,
	// tolerances too large for the width, hashes concentrated on few values).
	Auto Method = iota
	// BruteForce compares every pair.
	BruteForce
	// MultiIndex compares only pairs that agree on one of at least Tolerance+1 chunks of the
	// hash; by the pigeonhole principle this finds every pair within the tolerance. It falls
	// back to brute force where the tolerance is at least the width.
	MultiIndex
)

// String returns "auto", "brute-force" or "multi-index".
func (m Method) String() string {
	switch m {
	case Auto:
		return "auto"
	case BruteForce:
		return "brute-force"
	case MultiIndex:
		return "multi-index"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ErrOptions is wrapped by the errors for invalid Options or group bounds.
var ErrOptions = errors.New("collide: invalid options")

// Options control a count.
type Options struct {
	// Tolerance t: pairs at Hamming distance 0..t are counted. 0 <= t <= the hash width.
	Tolerance int
	// Method chooses the algorithm; the zero value is Auto.
	Method Method
	// Workers is the number of goroutines; <= 0 means runtime.GOMAXPROCS(0). Results do not
	// depend on it.
	Workers int
	// Progress, if not nil, is called as work completes with the number of pair comparisons
	// done so far and planned in all (fixed once counting starts; done ends equal to it). Calls
	// come from the counting goroutines, one at a time; it must return quickly.
	Progress func(done, total uint64)
}

// Counts is the result of a count.
type Counts struct {
	// Pairs is the number of pairs in scope: N(N-1)/2 for a whole set, the sum of
	// n(n-1)/2 over groups of n hashes for a grouped count.
	Pairs uint64
	// Exact[d] is the number of pairs at Hamming distance exactly d, for d = 0..Tolerance.
	Exact []uint64
	// Compared is the number of pairs whose distance was computed: Pairs for brute force,
	// the candidates for multi-index hashing (a pair can be a candidate in several chunks).
	Compared uint64
	// Method is the method used: BruteForce or MultiIndex.
	Method Method
}

// AtMost returns the number of pairs at distance at most d (0 <= d <= Tolerance).
func (c Counts) AtMost(d int) uint64 {
	var n uint64
	for _, v := range c.Exact[:d+1] {
		n += v
	}
	return n
}

// Rate returns AtMost(d) / Pairs, or 0 when there are no pairs.
func (c Counts) Rate(d int) float64 {
	if c.Pairs == 0 {
		return 0
	}
	return float64(c.AtMost(d)) / float64(c.Pairs)
}

// Pair is two hashes within the tolerance: indices I < J into the Set, and their distance.
type Pair struct {
	I, J     int
	Distance int
}

// Count counts the pairs of distinct hashes of s (all N(N-1)/2 of them) within
// opts.Tolerance. It returns ctx's error if ctx is cancelled before it finishes.
func Count(ctx context.Context, s *Set, opts Options) (Counts, error) {
	return CountGroups(ctx, s, []int{0, s.Len()}, opts)
}

// CountGroups counts the pairs within opts.Tolerance among the pairs of hashes in the same
// group. Group g is hashes bounds[g] <= i < bounds[g+1]: bounds starts at 0, does not
// decrease and ends at s.Len(). It returns ctx's error if ctx is cancelled before it finishes.
func CountGroups(ctx context.Context, s *Set, bounds []int, opts Options) (Counts, error) {
	if err := check(s, bounds, opts); err != nil {
		return Counts{}, err
	}
	c := newCounter(s, opts)
	jobs, method, pairs, err := c.plan(ctx, bounds)
	if err != nil {
		return Counts{}, err
	}
	res := Counts{Pairs: pairs, Exact: make([]uint64, opts.Tolerance+1), Method: method}
	for _, j := range jobs {
		if err := c.count(ctx, j, &res); err != nil {
			return Counts{}, err
		}
	}
	return res, nil
}

// Pairs calls yield for each pair of distinct hashes of s within opts.Tolerance, each once, in an
// order that depends only on s and opts.Tolerance and Method, until yield returns false.
// bounds is as for CountGroups, or nil for the whole set. Pairs runs on one goroutine
// (Workers is ignored); it returns ctx's error if ctx is cancelled first.
func Pairs(ctx context.Context, s *Set, bounds []int, opts Options, yield func(Pair) bool) error {
	if bounds == nil {
		bounds = []int{0, s.Len()}
	}
	if err := check(s, bounds, opts); err != nil {
		return err
	}
	opts.Workers = 1
	c := newCounter(s, opts)
	jobs, _, _, err := c.plan(ctx, bounds)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		more, err := c.list(ctx, j, yield)
		if !more || err != nil {
			return err
		}
	}
	return nil
}

// plan returns the jobs that count the pairs within groups, the method and the pairs in scope.
func (c *counter) plan(ctx context.Context, bounds []int) ([]*job, Method, uint64, error) {
	var spans []span
	var pairs uint64
	for g := 0; g+1 < len(bounds); g++ {
		lo, hi := bounds[g], bounds[g+1]
		if n := uint64(hi - lo); n >= 2 {
			spans = append(spans, span{int32(lo), int32(hi)})
			pairs += n * (n - 1) / 2
		}
	}
	if c.tryMIH(pairs) {
		jobs, err := c.planMIH(ctx, bounds, pairs)
		if err != nil {
			return nil, 0, 0, err
		}
		if jobs != nil {
			return jobs, MultiIndex, pairs, nil
		}
	}
	return []*job{c.newJob(c.s.data, spans, -1, nil)}, BruteForce, pairs, nil
}

// list calls yield for the pairs of job j, on this goroutine; it reports whether to go on.
func (c *counter) list(ctx context.Context, j *job, yield func(Pair) bool) (bool, error) {
	j.load(c.w)
	defer j.unload()
	for _, u := range j.units {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if !j.each(u, func(r0, r1, c0, c1 int) bool {
			return list(j.vals, c.w, r0, r1, c0, c1, c.t, j.dd, j.perm, yield)
		}) {
			return false, nil
		}
	}
	return true, nil
}

func check(s *Set, bounds []int, opts Options) error {
	if opts.Tolerance < 0 || opts.Tolerance > s.bits {
		return fmt.Errorf("%w: tolerance %d outside 0..%d", ErrOptions, opts.Tolerance, s.bits)
	}
	if opts.Method < Auto || opts.Method > MultiIndex {
		return fmt.Errorf("%w: unknown method %d", ErrOptions, opts.Method)
	}
	if len(bounds) < 1 || bounds[0] != 0 || bounds[len(bounds)-1] != s.Len() {
		return fmt.Errorf("%w: group bounds must run from 0 to %d", ErrOptions, s.Len())
	}
	for g := 1; g < len(bounds); g++ {
		if bounds[g] < bounds[g-1] {
			return fmt.Errorf("%w: group bounds decrease at %d", ErrOptions, g)
		}
	}
	return nil
}

// counter holds what one call needs across jobs.
type counter struct {
	s       *Set
	w, t    int
	method  Method
	workers int

	progress     func(done, total uint64)
	mu           sync.Mutex // serialises progress calls
	done, total  atomic.Uint64
	progressSeen uint64
}

func newCounter(s *Set, opts Options) *counter {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &counter{s: s, w: s.words, t: opts.Tolerance, method: opts.Method, workers: workers, progress: opts.Progress}
}

// A span is a block of consecutive hashes lo <= i < hi whose pairs are compared.
type span struct{ lo, hi int32 }

// A unit is the work one goroutine takes at a time: spans s0 <= k < s1 whole, or, if tile,
// rows r0 <= i < r1 against columns c0 <= j < c1 of span s0.
type unit struct {
	s0, s1         int32
	r0, r1, c0, c1 int32
	tile           bool
	work           uint64 // pairs compared
}

// A job is a list of spans over one hash array, cut into units.
type job struct {
	vals  []uint64 // hashes, w words each
	spans []span
	units []unit
	dd    []uint64 // multi-index: masks of chunks 0..c for chunk c's job, w words each (see keep)
	perm  []int32  // index in the Set of vals[i], or nil for the identity
	src   []uint64 // if not nil, vals is gathered from src through perm just before use
	work  uint64
}

// tileSize returns the side of a tile: a tile's columns fit in 32 KiB.
func (c *counter) tileSize() int { return max(64, 4096/c.w) }

func (c *counter) newJob(vals []uint64, spans []span, chunk int, perm []int32) *job {
	j := &job{vals: vals, spans: spans, perm: perm}
	for _, sp := range spans {
		n := uint64(sp.hi - sp.lo)
		j.work += n * (n - 1) / 2
	}
	if chunk >= 0 {
		j.dd = chunkMasks(c.s.bits, c.w, c.t)[:(chunk+1)*c.w]
	}
	target := max(j.work/uint64(32*c.workers), 1<<18)
	ts := int32(c.tileSize())
	pending := unit{s0: 0, s1: 0}
	flush := func(k int32) {
		if pending.work > 0 {
			j.units = append(j.units, pending)
		}
		pending = unit{s0: k, s1: k}
	}
	for k, sp := range spans {
		k := int32(k)
		n := sp.hi - sp.lo
		if n <= ts {
			pending.s1 = k + 1
			pending.work += uint64(n) * uint64(n-1) / 2
			if pending.work >= target {
				flush(k + 1)
			}
			continue
		}
		flush(k)
		for r := sp.lo; r < sp.hi; r += ts {
			for col := r; col < sp.hi; col += ts {
				u := unit{s0: k, s1: k + 1, tile: true, r0: r, r1: min(r+ts, sp.hi), c0: col, c1: min(col+ts, sp.hi)}
				rows, cols := uint64(u.r1-u.r0), uint64(u.c1-u.c0)
				if col == r {
					u.work = rows * (rows - 1) / 2
				} else {
					u.work = rows * cols
				}
				j.units = append(j.units, u)
			}
		}
		pending = unit{s0: k + 1, s1: k + 1}
	}
	flush(int32(len(spans)))
	c.total.Add(j.work)
	return j
}

// load gathers vals from src through perm, if the job has a src.
func (j *job) load(w int) {
	if j.src == nil || len(j.spans) == 0 {
		return
	}
	vals := make([]uint64, len(j.perm)*w)
	if w == 1 {
		for k, i := range j.perm {
			vals[k] = j.src[i]
		}
	} else {
		for k, i := range j.perm {
			copy(vals[k*w:(k+1)*w], j.src[int(i)*w:])
		}
	}
	j.vals = vals
}

// unload drops gathered vals.
func (j *job) unload() {
	if j.src != nil {
		j.vals = nil
	}
}

// each calls f for the tiles of unit u, stopping if f returns false.
func (j *job) each(u unit, f func(r0, r1, c0, c1 int) bool) bool {
	if u.tile {
		return f(int(u.r0), int(u.r1), int(u.c0), int(u.c1))
	}
	for _, sp := range j.spans[u.s0:u.s1] {
		if !f(int(sp.lo), int(sp.hi), int(sp.lo), int(sp.hi)) {
			return false
		}
	}
	return true
}

// count runs job j on c.workers goroutines and adds its counts to res.
func (c *counter) count(ctx context.Context, j *job, res *Counts) error {
	j.load(c.w)
	defer j.unload()
	var next atomic.Int64
	workers := min(c.workers, len(j.units))
	sums := make([][]uint64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		sums[w] = make([]uint64, c.t+1)
		wg.Go(func() {
			cnt := sums[w]
			for {
				k := int(next.Add(1) - 1)
				if k >= len(j.units) {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				u := j.units[k]
				j.each(u, func(r0, r1, c0, c1 int) bool {
					switch c.w {
					case 1:
						count64(j.vals, r0, r1, c0, c1, c.t, j.dd, cnt)
					case 4:
						count4(j.vals, r0, r1, c0, c1, c.t, j.dd, cnt)
					default:
						countW(j.vals, c.w, r0, r1, c0, c1, c.t, j.dd, cnt)
					}
					return true
				})
				c.report(u.work)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, cnt := range sums {
		for d, v := range cnt {
			res.Exact[d] += v
		}
	}
	res.Compared += j.work
	return nil
}

func (c *counter) report(work uint64) {
	done := c.done.Add(work)
	if c.progress == nil {
		return
	}
	c.mu.Lock()
	if done > c.progressSeen {
		c.progressSeen = done
		c.progress(done, c.total.Load())
	}
	c.mu.Unlock()
}
