package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hashCorpus = "../../testdata/imagehash"

// readVectors returns vectors.tsv as "file kind size" -> [hex, float_ties].
func readVectors(t *testing.T) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hashCorpus, "vectors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		c := strings.Split(line, "\t")
		m[c[0]+" "+c[1]+" "+c[2]] = [2]string{c[3], c[4]}
	}
	return m
}

// TestHashCorpus runs genquorum hash over the corpus directory with every kind at sizes 8
// and 16 and checks the output layout and every PNG vector without float ties.
func TestHashCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 82 files")
	}
	stdout, stderr, code := runCLI(t, "hash", "--size", "16,8", hashCorpus+"/images")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if lines[0] != "file\thash_name\thash_size_or_binbits\thex" {
		t.Errorf("header = %q", lines[0])
	}
	// 82 files x (6 grey kinds x 2 sizes + colorhash).
	if got, want := len(lines)-1, 82*13; got != want {
		t.Errorf("%d rows, want %d", got, want)
	}
	vec := readVectors(t)
	var prev string
	checked := 0
	for i, line := range lines[1:] {
		c := strings.Split(line, "\t")
		if len(c) != 4 {
			t.Fatalf("row %d: %q", i+1, line)
		}
		// Sorted by file, then kind in the default order, then size.
		if i%13 == 0 {
			if c[0] <= prev {
				t.Errorf("row %d: file %q after %q", i+1, c[0], prev)
			}
			prev = c[0]
		}
		file := strings.TrimPrefix(c[0], hashCorpus+"/")
		v, ok := vec[file+" "+c[1]+" "+c[2]]
		if !ok || !strings.HasSuffix(file, ".png") || v[1] != "0" {
			continue
		}
		checked++
		if c[3] != v[0] {
			t.Errorf("%s %s %s = %s, want %s (vectors.tsv)", file, c[1], c[2], c[3], v[0])
		}
	}
	if checked != 553 {
		t.Errorf("checked %d PNG vectors, want 553", checked)
	}
	first := strings.Split(strings.Join(lines[1:14], "\n"), "\n")
	wantOrder := []string{"average_hash\t8", "average_hash\t16", "dhash\t8", "dhash\t16", "dhash_vertical\t8", "dhash_vertical\t16",
		"phash\t8", "phash\t16", "phash_simple\t8", "phash_simple\t16", "whash\t8", "whash\t16", "colorhash\t3"}
	for i, l := range first {
		if c := strings.SplitN(l, "\t", 2)[1]; !strings.HasPrefix(c, wantOrder[i]+"\t") {
			t.Errorf("row %d = %q, want kind/size %q", i+1, l, wantOrder[i])
		}
	}
}

