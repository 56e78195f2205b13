// Package quorum groups the fingerprints of replicated generative tasks under a Hamming
// tolerance and decides on them: the statistics of one group of outputs (Table 1 of the paper:
// mode, outliers, consensus, aDist) and the verdict of a vote among verifiers (majority or
// super-majority).
//
// # Vocabulary
//
//   - A fingerprint is a bit string held in a []byte, most significant bit first. All the
//     fingerprints given to one call have the same length.
//   - The distance of two fingerprints is their Hamming distance: the number of differing bits.
//   - Two fingerprints agree at tolerance t when their distance is at most t.
//   - Where two fingerprints must be ordered (ties), the smaller one is the one that is smaller
//     read as a big-endian unsigned number, that is bytes.Compare order for equal lengths. Every
//     implementation of the protocol must break ties this way to reach the same verdict.
//   - A group is the set of outputs of one task (same model, prompt and seed). Its mode is its
//     most frequent exact value (ties: the smallest). An outlier at tolerance t is a member whose
//     distance to the mode is more than t; consensus at t is 1 - outliers(t)/members; aDist is
//     the mean distance to the mode of the outliers at t = 0.
//   - A vote is the set of fingerprints submitted for one task replicated on n executors. A rule
//     sets how many agreeing submissions a verdict needs: majority more than n/2
//     (n/2+1), super-majority more than 2n/3 (2n/3+1), with integer division.
//
// # Determinism
//
// Decide, Stats and everything they call use integer arithmetic only, read no clock, randomness,
// file, network or environment, start no goroutines and never depend on map order, so that every
// ledger node reaches the same verdict from the same submissions. Pool, which aggregates
// statistics for reports, returns ratios as float64 and is not meant for the ledger.
//
// # Use
//
//	v, err := quorum.Decide(submitted, replicas, tolerance, quorum.Majority)
//	if err != nil {
//		// malformed submissions: reject the transaction
//	}
//	if v.Accepted {
//		// pay v.Agreeing, penalise v.Outliers
//	} else {
//		// no verdict: add verifiers or give up
//	}
//
// Returned slices are owned by the caller; Decide and Stats never keep or modify their input.
// All functions are safe for concurrent use.
package quorum
