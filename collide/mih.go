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

// autoMinMIH is the smallest group Auto considers for multi-index hashing: below it, sorting
// costs more than comparing every pair.
const autoMinMIH = 4096

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

// tryMIH reports whether a group of n hashes should be planned for multi-index hashing.
func (c *counter) tryMIH(n int) bool {
	if c.method == BruteForce || c.t+1 > c.s.bits {
		return false
	}
	if c.method == MultiIndex {
		return true
	}
	return n >= autoMinMIH
}

// planMIH sorts hashes lo <= i < hi by each chunk and returns one job per chunk, with vals
// not yet gathered, or nil if Auto finds brute force cheaper.
func (c *counter) planMIH(ctx context.Context, lo, hi int) ([]*job, error) {
	n := hi - lo
	src := c.s.data[lo*c.w : hi*c.w]
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
			perms[ch], spans[ch], cands[ch] = sortChunk(src, c.w, n, b[ch], b[ch+1])
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
	brute := uint64(n) * uint64(n-1) / 2
	if c.method == Auto && 2*total+uint64(m)*uint64(n)*16 > brute {
		return nil, nil
	}
	jobs := make([]*job, m)
	for ch := range m {
		jobs[ch] = c.newJob(nil, spans[ch], ch, perms[ch], lo)
		jobs[ch].src = src
	}
	return jobs, nil
}

// sortChunk sorts the n hashes of src by bits lo..hi and returns the runs of two or more
// equal keys (buckets), as spans over members, and the pairs inside them. members lists the
// hashes in buckets, bucket after bucket: members[k] is the index in src of the k-th.
func sortChunk(src []uint64, w, n, lo, hi int) (members []int32, spans []span, pairs uint64) {
	keys := make([]uint64, n)
	perm := make([]int32, n)
	for i := range n {
		keys[i] = chunkKey(src[i*w:(i+1)*w], lo, hi)
		perm[i] = int32(i)
	}
	radixSort(keys, perm, hi-lo)
	k := 0 // members so far; perm[:k] is reused to hold them
	for i := 0; i < n; {
		j := i + 1
		for j < n && keys[j] == keys[i] {
			j++
		}
		if j-i >= 2 {
			spans = append(spans, span{int32(k), int32(k + j - i)})
			pairs += uint64(j-i) * uint64(j-i-1) / 2
			k += copy(perm[k:], perm[i:j])
		}
		i = j
	}
	return slices.Clip(perm[:k]), spans, pairs
}

// radixSort sorts keys (each < 2^width) in increasing order, permuting perm alongside; it is
// stable (least significant digit first, 11 bits per pass).
func radixSort(keys []uint64, perm []int32, width int) {
	const digit = 11
	n := len(keys)
	if n < 2 {
		return
	}
	outK, outP := keys, perm
	tk := make([]uint64, n)
	tp := make([]int32, n)
	var count [1 << digit]int
	for shift := 0; shift < width; shift += digit {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&(1<<digit-1)]++
		}
		if count[(keys[0]>>shift)&(1<<digit-1)] == n {
			continue // every key has this digit: the pass would not move anything
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i, k := range keys {
			d := (k >> shift) & (1<<digit - 1)
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
