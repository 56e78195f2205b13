package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/server"
)

// TestStudyCheckReportsTampering is issue 16's acceptance check: a dataset with one altered
// PNG and one altered manifest line gets both reported, and exit status 3.
func TestStudyCheckReportsTampering(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	_, stderr, code := runCLI(t, "study", "table1", "--out", dir, "--model", "base", "--profile", "exact,ampere-tf32",
		"--prompt", "A photo of a bag", "--seed", "1-2", "--steps", "2", "--kind", "average_hash,dhash")
	if code != exitOK {
		t.Fatalf("study table1: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "study", "check", dir)
	if code != exitOK || !strings.Contains(out, "4 entries, 8 fingerprints recomputed, 0 mismatches") {
		t.Fatalf("check of a clean dataset: exit %d, %q %q", code, out, stderr)
	}
	man := filepath.Join(dir, "manifest.jsonl")
	data, err := os.ReadFile(man)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var first struct{ Artifact string }
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, first.Artifact)
	img, _ := os.ReadFile(png)
	img[len(img)/2] ^= 0x10
	if err := os.WriteFile(png, img, 0o644); err != nil {
		t.Fatal(err)
	}
	lines[2] = bytes.Replace(lines[2], []byte(`"prompt":"A photo of a bag"`), []byte(`"prompt":"A photo of a coat"`), 1)
	if err := os.WriteFile(man, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "study", "check", dir)
	if code != exitPartial {
		t.Errorf("check of a tampered dataset: exit %d, want %d", code, exitPartial)
	}
	// The altered PNG fails its digest (and, here, its decoding); the altered line its task digest.
	var badPNG, line bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case !strings.HasPrefix(l, "MISMATCH"):
		case strings.Contains(l, "manifest line 1 "):
			badPNG = badPNG || strings.Contains(l, "SHA-256 is")
		case strings.Contains(l, "manifest line 3 "):
			line = line || strings.Contains(l, "task digest")
		default:
			t.Errorf("unexpected %q", l)
		}
	}
	if !badPNG || !line {
		t.Errorf("check output %q: want the altered PNG (line 1) and the altered prompt (line 3)", out)
	}
}

// TestStudyTable1Engine: study table1 --engine runs a remote engine (an a1111 spec on genquorum
// serve's handler of the built-in base model) as one more column, and reproduce --engine reruns it.
func TestStudyTable1Engine(t *testing.T) {
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := diffusion.New(base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{Image: eng})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	spec := "base=a1111:" + ts.URL + "?digest=" + eng.Models()[0].Digest.String()
	dir := filepath.Join(t.TempDir(), "st")
	_, stderr, code := runCLI(t, "study", "table1", "--out", dir, "--model", "base", "--profile", "exact",
		"--prompt", "A photo of a bag", "--seed", "1", "--steps", "2", "--kind", "average_hash", "--engine", spec)
	if code != exitOK {
		t.Fatalf("study table1 --engine: exit %d: %s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "tables", "table1.md"))
	if err != nil {
		t.Fatal(err)
	}
	// One group of two images (exact and the remote engine), which agree.
	if !strings.Contains(string(md), "| base | image:average_hash/8 | 2 | 1 | 100.00 |") {
		t.Errorf("table1.md:\n%s", md)
	}
	man, _ := os.ReadFile(filepath.Join(dir, "manifest.jsonl"))
	if !strings.Contains(string(man), `"profile":"remote@`+strings.TrimPrefix(ts.URL, "http://")+`"`) {
		t.Errorf("manifest has no remote entry:\n%s", man)
	}
	out, stderr, code := runCLI(t, "study", "reproduce", dir, "--sample", "0", "--engine", spec)
	if code != exitOK {
		t.Fatalf("reproduce --engine: exit %d: %s %s", code, out, stderr)
	}
	if _, _, code := runCLI(t, "study", "table1", "--out", t.TempDir(), "--engine", "base=nope:x"); code != exitUsage && code != exitError {
		t.Errorf("bad --engine spec: exit %d", code)
	}
}
