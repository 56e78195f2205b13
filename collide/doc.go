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
// Multi-index hashing cuts the hash into m >= t+1 disjoint chunks (at least one per 64 bits).
// Two hashes within distance t agree exactly on at least one chunk (pigeonhole), so sorting
// the hashes of each group by each chunk (a radix sort; chunks wider than 32 bits are folded
// to 32-bit keys) and comparing only pairs inside runs of equal keys finds every pair. A pair
// found in chunk c is counted only if it agrees on chunk c and on no chunk before it, so it is
// counted once, and a pair whose keys collide by folding is not counted there. For hashes
// spread like real perceptual hashes the runs are short and the work is about m sorts of N
// hashes, instead of N^2/2 comparisons. Auto plans multi-index hashing for counts of at least
// 2^22 pairs and takes it when its candidate pairs (plus a charge for the sorts) are fewer than
// half the brute force pairs. They are not for large tolerances relative to the width (64-bit
// hashes and t = 16 give 4-bit chunks, so buckets hold N/16 hashes) or for hashes concentrated
// on few values; Auto then uses brute force, having spent the sorts.
//
// # Contracts
//
// Counting only reads the Set: any number of counts may run on one Set at once, but the Set
// must not change during a count. Multi-index hashing allocates about 12 bytes per hash per
// chunk while sorting, then keeps 4 bytes per hash per chunk for the hashes that share a bucket
// and a copy of one chunk's such hashes at a time; brute force allocates nothing in proportion
// to the data. Nothing is allocated per comparison. Count, CountGroups
// and Pairs return ctx's error when ctx is cancelled, and errors wrapping ErrOptions for
// invalid tolerances, methods or bounds; they do not log.
package collide
