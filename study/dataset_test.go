package study

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/imghash"
)

// tinyImageConfig is a grid small enough for a test: one model, two profiles, two images
// each, two sampling steps.
func tinyImageConfig(t *testing.T, seeds ...uint64) ImageConfig {
	t.Helper()
	models, err := BuiltinImageModels("base")
	if err != nil {
		t.Fatal(err)
	}
	return ImageConfig{Models: models, Profiles: []string{"exact", "hopper-bf16"}, Prompts: []string{"A photo of a bag"},
		Seeds: seeds, Specs: []imghash.Spec{{Kind: imghash.AverageHash, Size: 8}, {Kind: imghash.DHash, Size: 8}},
		Params: engine.ImageParams{Sampler: "ddim", Steps: 2, CFGScale: 3}}
}

func runTable1(t *testing.T, dir string, resume bool, cfg ImageConfig) {
	t.Helper()
	r, err := Open("table1", Options{Dir: dir, Resume: resume, Command: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunTable1(t.Context(), r, cfg); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDatasetResumeAndCheck(t *testing.T) {
	dir := t.TempDir()
	runTable1(t, dir, false, tinyImageConfig(t, 1))
	if _, err := Open("table1", Options{Dir: dir}); err == nil {
		t.Fatal("a second run into a dataset without resume was not refused")
	}
	// A crash mid-line leaves a partial last line; resume drops it and adds only new work.
	f, err := os.OpenFile(filepath.Join(dir, ManifestFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"study":"table1","key":"cut sh`)
	f.Close()
	runTable1(t, dir, true, tinyImageConfig(t, 1, 2))
	// Resuming with another prompt at the same position is refused, not skipped.
	other := tinyImageConfig(t, 1)
	other.Prompts = []string{"A photo of a coat"}
	r, err := Open("table1", Options{Dir: dir, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunTable1(t.Context(), r, other); !errors.Is(err, ErrKeyConflict) {
		t.Errorf("resume with another prompt: %v, want ErrKeyConflict", err)
	}
	r.Dataset.Close()
	ds, err := OpenDataset(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	entries := ds.Entries("")
	ds.Close()
	if len(entries) != 4 {
		t.Fatalf("%d entries after resume, want 4 (2 profiles x 2 seeds)", len(entries))
	}
	for _, name := range []string{"tables/table1.tsv", "tables/table1.json", "tables/table1.md", "tables/drift.md",
		"plots/consensus-base.svg", "plots/consensus-base.png", "plots/drift.svg", ReportFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	res, err := Check(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 || res.Entries != 4 || res.Fingerprints != 8 {
		t.Fatalf("clean dataset: %d entries, %d fingerprints, problems %v", res.Entries, res.Fingerprints, res.Problems)
	}

	// Alter one PNG and one manifest line (another entry's fingerprint): both are reported.
	png := filepath.Join(dir, filepath.FromSlash(entries[0].Artifact))
	data, _ := os.ReadFile(png)
	data[len(data)/2] ^= 1
	os.WriteFile(png, data, 0o644)
	man := filepath.Join(dir, ManifestFile)
	m, _ := os.ReadFile(man)
	lines := bytes.Split(m, []byte("\n"))
	fp := entries[3].Fingerprints["image:average_hash/8"]
	flipped := []byte(fp)
	flipped[0] ^= 1 // '0'<->'1', 'a'<->'`' ...: another hex digit or a bad one, both wrong
	lines[3] = bytes.Replace(lines[3], []byte(fp), flipped, 1)
	os.WriteFile(man, bytes.Join(lines, []byte("\n")), 0o644)
	res, err = Check(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var png1, line4 bool
	for _, p := range res.Problems {
		png1 = png1 || (p.Line == 1 && strings.Contains(p.What, "SHA-256"))
		line4 = line4 || (p.Line == 4 && strings.Contains(p.What, "average_hash"))
		if p.Line != 1 && p.Line != 4 {
			t.Errorf("unexpected problem %v", p)
		}
	}
	if !png1 || !line4 {
		t.Errorf("problems %v: want the altered PNG (line 1) and the altered fingerprint (line 4)", res.Problems)
	}
}

func TestCheckTaskDigestAndStrayFiles(t *testing.T) {
	dir := t.TempDir()
	runTable1(t, dir, false, tinyImageConfig(t, 1))
	man := filepath.Join(dir, ManifestFile)
	m, _ := os.ReadFile(man)
	m = bytes.Replace(m, []byte(`"seed":1,`), []byte(`"seed":7,`), 1)
	os.WriteFile(man, m, 0o644)
	os.WriteFile(filepath.Join(dir, ArtifactDir, "stray.png"), []byte("x"), 0o644)
	res, err := Check(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var task, stray bool
	for _, p := range res.Problems {
		task = task || (p.Line == 1 && strings.Contains(p.What, "task digest"))
		stray = stray || strings.Contains(p.What, "stray.png")
	}
	if !task || !stray || len(res.Problems) != 2 {
		t.Errorf("problems %v: want the changed seed and the stray file", res.Problems)
	}
}

func TestParseSeeds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint64 // nil: an error
	}{
		{"1", []uint64{1}},
		{"42", []uint64{42}},
		{"1-3", []uint64{1, 2, 3}},
		{"1-2,7", []uint64{1, 2, 7}},
		{"1-3,7", []uint64{1, 2, 3, 7}},
		{"x", nil},
		{"5-1", nil},
		{"0-100000", nil},
		{"0-1000000", nil},
	} {
		s, err := ParseSeeds(c.in)
		if !slices.Equal(s, c.want) || (err != nil) != (c.want == nil) {
			t.Errorf("ParseSeeds(%q) = %v, %v; want %v", c.in, s, err, c.want)
		}
	}
	if s, err := ParseSeeds("1-10"); len(s) != 10 || err != nil {
		t.Errorf("ParseSeeds(%q) = %v, %v; want 1..10", "1-10", s, err)
	}
}

// TestInterruptLeavesValidDataset cancels a run after its first image (as Ctrl-C does): what
// was written checks clean, and --resume finishes the rest.
func TestInterruptLeavesValidDataset(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := Open("table1", Options{Dir: dir, Workers: 1, Progress: func(string, int) func(int) {
		return func(done int) {
			if done == 1 {
				cancel()
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := RunTable1(ctx, r, tinyImageConfig(t, 1, 2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	r.Dataset.Close()
	res, err := Check(t.Context(), dir)
	if err != nil || len(res.Problems) > 0 || res.Entries != 1 {
		t.Fatalf("after the interrupt: %v, %d entries, problems %v", err, res.Entries, res.Problems)
	}
	runTable1(t, dir, true, tinyImageConfig(t, 1, 2))
	if res, err = Check(t.Context(), dir); err != nil || len(res.Problems) > 0 || res.Entries != 4 {
		t.Fatalf("after resume: %v, %d entries, problems %v", err, res.Entries, res.Problems)
	}
}

// TestVCSRevision: the build info's revision first, then git's, else a plain "unknown".
func TestVCSRevision(t *testing.T) {
	withRev := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}
	gitOK := func() (string, bool, error) { return "def", false, nil }
	gitDirty := func() (string, bool, error) { return "def", true, nil }
	gitNone := func() (string, bool, error) { return "", false, errors.New("not a git repository") }
	tests := []struct {
		bi   *debug.BuildInfo
		git  func() (string, bool, error)
		want string
	}{
		{withRev, gitOK, "abc+modified"},
		{&debug.BuildInfo{}, gitOK, "def (git, working directory)"},
		{nil, gitDirty, "def+modified (git, working directory)"},
		{&debug.BuildInfo{}, gitNone, UnknownVCS},
		{nil, nil, UnknownVCS},
	}
	for i, tt := range tests {
		if got := vcsRevision(tt.bi, tt.git); got != tt.want {
			t.Errorf("%d: %q, want %q", i, got, tt.want)
		}
	}
	// Under go test the build info has no revision: the field is never empty.
	if _, vcs := buildVersions(); vcs == "" {
		t.Error("empty VCS field")
	}
}
