// Package hashscan hashes image files: it expands paths (files and directory trees) into a
// sorted file list, decodes each file with imgdecode and computes a set of imghash hashes,
// in parallel, with per-file errors. It is the I/O shell around the pure imghash core, used
// by the genquorum hash, compare and consensus commands, whose output rows it also writes
// (WriteResults, Distances and WriteDistances: the columns of imagehash conformance data).
//
// Contracts:
//   - Files given explicitly are hashed whatever their name; inside directories (walked
//     recursively, symbolic links to directories not followed) only files whose extension is
//     .png, .jpg or .jpeg (any case) are hashed, others are skipped silently.
//   - File names keep the form given, or are the given directory exactly as given joined
//     with the path found under it ("./imgs/" finds "./imgs/a/b.png"), with '/' as the
//     separator. Results are sorted by file name (byte order) and unique, so output is
//     deterministic whatever the scheduling.
//   - A file that cannot be read, decoded or hashed yields a Result with Err set; the other
//     files are still hashed. Scan itself fails only when ctx is cancelled.
//   - Parallelism: Options.Workers files at once; with fewer files than workers the spare
//     ones split each image's row sweep (imghash.Hasher.Workers). Hashes never depend on it.
//   - Memory: each worker holds one decoded image (bounded by Options.Decode.MaxPixels)
//     plus an imghash.Hasher, whose buffers (kept for the next file) are about the image's
//     luma plane plus small tables.
package hashscan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
)

// Options controls Scan. The zero value uses GOMAXPROCS workers and imgdecode's defaults.
type Options struct {
	// Decode is passed to imgdecode (pixel limit, JPEG decoder).
	Decode imgdecode.Options
	// Workers is the number of files decoded and hashed at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called after each file with the number of files done and the
	// total. Calls are serialised.
	Progress func(done, total int)
}

// Result is the outcome for one file: the hashes in the order of the specs, or Err.
type Result struct {
	File   string
	Hashes []imghash.Hash
	Err    error
}

// imageExt reports whether name has one of the extensions hashed inside directories.
func imageExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// Files expands paths into the sorted, de-duplicated list of files to hash. A path that does
// not exist or a directory that cannot be read is returned as a failed Result.
func Files(paths []string) ([]string, []Result) {
	seen := map[string]bool{}
	var files []string
	var bad []Result
	add := func(p string) {
		p = filepath.ToSlash(p)
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			bad = append(bad, Result{File: filepath.ToSlash(root), Err: bare(err)})
			continue
		}
		if !st.IsDir() {
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				bad = append(bad, Result{File: filepath.ToSlash(p), Err: bare(err)})
				if d != nil && d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() && imageExt(d.Name()) {
				add(under(root, p))
			}
			return nil
		})
		if err != nil {
			bad = append(bad, Result{File: filepath.ToSlash(root), Err: err})
		}
	}
	slices.Sort(files)
	return files, bad
}

// Scan expands paths with Files and hashes every file with specs. It returns one Result per
// file or failed path, sorted by File. The error is non-nil only when ctx is cancelled
// (or specs are invalid), in which case the results are incomplete.
func Scan(ctx context.Context, paths []string, specs []imghash.Spec, opts Options) ([]Result, error) {
	files, bad := Files(paths)
	res, err := HashFiles(ctx, files, specs, opts)
	res = append(res, bad...)
	slices.SortStableFunc(res, func(a, b Result) int { return strings.Compare(a.File, b.File) })
	return res, err
}

// HashFiles decodes and hashes files (in that order in the result) in parallel.
func HashFiles(ctx context.Context, files []string, specs []imghash.Spec, opts Options) ([]Result, error) {
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return nil, err
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Fewer files than workers: the spare workers split each image's row sweep instead.
	inner := max(1, workers/max(len(files), 1))
	workers = min(workers, max(len(files), 1))
	res := make([]Result, len(files))
	var (
		mu   sync.Mutex
		next int
		done int
	)
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			hs := imghash.Hasher{Workers: inner}
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(files) {
					return nil
				}
				hashes, err := HashFile(&hs, files[i], specs, opts.Decode)
				res[i] = Result{File: files[i], Hashes: hashes, Err: err}
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(files))
					mu.Unlock()
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	return res, nil
}

// HashFile decodes one file and computes specs with hs (reused between calls by the caller).
// Errors do not repeat the file name.
func HashFile(hs *imghash.Hasher, file string, specs []imghash.Spec, opts imgdecode.Options) ([]imghash.Hash, error) {
	im, err := imgdecode.DecodeFile(file, opts)
	if err != nil {
		return nil, bare(err)
	}
	return HashImage(hs, im, specs)
}

// HashImage computes specs of a decoded image with hs, passing imghash only the plane
// imgdecode decoded (RGB for colour modes, so luma is computed in imghash's shared sweep).
func HashImage(hs *imghash.Hasher, im *imgdecode.Image, specs []imghash.Spec) ([]imghash.Hash, error) {
	img := imghash.Image{Width: im.Width, Height: im.Height}
	if rgb := im.RGB(); rgb != nil {
		img.RGB = rgb
	} else {
		img.Gray = im.Gray()
	}
	h, err := hs.Compute(img, specs)
	if err != nil {
		return nil, fmt.Errorf("hashscan: %w", err)
	}
	return h, nil
}

// under returns the name of p, found by walking root, as root (exactly as given) joined
// with p's path relative to root: filepath.WalkDir cleans the names it reports ("./d/x"
// becomes "d/x"), which would not be the path as given.
func under(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	r := filepath.ToSlash(root)
	if !strings.HasSuffix(r, "/") {
		r += "/"
	}
	return r + filepath.ToSlash(rel)
}

// bare drops the *fs.PathError wrapper (which repeats the file name) from an I/O error.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
