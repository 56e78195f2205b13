// Package collide counts near-duplicate pairs among many fixed-width hashes, exactly: how many
// pairs of hashes lie within Hamming distance t of each other, for every distance 0..t, either
// among all N(N-1)/2 pairs of a set or only among pairs in the same group. It is the engine of
// the Type II (guessing) experiment: how often two images made from the same prompt with
// different seeds get perceptual hashes within the verification tolerance.
//
// # Vocabulary
//
// A hash is a Bits-wide bit string, stored as Words = ceil(Bits/64) uint64 words, most
// significant first (see Set). The distance of two hashes is the Hamming distance, the popcount
// of their XOR. The tolerance t is the largest distance counted. A group is a run of
// consecutive hashes given by bounds (see CountGroups). A chunk is a subset of the bit
// positions used by multi-index hashing; a bucket is a run of hashes that agree on a chunk.
//
// # Use
//
// Build a Set (NewSet and Append or AppendHex, or From64 for 64-bit values), then call Count
// for the whole set, CountGroups for pairs within groups, or Pairs to list the pairs. Counts
// are exact: the same numbers as comparing every pair, whatever the Method or Workers.
//
//	s := collide.NewSet(64)
//	for _, h := range hexHashes {
//		if err := s.AppendHex(h); err != nil {
//			return err
//		}
//	}
//	c, err := collide.Count(ctx, s, collide.Options{Tolerance: 2})
//	if err != nil {
//		return err
//	}
//	fmt.Println(c.Pairs, c.AtMost(2), c.Rate(2))
//
// # Methods
//
// Brute force compares every pair: one XOR, popcount and compare per pair for 64-bit hashes,
// in cache-sized tiles, rows spread over the workers, each worker with its own counters summed
// at the end (integer sums, so the result does not depend on scheduling).
//
// Multi-index hashing cuts the hash into m >= t+1 disjoint chunks (each at most 64 bits).
// Two hashes within distance t agree exactly on at least one chunk (pigeonhole), so sorting
// the hashes by each chunk (a radix sort) and comparing only pairs inside runs of equal chunk
// bits finds every pair; a pair found in chunk c is counted only if it differs on every chunk
// before c, so it is counted once. For hashes spread like real perceptual hashes the runs are
// short and the work is about m sorts of N hashes, instead of N^2/2 comparisons. Auto plans
// both and takes multi-index hashing when its candidate pairs are fewer than half the brute
// force pairs, which it is not for small groups (fewer than 4096 hashes), for large
// tolerances relative to the width (short chunks: 64-bit hashes and t = 16 give 4-bit
// chunks) or for hashes concentrated on few values.
//
// # Contracts
//
// Counting only reads the Set: any number of counts may run on one Set at once, but the Set
// must not change during a count. Memory is about 12 bytes per hash per chunk for
// multi-index hashing, plus a copy of the hashes that fall in buckets; brute force allocates
// nothing in proportion to the data. Nothing is allocated per comparison. Count, CountGroups
// and Pairs return ctx's error when ctx is cancelled, and errors wrapping ErrOptions for
// invalid tolerances, methods or bounds; they do not log.
package collide
