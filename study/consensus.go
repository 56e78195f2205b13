package study

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/quorum"
)

// Tolerances are the tolerances of Table 1.
var Tolerances = []int{0, 1, 2}

// Group is the outputs of one task: files that should hash alike.
type Group struct {
	Name  string
	Files []string
}

// ConsensusOptions control Consensus.
type ConsensusOptions struct {
	Decode  imgdecode.Options
	Workers int // 0: GOMAXPROCS
	// Progress, if set, is called after each file (serialised).
	Progress func(done, total int)
}

// ConsensusRow is one row of Table 1: one hash kind and size, pooled over all groups.
type ConsensusRow struct {
	Spec      imghash.Spec
	Images    int       // images hashed (failed files excluded)
	Groups    int       // groups with at least one image
	Consensus []float64 // percent, at each of Tolerances
	Outliers  []int     // at each of Tolerances
	ADist     float64   // mean Hamming distance of the tolerance-0 outliers to their mode
	MsPerHash float64   // mean time of one hash from decoded pixels, computed on its own
}

// FileError is a file that could not be hashed.
type FileError struct {
	File string
	Err  error
}

// Consensus hashes every file of every group with each spec and returns one pooled row per
// spec, plus the files that failed. It fails only when ctx is cancelled or a group is empty.
//
// Each spec of each image is computed separately and timed (from decoded pixels, decoding
// excluded), so ms_per_hash compares the kinds the way the paper's Table 1 does; the hashes
// are identical to a shared-work computation.
func Consensus(ctx context.Context, groups []Group, specs []imghash.Spec, opts ConsensusOptions) ([]ConsensusRow, []FileError, error) {
	type job struct{ g, f int }
	var jobs []job
	for gi, g := range groups {
		if len(g.Files) == 0 {
			return nil, nil, fmt.Errorf("study: group %q has no files", g.Name)
		}
		for fi := range g.Files {
			jobs = append(jobs, job{gi, fi})
		}
	}
	// fps[g][f][s]: fingerprint of file f of group g under spec s; nil when the file failed.
	fps := make([][][][]byte, len(groups))
	for gi, g := range groups {
		fps[gi] = make([][][]byte, len(g.Files))
	}
	elapsed := make([]time.Duration, len(specs))
	var (
		mu     sync.Mutex
		done   int
		failed []FileError
	)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan job)
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(next)
		for _, j := range jobs {
			select {
			case next <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range workers {
		eg.Go(func() error {
			var hs imghash.Hasher
			local := make([]time.Duration, len(specs))
			defer func() {
				mu.Lock()
				for i, d := range local {
					elapsed[i] += d
				}
				mu.Unlock()
			}()
			for j := range next {
				file := groups[j.g].Files[j.f]
				row, err := hashEach(&hs, file, specs, opts.Decode, local)
				mu.Lock()
				if err != nil {
					failed = append(failed, FileError{file, err})
				} else {
					fps[j.g][j.f] = row
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(jobs))
				}
				mu.Unlock()
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(failed, func(a, b FileError) int {
		if a.File < b.File {
			return -1
		}
		if a.File > b.File {
			return 1
		}
		return 0
	})

	rows := make([]ConsensusRow, len(specs))
	for si, spec := range specs {
		var pool quorum.Pool
		for gi := range groups {
			var members [][]byte
			for _, row := range fps[gi] {
				if row != nil {
					members = append(members, row[si])
				}
			}
			if len(members) == 0 {
				continue
			}
			st, err := quorum.Stats(members, Tolerances)
			if err != nil {
				return nil, nil, fmt.Errorf("study: group %q, %v: %w", groups[gi].Name, spec, err)
			}
			if err := pool.Add(st); err != nil {
				return nil, nil, fmt.Errorf("study: %w", err)
			}
		}
		r := ConsensusRow{Spec: spec, Images: pool.Members(), Groups: pool.Groups()}
		for i := range Tolerances {
			if pool.Members() > 0 {
				r.Consensus = append(r.Consensus, 100*pool.Consensus(i))
				r.Outliers = append(r.Outliers, pool.Outliers(i))
			}
		}
		if pool.Members() > 0 {
			r.ADist = pool.ADist()
			r.MsPerHash = float64(elapsed[si].Nanoseconds()) / 1e6 / float64(pool.Members())
		}
		rows[si] = r
	}
	return rows, failed, nil
}

// hashEach decodes file once and computes each spec on its own, adding each one's time to
// elapsed.
func hashEach(hs *imghash.Hasher, file string, specs []imghash.Spec, dec imgdecode.Options, elapsed []time.Duration) ([][]byte, error) {
	im, err := imgdecode.DecodeFile(file, dec)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(specs))
	for i, s := range specs {
		start := time.Now()
		h, err := hashscan.HashImage(hs, im, []imghash.Spec{s})
		elapsed[i] += time.Since(start)
		if err != nil {
			return nil, err
		}
		out[i] = fingerprint.FromHash(h[0])
	}
	return out, nil
}
