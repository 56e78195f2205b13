package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pairDistance returns imagehash's distance between a variant and its base from pairs.tsv.
func pairDistance(t *testing.T, variant, kind, size string) int {
	t.Helper()
	f, err := os.Open("../../testdata/imagehash/pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) >= 6 && c[0] == variant && c[3] == kind && c[4] == size {
			d, err := strconv.Atoi(c[5])
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no pairs.tsv row for %s %s %s", variant, kind, size)
	return 0
}

// TestConsensusAgainstPairs builds one group of three outputs, two equal to the base image and
// one shifted copy, and checks Table 1 against the reference distances of pairs.tsv: the mode
// is the base's hash, the shifted copy is an outlier at t whenever its distance d exceeds t,
// and aDist is d.
func TestConsensusAgainstPairs(t *testing.T) {
	dir := t.TempDir()
	images, _ := filepath.Abs("../../testdata/imagehash/images")
	manifest := "group\tfile\n" +
		"a\t" + images + "/p01_astronaut.png\n" +
		"a\t" + images + "/p01_astronaut.png\n" +
		"a\t" + images + "/p01_astronaut__shift1.png\n"
	path := filepath.Join(dir, "m.tsv")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	// Distances of the shifted copy in pairs.tsv: 0 for average_hash/8, dhash/8 and colorhash,
	// 2 for dhash_vertical/8 and phash_simple/8, 3 for average_hash/16, 9 for dhash/16.
	var rows []string
	for _, args := range [][]string{
		{"--kind", "average_hash,dhash", "--size", "8,16"},
		{"--kind", "dhash_vertical,phash_simple,colorhash"},
	} {
		stdout, stderr, code := runCLI(t, append([]string{"consensus", "--manifest", path, "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		rows = append(rows, strings.Split(strings.TrimSpace(stdout), "\n")...)
	}
	if len(rows) != 7 {
		t.Fatalf("got %d rows, want 7:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, line := range rows {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		kind := r["hash_name"].(string)
		size := fmt.Sprint(r["hash_size_or_binbits"])
		d := pairDistance(t, "images/p01_astronaut__shift1.png", kind, size)
		if r["images"].(float64) != 3 {
			t.Errorf("%s: images = %v, want 3", kind, r["images"])
		}
		for _, tol := range []int{0, 1, 2} {
			want := 0
			if d > tol {
				want = 1
			}
			if got := r[fmt.Sprintf("outliers_t%d", tol)].(float64); int(got) != want {
				t.Errorf("%s (d=%d): outliers_t%d = %v, want %d", kind, d, tol, got, want)
			}
			wantCons := 100 * float64(3-want) / 3
			// 1e-9: the percentage is a float ratio; only its last bits depend on the formula's order.
			if got := r[fmt.Sprintf("consensus_t%d", tol)].(float64); math.Abs(got-wantCons) > 1e-9 {
				t.Errorf("%s: consensus_t%d = %v, want %v", kind, tol, got, wantCons)
			}
		}
		if got := r["adist"].(float64); got != float64(d) {
			t.Errorf("%s: adist = %v, want %d", kind, got, d)
		}
	}
}

func TestConsensusInputErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("grp\tpath\nx\ty\n"), 0o644)
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("not a png"), 0o644)
	partial := filepath.Join(dir, "partial.tsv")
	images, _ := filepath.Abs("../../testdata/imagehash/images")
	os.WriteFile(partial, []byte("group\tfile\na\tx.png\na\t"+images+"/p02_camera.png\n"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"consensus"}, exitUsage, "--manifest"},
		{[]string{"consensus", "--manifest", bad}, exitError, "lacks a group or file column"},
		{[]string{"consensus", "--group-by", "([a-z", dir}, exitUsage, "--group-by"},
		{[]string{"consensus", "--group-by", "^p", images}, exitUsage, "capture group"},
		{[]string{"consensus", "--manifest", partial, "--kind", "average_hash"}, exitPartial, "x.png"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("genquorum %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
