package collide

import (
	"context"
	"slices"
	"sync"
)

// Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming space with
// multi-index hashing", CVPR 2012), for all pairs at once.
//
// Cut the Bits bits into m >= t+1 disjoint chunks. Two hashes within distance t differ in at
// most t bits, so they agree exactly on at least one chunk. For each chunk c, sort the hashes
// by their chunk-c bits: every pair within t then lies inside one run of equal chunk-c bits
// (a bucket) for at least one c. Compare all pairs inside each bucket, and count a pair found
// in chunk c only if it differs on every chunk before c: each pair is counted once, in the
// first chunk it agrees on.
//
// m is t+1, or more when the hash is wider than 64(t+1) bits so that every chunk fits in a
// 64-bit key. For hashes whose bits are far from uniform, buckets can be large; Auto then
// falls back to brute force when the buckets hold more pairs than brute force would compare.

// autoMinPairs is the fewest pairs in scope for which Auto considers multi-index hashing:
// below it brute force takes a few milliseconds at most.
const autoMinPairs = 1 << 22

// chunkBounds returns the chunk boundaries of a bits-wide hash for tolerance t: chunk c is
// bits b[c] <= p < b[c+1], counted from the least significant bit.
func chunkBounds(bits, t int) []int {
	m := max(t+1, (bits+63)/64)
	b := make([]int, m+1)
	for c := range b {
		b[c] = c * bits / m
	}
	return b
}

// chunkMasks returns, for each chunk, the mask of its bits in a w-word hash (most significant
// word first), w words per chunk.
func chunkMasks(bits, w, t int) []uint64 {
	b := chunkBounds(bits, t)
	masks := make([]uint64, (len(b)-1)*w)
	for c := 0; c+1 < len(b); c++ {
		for p := b[c]; p < b[c+1]; p++ {
			masks[c*w+w-1-p/64] |= 1 << (p % 64)
		}
	}
	return masks
}

// chunkKey returns bits lo <= p < hi (hi-lo <= 64) of hash h as a number.
func chunkKey(h []uint64, lo, hi int) uint64 {
	w := len(h)
	k, off := lo/64, lo%64
	v := h[w-1-k] >> off
	if off > 0 && k+1 < w {
		v |= h[w-2-k] << (64 - off)
	}
	if width := hi - lo; width < 64 {
		v &= 1<<width - 1
	}
	return v
}

// tryMIH reports whether a count of the given pairs should be planned for multi-index hashing.
func (c *counter) tryMIH(pairs uint64) bool {
	if c.method == BruteForce || c.t+1 > c.s.bits {
		return false
	}
	if c.method == MultiIndex {
		return true
	}
	return pairs >= autoMinPairs
}

// planMIH sorts the hashes of each group by each chunk and returns one job per chunk, with
// vals not yet gathered, or nil if Auto finds brute force cheaper than the brute pairs.
func (c *counter) planMIH(ctx context.Context, bounds []int, brute uint64) ([]*job, error) {
	n := c.s.Len()
	src := c.s.data
	b := chunkBounds(c.s.bits, c.t)
	m := len(b) - 1
	perms := make([][]int32, m)
	spans := make([][]span, m)
	cands := make([]uint64, m)
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.workers)
	for ch := range m {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			perms[ch], spans[ch], cands[ch] = sortChunk(src, c.w, bounds, b[ch], b[ch+1])
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var total uint64
	for _, x := range cands {
		total += x
	}
	if c.method == Auto && 2*total+uint64(m)*uint64(n)*16 > brute {
		return nil, nil
	}
	jobs := make([]*job, m)
	for ch := range m {
		jobs[ch] = c.newJob(nil, spans[ch], ch, perms[ch])
		jobs[ch].src = src
	}
	return jobs, nil
}

// keyBits is the width of the sort keys: wider chunks are folded to keyBits bits, so a bucket
// can hold hashes that differ on the chunk; the kernels skip those pairs (see keep).
const keyBits = 32