// TestHashBadInputs checks that every bad file gets one stderr line naming it, the good one
// is still hashed, and the exit status is 3.
func TestHashBadInputs(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(hashCorpus, "images/p24_chelsea_crop_7x5.png"))
	if err != nil {
		t.Fatal(err)
	}
	big, err := os.ReadFile(filepath.Join(hashCorpus, "images/p13_rose.jpg")) // 70x46 = 3220 px
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"good.png":      good,
		"text.jpg":      []byte("hello"),
		"empty.png":     nil,
		"truncated.png": good[:40],
		"big.jpg":       big,
		"skipped.txt":   []byte("not hashed: wrong extension"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := runCLI(t, "hash", "--kind", "dhash,colorhash", "--max-pixels", "1000", dir)
	if code != exitPartial {
		t.Errorf("exit %d, want %d", code, exitPartial)
	}
	d := filepath.ToSlash(dir)
	wantOut := "file\thash_name\thash_size_or_binbits\thex\n" +
		d + "/good.png\tdhash\t8\tfbfefefeff7f3f3f\n" +
		d + "/good.png\tcolorhash\t3\t10e00008000\n"
	if stdout != wantOut {
		t.Errorf("stdout = %q, want %q", stdout, wantOut)
	}
	errLines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, name := range []string{"big.jpg", "empty.png", "text.jpg", "truncated.png"} {
		n := 0
		for _, l := range errLines {
			if strings.Contains(l, d+"/"+name+": ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("stderr has %d lines for %s, want 1:\n%s", n, name, stderr)
		}
	}
	if !strings.Contains(stderr, "4 of 5 inputs failed") {
		t.Errorf("stderr lacks the summary:\n%s", stderr)
	}
}

func TestHashJSON(t *testing.T) {
	file := hashCorpus + "/images/p24_chelsea_crop_7x5.png"
	stdout, stderr, code := runCLI(t, "hash", "--format", "json", "--kind", "whash,average_hash", "--size", "8,16", file)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	want := []struct {
		kind string
		size float64
	}{{"whash", 8}, {"whash", 16}, {"average_hash", 8}, {"average_hash", 16}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r["file"] != file || r["hash_name"] != w.kind || r["hash_size_or_binbits"] != w.size || len(r) != 4 {
			t.Errorf("row %d = %v, want file %s, %s/%v", i, r, file, w.kind, w.size)
		}
	}
	if rows[0]["hex"] != "3f3f1f1f0f070301" || rows[2]["hex"] != "7f3f1f1f0f0f0707" { // vectors.tsv
		t.Errorf("hex = %v, %v", rows[0]["hex"], rows[2]["hex"])
	}
}

func TestHashUsage(t *testing.T) {
	file := hashCorpus + "/images/p24_chelsea_crop_7x5.png"
	tests := [][]string{
		{"hash"},
		{"hash", "--kind", "ahash", file},
		{"hash", "--kind", "dhash,dhash", file},
		{"hash", "--size", "1", file},
		{"hash", "--kind", "whash", "--size", "12", file},
		{"hash", "--binbits", "0", file},
		{"hash", "--format", "xml", file},
		{"hash", "--jpeg-decoder", "libjpeg", file},
		{"hash", "--max-pixels", "0", file},
		{"hash", "--progress", "sometimes", file},
		{"compare", file},
		{"compare", "--kind", "nope", file, file},
	}
	for _, args := range tests {
		_, stderr, code := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("genquorum %q: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

// TestCompare checks compare against pairs.tsv for a PNG pair.
func TestCompare(t *testing.T) {
	base := hashCorpus + "/images/p07_horse.png"
	variant := hashCorpus + "/images/p07_horse__shift1.png"
	stdout, stderr, code := runCLI(t, "compare", "--size", "8,16", variant, base)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	got := map[string]string{}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if lines[0] != "hash_name\thash_size_or_binbits\thamming_distance\tbits" {
		t.Errorf("header = %q", lines[0])
	}
	for _, l := range lines[1:] {
		c := strings.Split(l, "\t")
		got[c[0]+"\t"+c[1]] = c[2] + "\t" + c[3]
	}
	pairs, err := os.ReadFile(filepath.Join(hashCorpus, "pairs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(pairs), "\n") {
		c := strings.Split(l, "\t")
		if len(c) != 7 || c[0] != "images/p07_horse__shift1.png" {
			continue
		}
		n++
		if g := got[c[3]+"\t"+c[4]]; g != c[5]+"\t"+c[6] {
			t.Errorf("%s/%s: distance, bits = %q, want %s %s (pairs.tsv)", c[3], c[4], g, c[5], c[6])
		}
	}
	if n != 10 {
		t.Errorf("found %d pairs.tsv rows, want 10", n)
	}

	_, stderr, code = runCLI(t, "compare", base, hashCorpus+"/README.md")
	if code != exitError || !strings.Contains(stderr, "README.md: ") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("compare with a non-image: exit %d, stderr %q; want %d and one line naming the file", code, stderr, exitError)
	}
}

func TestHashProgressAndEscaping(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(hashCorpus, "images/p24_chelsea_crop_7x5.png"))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "tab\there.png")
	if err := os.WriteFile(name, good, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "hash", "--kind", "average_hash", "--progress", "always", dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := "file\thash_name\thash_size_or_binbits\thex\n" + filepath.ToSlash(dir) + "/tab\\there.png\taverage_hash\t8\t7f3f1f1f0f0f0707\n"
	if stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "hashing") || !strings.Contains(stderr, "1/1") {
		t.Errorf("--progress always: stderr %q has no progress bar", stderr)
	}
	_, stderr, _ = runCLI(t, "hash", "--kind", "average_hash", dir)
	if stderr != "" {
		t.Errorf("--progress auto with 1 file and no terminal: stderr %q, want nothing", stderr)
	}
}

// TestHashJPEGDecoders checks both JPEG decoders run; turbo reproduces vectors.tsv.
func TestHashJPEGDecoders(t *testing.T) {
	file := hashCorpus + "/images/p13_rose.jpg"
	for _, dec := range []string{"turbo", "std"} {
		stdout, stderr, code := runCLI(t, "hash", "--jpeg-decoder", dec, "--kind", "dhash", file)
		if code != exitOK {
			t.Fatalf("--jpeg-decoder %s: exit %d, stderr %q", dec, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("--jpeg-decoder %s: %q", dec, stdout)
		}
		if dec == "turbo" {
			want := readVectors(t)["images/p13_rose.jpg dhash 8"][0]
			if got := strings.Split(lines[1], "\t")[3]; got != want {
				t.Errorf("turbo dhash = %s, want %s (vectors.tsv)", got, want)
			}
		}
	}
}
