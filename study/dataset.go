package study

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/genquorum/genquorum/engine"
)

// Layout of a study directory (see doc.go).
const (
	ManifestFile = "manifest.jsonl"
	ArtifactDir  = "artifacts"
	TableDir     = "tables"
	PlotDir      = "plots"
	RunsFile     = "runs.jsonl"
	ReportFile   = "report.html"
)

// maxManifestLine bounds one manifest line, so that a wrong file cannot exhaust memory.
const maxManifestLine = 16 << 20

// Entry is one line of manifest.jsonl: one artifact, the task that made it, its fingerprints
// and timings. Key is unique in a dataset: it names the work item (what --resume skips).
type Entry struct {
	Study     string `json:"study"`      // "table1", "table2", "type2", ...
	Key       string `json:"key"`        // unique name of the work item, e.g. "table1/base/exact/p0/s1"
	Artifact  string `json:"artifact"`   // path relative to the directory: artifacts/<digest>.<ext>
	Digest    string `json:"digest"`     // SHA-256 of the artifact's bytes, 64 hex digits
	MediaType string `json:"media_type"` // "image/png" or fingerprint.MediaTypeTextRecord
	Size      int    `json:"size"`       // bytes

	Task TaskRecord `json:"task"`
	// Fingerprints maps a fingerprint scheme (package fingerprint, e.g. "image:average_hash/8",
	// "text:tokens") to the artifact's fingerprint in hex. check recomputes every one.
	Fingerprints map[string]string `json:"fingerprints"`
	// Timings in milliseconds: "generate", and "hash:<scheme>" for each fingerprint (from
	// decoded pixels, decoding excluded, each scheme computed on its own).
	Timings map[string]float64 `json:"timings_ms"`
	// Extra holds study-specific measurements (e.g. per-token margins of a text output).
	Extra map[string]any `json:"extra,omitempty"`
}

// TaskRecord is the task of an entry: everything needed to run it again.
type TaskRecord struct {
	Kind        engine.Kind         `json:"kind"`
	Model       string              `json:"model"`
	ModelDigest string              `json:"model_digest"` // SHA-256 of the model file, hex
	Prompt      string              `json:"prompt"`
	Seed        uint64              `json:"seed"`
	Profile     string              `json:"profile"`
	Image       *engine.ImageParams `json:"image,omitempty"`
	Text        *engine.TextParams  `json:"text,omitempty"`
	// Engine names the engine that ran the task; Settings are its pinned settings (the
	// artifact's Info: engine version, profile, threads...).
	Engine   string            `json:"engine"`
	Settings map[string]string `json:"settings,omitempty"`
	// Digest is engine.Task.Digest of the task above (its canonical encoding), hex.
	Digest string `json:"task_digest"`
}

// EngineTask returns the engine.Task the record describes.
func (tr TaskRecord) EngineTask() (engine.Task, error) {
	t := engine.Task{Kind: tr.Kind, Model: engine.ModelRef{Name: tr.Model}, Prompt: tr.Prompt, Seed: tr.Seed,
		Profile: tr.Profile, Image: tr.Image, Text: tr.Text}
	if tr.ModelDigest != "" {
		d, err := engine.ParseDigest(tr.ModelDigest)
		if err != nil {
			return t, fmt.Errorf("study: model digest: %w", err)
		}
		t.Model.Digest = d
	}
	return t, nil
}

// NewTaskRecord records task t as run by engine name with settings.
func NewTaskRecord(t engine.Task, engineName string, settings map[string]string) TaskRecord {
	tr := TaskRecord{Kind: t.Kind, Model: t.Model.Name, Prompt: t.Prompt, Seed: t.Seed, Profile: t.Profile,
		Image: t.Image, Text: t.Text, Engine: engineName, Settings: settings, Digest: t.Digest().String()}
	if !t.Model.Digest.IsZero() {
		tr.ModelDigest = t.Model.Digest.String()
	}
	return tr
}

// Dataset is the content-addressed store and append-only manifest of a study directory. It is
// safe for concurrent use. Artifacts are written atomically (a temporary file, fsync, rename)
// before their manifest line, and each manifest line is written whole and fsynced, so an
// interrupted run leaves only complete artifacts and complete lines.
type Dataset struct {
	dir string

	mu      sync.Mutex
	f       *os.File
	entries []Entry
	keys    map[string]int
}

