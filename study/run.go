package study

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options are what every study shares: where it writes and how it runs.
type Options struct {
	Dir     string // the study directory (created if missing)
	Resume  bool   // add to an existing directory, skipping work items already in its manifest
	Workers int    // work items at once; <= 0 means runtime.GOMAXPROCS(0)
	// Command is the command line that started the run, recorded in runs.jsonl and the report.
	Command []string
	// Progress, when not nil, is called when a long step starts, with a label and the number of
	// items; it returns the function called (serialised) with the items done so far.
	Progress func(label string, total int) func(done int)
	// Reuse, when not nil, supplies images that earlier runs (other directories) made for the
	// same task digest, instead of generating them again (see ReuseIndex).
	Reuse *ReuseIndex
}

// Run is one run of a study over a directory: the dataset, the tables and plots it writes,
// and the report. Open it, do the work (Do for parallel work items, Dataset.Put for artifacts,
// WriteTable and SavePlot for results), then Close, which rewrites report.html from
// everything the directory holds.
type Run struct {
	Options
	Dataset *Dataset
	Started time.Time
}

// RunRecord is one line of runs.jsonl: a run of a study, with the versions it ran with.
type RunRecord struct {
	Study     string    `json:"study"`
	Command   []string  `json:"command"`
	Started   time.Time `json:"started"`
	GoVersion string    `json:"go_version"`
	Module    string    `json:"module"`  // main module path and version
	VCS       string    `json:"vcs"`     // revision (and "+modified") the binary was built from, if known
	OSArch    string    `json:"os_arch"` // GOOS/GOARCH
	CPUs      int       `json:"cpus"`    // runtime.NumCPU
	Workers   int       `json:"workers"`
}

// Open starts a run of study in opts.Dir and records it in runs.jsonl.
func Open(study string, opts Options) (*Run, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("study: no output directory")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	ds, err := OpenDataset(opts.Dir, opts.Resume)
	if err != nil {
		return nil, err
	}
	r := &Run{Options: opts, Dataset: ds, Started: time.Now().UTC()}
	rec := RunRecord{Study: study, Command: opts.Command, Started: r.Started, GoVersion: runtime.Version(),
		OSArch: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(), Workers: opts.Workers}
	rec.Module, rec.VCS = buildVersions()
	if err := appendLine(filepath.Join(opts.Dir, RunsFile), rec); err != nil {
		ds.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the dataset and rewrites report.html.
func (r *Run) Close() error {
	err := r.Dataset.Close()
	if rerr := WriteReport(r.Dir); err == nil {
		err = rerr
	}
	return err
}

// Do runs fn for items 0..n-1, r.Workers at once, with a progress bar labelled label. It stops
// at the first error or when ctx is cancelled (items already done stay done).
func (r *Run) Do(ctx context.Context, label string, n int, fn func(ctx context.Context, i int) error) error {
	var (
		mu   sync.Mutex
		done int
		tick = func(int) {}
	)
	if r.Progress != nil && n > 0 {
		tick = r.Progress(label, n)
	}
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(r.Workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		eg.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := fn(gctx, i); err != nil {
				return err
			}
			mu.Lock()
			done++
			tick(done)
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// ReadRuns reads runs.jsonl of dir.
func ReadRuns(dir string) ([]RunRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, RunsFile))
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	var out []RunRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var rec RunRecord
		if err := dec.Decode(&rec); err != nil {
			break // a line cut short by a crash ends the list
		}
		out = append(out, rec)
	}
	return out, nil
}

func buildVersions() (module, vcs string) {
	bi, ok := debug.ReadBuildInfo()
	if ok {
		module = bi.Main.Path + " " + bi.Main.Version
	}
	return module, vcsRevision(bi, gitRevision)
}

// UnknownVCS is the VCS field of a run whose revision neither the binary nor git knows.
const UnknownVCS = "unknown (not built from a VCS checkout)"

// vcsRevision is the revision the binary was built from (and "+modified"), as its build
// info records it; "go run" and "go test" record none, so then the working directory's git
// revision (git, "+modified" when the tree has changes, "(git)" noted) is used, else
// UnknownVCS.
func vcsRevision(bi *debug.BuildInfo, git func() (rev string, modified bool, err error)) string {
	var rev, modified string
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
	}
	if rev != "" {
		return rev + modified
	}
	if git != nil {
		if r, mod, err := git(); err == nil && r != "" {
			if mod {
				r += "+modified"
			}
			return r + " (git, working directory)"
		}
	}
	return UnknownVCS
}

// gitRevision asks git for the working directory's HEAD and whether the tree has changes.
func gitRevision() (string, bool, error) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false, err
	}
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(string(out)), len(bytes.TrimSpace(st)) > 0, nil
}

// appendLine appends v as one JSON line to path and syncs it.
func appendLine(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("study: %s: %w", path, err)
	}
	return nil
}