// foldKey folds a chunk of width bits to at most keyBits bits; equal chunks give equal keys.
func foldKey(k uint64, width int) uint64 {
	if width <= keyBits {
		return k
	}
	return (k ^ k>>keyBits) & (1<<keyBits - 1)
}

// sortChunk sorts the hashes of src within each group (bounds as for CountGroups) by their
// bits lo..hi (folded to keyBits), and returns the runs of two or more hashes of one group
// with equal keys (buckets), as spans over members, and the pairs inside them. members lists
// the hashes in buckets, bucket after bucket: members[k] is the index in src of the k-th.
func sortChunk(src []uint64, w int, bounds []int, lo, hi int) (members []int32, spans []span, pairs uint64) {
	n := bounds[len(bounds)-1]
	width := min(hi-lo, keyBits)
	keys := make([]uint64, n)
	perm := make([]int32, n)
	for i := range n {
		keys[i] = foldKey(chunkKey(src[i*w:(i+1)*w], lo, hi), hi-lo)
		perm[i] = int32(i)
	}
	largest := 0
	for g := 0; g+1 < len(bounds); g++ {
		largest = max(largest, bounds[g+1]-bounds[g])
	}
	var rs radixScratch
	rs.grow(largest)
	k := 0 // members so far; perm[:k] is reused to hold them
	for g := 0; g+1 < len(bounds); g++ {
		a, z := bounds[g], bounds[g+1]
		if z-a < 2 {
			continue
		}
		rs.sort(keys[a:z], perm[a:z], width)
		for i := a; i < z; {
			j := i + 1
			for j < z && keys[j] == keys[i] {
				j++
			}
			if j-i >= 2 {
				spans = append(spans, span{int32(k), int32(k + j - i)})
				pairs += uint64(j-i) * uint64(j-i-1) / 2
				k += copy(perm[k:], perm[i:j])
			}
			i = j
		}
	}
	return slices.Clip(perm[:k]), spans, pairs
}

// radixScratch holds the buffers of radix sorts, reused from sort to sort.
type radixScratch struct {
	tk    []uint64
	tp    []int32
	count [1 << 11]int
}

func (rs *radixScratch) grow(n int) {
	if len(rs.tk) < n {
		rs.tk = make([]uint64, n)
		rs.tp = make([]int32, n)
	}
}

// radixSort sorts keys (each < 2^width) in increasing order, permuting perm alongside.
func radixSort(keys []uint64, perm []int32, width int) {
	var rs radixScratch
	rs.grow(len(keys))
	rs.sort(keys, perm, width)
}

// sort sorts keys (each < 2^width) in increasing order, permuting perm alongside; it is
// stable. Short slices use insertion sort; longer ones a least significant digit first radix
// sort, 8 bits per pass below 64 Ki keys and 11 bits above.
func (rs *radixScratch) sort(keys []uint64, perm []int32, width int) {
	n := len(keys)
	if n <= 32 {
		for i := 1; i < n; i++ {
			k, p := keys[i], perm[i]
			j := i
			for ; j > 0 && keys[j-1] > k; j-- {
				keys[j], perm[j] = keys[j-1], perm[j-1]
			}
			keys[j], perm[j] = k, p
		}
		return
	}
	digit := 8
	if n >= 1<<16 {
		digit = 11
	}
	mask := uint64(1)<<digit - 1
	count := rs.count[:1<<digit]
	outK, outP := keys, perm
	tk, tp := rs.tk[:n], rs.tp[:n]
	for shift := 0; shift < width; shift += digit {
		clear(count)
		for _, k := range keys {
			count[(k>>shift)&mask]++
		}
		if count[(keys[0]>>shift)&mask] == n {
			continue // every key has this digit: the pass would not move anything
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i, k := range keys {
			d := (k >> shift) & mask
			tk[count[d]] = k
			tp[count[d]] = perm[i]
			count[d]++
		}
		keys, tk = tk, keys
		perm, tp = tp, perm
	}
	if &keys[0] != &outK[0] { // an odd number of passes moved data: it is in the scratch slices
		copy(outK, keys)
		copy(outP, perm)
	}
}
