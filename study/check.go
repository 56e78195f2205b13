package study

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/imghash"
)

// ImageFingerprints decodes a PNG (or JPEG) once and computes each spec's fingerprint on its
// own, timing each from the decoded pixels (decoding excluded). It returns scheme name ->
// fingerprint hex and "hash:<scheme>" -> milliseconds.
func ImageFingerprints(data []byte, specs []imghash.Spec) (map[string]string, map[string]float64, error) {
	im, err := imgdecode.Decode(bytes.NewReader(data), imgdecode.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("study: decode: %w", err)
	}
	var hs imghash.Hasher
	fps := make(map[string]string, len(specs))
	ms := make(map[string]float64, len(specs))
	for _, s := range specs {
		start := time.Now()
		h, err := hashscan.HashImage(&hs, im, []imghash.Spec{s})
		el := time.Since(start)
		if err != nil {
			return nil, nil, fmt.Errorf("study: %v: %w", s, err)
		}
		name := fingerprint.ImageScheme(s.Kind, s.Size).String()
		fps[name] = hex.EncodeToString(fingerprint.FromHash(h[0]))
		ms["hash:"+name] = float64(el.Nanoseconds()) / 1e6
	}
	return fps, ms, nil
}

// Problem is one mismatch found by Check.
type Problem struct {
	Line int    // manifest line (1-based); 0 for problems of the directory as a whole
	Key  string // entry key, when the line could be read
	What string
}

// String returns the problem as Check reports it, prefixed with its manifest line (and key)
// when it has one.
func (p Problem) String() string {
	if p.Line == 0 {
		return p.What
	}
	if p.Key == "" {
		return fmt.Sprintf("manifest line %d: %s", p.Line, p.What)
	}
	return fmt.Sprintf("manifest line %d (%s): %s", p.Line, p.Key, p.What)
}

// CheckResult is what Check found.
type CheckResult struct {
	Entries       int    // manifest lines read
	Fingerprints  int    // fingerprints recomputed
	DatasetDigest string // SHA-256 of manifest.jsonl
	Problems      []Problem
}

// Check re-checks a study directory: for every manifest line it reads the artifact, recomputes
// its SHA-256 (against the line's digest and the file name), the task digest (against the
// task's fields), and every fingerprint the line lists, and reports each mismatch. It also
// reports duplicate keys and unreadable lines. Artifacts that no line names are reported too,
// so nothing can hide in the directory. Check fails only on I/O errors of the directory itself
// or when ctx is cancelled; the mismatches are in the result.
//
// What Check cannot see: a line whose task, digests and fingerprints were all changed
// consistently (a different but self-consistent dataset). The dataset digest, published with
// the results, pins the manifest against that; Reproduce regenerates tasks to pin the rest.
func Check(ctx context.Context, dir string) (CheckResult, error) {
	var res CheckResult
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return res, fmt.Errorf("study: %w", err)
	}
	sum := sha256.Sum256(data)
	res.DatasetDigest = hex.EncodeToString(sum[:])
	seen := map[string]int{}
	named := map[string]bool{}
	err = scanManifest(bytes.NewReader(data), func(line int, e Entry, perr error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		res.Entries++
		bad := func(format string, args ...any) {
			res.Problems = append(res.Problems, Problem{Line: line, Key: e.Key, What: fmt.Sprintf(format, args...)})
		}
		if perr != nil {
			bad("unreadable: %v", perr)
			return nil
		}
		if first, ok := seen[e.Key]; ok {
			bad("key also on line %d", first)
		} else {
			seen[e.Key] = line
		}
		named[path.Clean(e.Artifact)] = true
		checkEntry(&res, e, dir, bad)
		return nil
	})
	if err != nil {
		return res, err
	}
	files, err := os.ReadDir(filepath.Join(dir, ArtifactDir))
	if err != nil {
		return res, fmt.Errorf("study: %w", err)
	}
	for _, f := range files {
		rel := ArtifactDir + "/" + f.Name()
		if !f.IsDir() && !strings.HasPrefix(f.Name(), ".") && !named[rel] {
			res.Problems = append(res.Problems, Problem{What: fmt.Sprintf("%s: named by no manifest line", rel)})
		}
	}
	return res, nil
}

func checkEntry(res *CheckResult, e Entry, dir string, bad func(string, ...any)) {
	clean := path.Clean(e.Artifact)
	if !strings.HasPrefix(clean, ArtifactDir+"/") || strings.Contains(clean[len(ArtifactDir)+1:], "/") {
		bad("artifact path %q outside %s/", e.Artifact, ArtifactDir)
		return
	}
	if t, err := e.Task.EngineTask(); err != nil {
		bad("task: %v", err)
	} else if got := t.Digest().String(); got != e.Task.Digest {
		bad("task digest %s does not match the task's fields (%s)", short(e.Task.Digest), short(got))
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(clean)))
	if err != nil {
		bad("artifact: %v", err)
		return
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if got != e.Digest {
		bad("artifact %s: SHA-256 is %s, the manifest says %s", e.Artifact, short(got), short(e.Digest))
	}
	if base := strings.TrimSuffix(path.Base(clean), path.Ext(clean)); base != e.Digest {
		bad("artifact file name %s does not match the digest %s", path.Base(clean), short(e.Digest))
	}
	if len(data) != e.Size {
		bad("artifact is %d bytes, the manifest says %d", len(data), e.Size)
	}
	a := &engine.Artifact{MediaType: e.MediaType, Data: data}
	for _, name := range slices.Sorted(maps.Keys(e.Fingerprints)) {
		s, err := fingerprint.ParseScheme(name)
		if err != nil {
			bad("fingerprint %s: %v", name, err)
			continue
		}
		fp, err := fingerprint.Of(a, s, fingerprint.Options{})
		if err != nil {
			bad("fingerprint %s: %v", name, err)
			continue
		}
		res.Fingerprints++
		if h := hex.EncodeToString(fp); h != e.Fingerprints[name] {
			bad("fingerprint %s is %s, the manifest says %s", name, h, e.Fingerprints[name])
		}
	}
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "..."
	}
	return h
}

// WriteText writes one "MISMATCH ..." line per problem and a summary line.
func (res CheckResult) WriteText(w io.Writer) error {
	for _, p := range res.Problems {
		if _, err := fmt.Fprintf(w, "MISMATCH %s\n", p); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d entries, %d fingerprints recomputed, %d mismatches; dataset digest %s\n",
		res.Entries, res.Fingerprints, len(res.Problems), res.DatasetDigest)
	return err
}
