package study

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genquorum/genquorum/imghash"
)

// ReuseIndex maps task digests to artifacts already made by earlier study runs (other
// directories), so that a study can take an image it would regenerate bit for bit instead of
// computing it again. The engines are deterministic per task (the task digest pins model,
// prompt, seed, parameters and profile), so a reused artifact is what generation would give;
// its SHA-256 is checked against the other manifest when it is read, its fingerprints are
// computed afresh, and the entry records where it came from (Extra "reused_from").
type ReuseIndex struct {
	byTask map[string]reused
}

type reused struct {
	dir   string
	entry Entry
}

// OpenReuse reads the manifests of dirs, keeping the entries whose engine setting ("engine" in
// the task's settings, the engine's numerics version) is engineVersion.
func OpenReuse(dirs []string, engineVersion string) (*ReuseIndex, error) {
	ix := &ReuseIndex{byTask: map[string]reused{}}
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, ManifestFile))
		if err != nil {
			return nil, fmt.Errorf("study: reuse: %w", err)
		}
		entries, err := ParseManifest(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("study: reuse %s: %w", dir, err)
		}
		for _, e := range entries {
			if _, ok := ix.byTask[e.Task.Digest]; !ok && e.Task.Settings["engine"] == engineVersion {
				ix.byTask[e.Task.Digest] = reused{dir: dir, entry: e}
			}
		}
	}
	return ix, nil
}

// Len returns the number of tasks indexed.
func (ix *ReuseIndex) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.byTask)
}

// lookup returns the artifact bytes and the entry of the task with digest taskDigest, after
// checking the artifact's SHA-256; ok is false when no earlier run made it.
func (ix *ReuseIndex) lookup(taskDigest string) (data []byte, e Entry, dir string, ok bool, err error) {
	if ix == nil {
		return nil, Entry{}, "", false, nil
	}
	r, found := ix.byTask[taskDigest]
	if !found {
		return nil, Entry{}, "", false, nil
	}
	data, err = os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(r.entry.Artifact)))
	if err != nil {
		return nil, Entry{}, "", false, fmt.Errorf("study: reuse: %w", err)
	}
	sum := sha256.Sum256(data)
	if want, _ := hex.DecodeString(r.entry.Digest); !bytes.Equal(sum[:], want) {
		return nil, Entry{}, "", false, fmt.Errorf("study: reuse %s: %s does not match its SHA-256", r.dir, r.entry.Artifact)
	}
	return data, r.entry, r.dir, true, nil
}

// reuseImage records the image of it from r.Reuse, if an earlier run made it; done reports
// whether it did.
func (r *Run) reuseImage(study string, it imageItem, specs []imghash.Spec) (done bool, err error) {
	data, old, dir, ok, err := r.Reuse.lookup(it.task.Digest().String())
	if !ok || err != nil {
		return false, err
	}
	fps, ms, err := ImageFingerprints(data, specs)
	if err != nil {
		return false, fmt.Errorf("study: %s: %w", it.key, err)
	}
	if g, ok := old.Timings["generate"]; ok {
		ms["generate"] = g
	}
	e := Entry{Study: study, Key: it.key, MediaType: old.MediaType, Task: old.Task, Fingerprints: fps, Timings: ms,
		Extra: map[string]any{"reused_from": dir}}
	_, err = r.Dataset.Put(e, data, filepath.Ext(old.Artifact))
	return true, err
}