// OpenDataset opens (creating it if needed) the dataset in dir. With resume, the existing
// manifest is read (a final line cut short by a crash is dropped); without it, a directory
// that already has a manifest with entries is refused, so that no run mixes into another
// unasked.
func OpenDataset(dir string, resume bool) (*Dataset, error) {
	if err := os.MkdirAll(filepath.Join(dir, ArtifactDir), 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	path := filepath.Join(dir, ManifestFile)
	d := &Dataset{dir: dir, keys: map[string]int{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("study: %w", err)
	}
	if len(data) > 0 && !resume {
		return nil, fmt.Errorf("study: %s already holds a dataset: pass --resume to add to it, or choose another directory", dir)
	}
	if n := bytes.LastIndexByte(data, '\n') + 1; n < len(data) {
		// A line cut short by a crash: drop it so the manifest stays valid JSON lines.
		if err := os.Truncate(path, int64(n)); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		data = data[:n]
	}
	entries, err := ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		d.add(e)
	}
	d.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	return d, nil
}

func (d *Dataset) add(e Entry) {
	if i, ok := d.keys[e.Key]; ok {
		d.entries[i] = e // the later line wins
		return
	}
	d.keys[e.Key] = len(d.entries)
	d.entries = append(d.entries, e)
}

// Dir returns the dataset's directory.
func (d *Dataset) Dir() string { return d.dir }

// Has reports whether an entry with key is in the manifest.
func (d *Dataset) Has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.keys[key]
	return ok
}

// Lookup returns the entry with key.
func (d *Dataset) Lookup(key string) (Entry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, ok := d.keys[key]
	if !ok {
		return Entry{}, false
	}
	return d.entries[i], true
}

// Done reports whether key is in the manifest for task t. A key that holds another task is an
// error (ErrKeyConflict): a resumed run whose grid differs (keys name prompts by position)
// must not skip work it has not done.
func (d *Dataset) Done(key string, t engine.Task) (bool, error) {
	e, ok := d.Lookup(key)
	if !ok {
		return false, nil
	}
	if got := t.Digest().String(); e.Task.Digest != got {
		return false, fmt.Errorf("%w: %s holds task %s, this run's task is %s (resume with the same prompts and settings, or another --out)",
			ErrKeyConflict, key, short(e.Task.Digest), short(got))
	}
	return true, nil
}

// ErrKeyConflict is returned by Done for a key that names another task.
var ErrKeyConflict = errors.New("study: work item already done with another task")

// Entries returns the entries of study (all when study is ""), in manifest order. The slice is
// a copy; the entries' maps are shared and must not be changed.
func (d *Dataset) Entries(study string) []Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Entry
	for _, e := range d.entries {
		if study == "" || e.Study == study {
			out = append(out, e)
		}
	}
	return out
}

// Put stores data under its digest (ext, like ".png", names the file type) and appends e,
// with its Artifact, Digest and Size filled in, to the manifest. It returns the entry written.
func (d *Dataset) Put(e Entry, data []byte, ext string) (Entry, error) {
	sum := sha256.Sum256(data)
	e.Digest = hex.EncodeToString(sum[:])
	e.Artifact = ArtifactDir + "/" + e.Digest + ext
	e.Size = len(data)
	if err := WriteFileAtomic(filepath.Join(d.dir, filepath.FromSlash(e.Artifact)), data); err != nil {
		return e, err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("study: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.f.Write(append(line, '\n')); err != nil {
		return e, fmt.Errorf("study: manifest: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return e, fmt.Errorf("study: manifest: %w", err)
	}
	d.add(e)
	return e, nil
}

// Close closes the manifest.
func (d *Dataset) Close() error { return d.f.Close() }

// DatasetDigest returns the dataset's digest: the SHA-256 of its manifest file, hex.
func DatasetDigest(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return "", fmt.Errorf("study: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// ManifestError is a manifest line that cannot be read.
type ManifestError struct {
	Line int
	Err  error
}

// Error returns "study: manifest line N: " and the underlying error.
func (e *ManifestError) Error() string {
	return fmt.Sprintf("study: manifest line %d: %v", e.Line, e.Err)
}

// Unwrap returns the error of the line.
func (e *ManifestError) Unwrap() error { return e.Err }

// ParseManifest reads manifest lines (JSON objects, one a line; blank lines skipped). It fails
// at the first line that is not an entry, with a *ManifestError.
func ParseManifest(r io.Reader) ([]Entry, error) {
	var out []Entry
	err := scanManifest(r, func(line int, e Entry, err error) error {
		if err != nil {
			return &ManifestError{line, err}
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// scanManifest calls fn for each non-blank line with its entry or its parse error.
func scanManifest(r io.Reader, fn func(line int, e Entry, err error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxManifestLine)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var e Entry
		err := json.Unmarshal([]byte(text), &e)
		if err == nil && (e.Key == "" || e.Study == "" || e.Artifact == "") {
			err = errors.New("entry without study, key or artifact")
		}
		if err := fn(n, e, err); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("study: manifest: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same directory, synced
// and renamed over path, so that path holds either its old content or all of data.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("study: write %s: %w", path, err)
	}
	return nil
}
