package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math/bits"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/collide/table"
)

// A distinct flag name: other commands' tests in this package may define -update.
var updateCollisions = flag.Bool("update-collisions", false, "rewrite the collisions golden files")

const collisionsInput = "testdata/collisions/hashes.tsv"

// naiveRow is one input row, parsed by the test itself.
type naiveRow struct {
	kind, prompt string
	words        []uint64
}

// readNaive parses hashes.tsv independently of the command.
func readNaive(t *testing.T) []naiveRow {
	t.Helper()
	data, err := os.ReadFile(collisionsInput)
	if err != nil {
		t.Fatal(err)
	}
	var rows []naiveRow
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t") // file prompt hash_name size hex
		var words []uint64
		for k := 0; k < len(f[4]); k += 16 {
			w, err := strconv.ParseUint(f[4][k:k+16], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			words = append(words, w)
		}
		rows = append(rows, naiveRow{f[2] + "/" + f[3], f[1], words})
	}
	return rows
}

// naiveCollisions returns, per kind, the pairs and cumulative collisions within tol,
// among all pairs or only same-prompt pairs.
func naiveCollisions(rows []naiveRow, tol int, grouped bool) map[string][]uint64 {
	out := map[string][]uint64{}
	for i, a := range rows {
		if out[a.kind] == nil {
			out[a.kind] = make([]uint64, tol+2) // pairs, then le_0..le_tol
		}
		for _, b := range rows[i+1:] {
			if a.kind != b.kind || (grouped && a.prompt != b.prompt) {
				continue
			}
			d := 0
			for k := range a.words {
				d += bits.OnesCount64(a.words[k] ^ b.words[k])
			}
			c := out[a.kind]
			c[0]++
			for e := d; e <= tol; e++ {
				c[1+e]++
			}
		}
	}
	return out
}

// TestCollisionsCountsMatchNaive runs the command (TSV output) and checks every count against a
// brute force written here, for both kinds, both scopes and several tolerances and methods.
func TestCollisionsCountsMatchNaive(t *testing.T) {
	rows := readNaive(t)
	for _, tol := range []int{0, 2, 5, 20} {
		for _, method := range []string{"auto", "brute-force", "multi-index"} {
			stdout, stderr, code := runCLI(t, "collisions", "-t", strconv.Itoa(tol), "--method", method,
				"--group-column", "prompt", "--scope", "both", "--format", "tsv", collisionsInput)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := parseCollisionsTSV(t, stdout)
			if len(got) != 4 {
				t.Fatalf("t=%d %s: %d result rows, want 4 (2 kinds x 2 scopes):\n%s", tol, method, len(got), stdout)
			}
			for _, r := range got {
				want := naiveCollisions(rows, tol, r["scope"] == "groups")[r["hash_name"]+"/"+r["hash_size_or_binbits"]]
				if r["pairs"] != strconv.FormatUint(want[0], 10) {
					t.Errorf("t=%d %s %s %s: pairs %s, want %d", tol, method, r["hash_name"], r["scope"], r["pairs"], want[0])
				}
				for d := 0; d <= tol; d++ {
					col := "collisions_le_" + strconv.Itoa(d)
					if r[col] != strconv.FormatUint(want[1+d], 10) {
						t.Errorf("t=%d %s %s %s: %s = %s, want %d", tol, method, r["hash_name"], r["scope"], col, r[col], want[1+d])
					}
				}
			}
		}
	}
}

// parseCollisionsTSV returns the result rows of TSV output as maps from column to value.
func parseCollisionsTSV(t *testing.T, out string) []map[string]string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	var header []string
	var rows []map[string]string
	for sc.Scan() {
		if sc.Text() == "" {
			break // pair listings follow
		}
		f := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = f
			continue
		}
		if len(f) != len(header) {
			t.Fatalf("row %q has %d fields, header %d", sc.Text(), len(f), len(header))
		}
		m := map[string]string{}
		for i, h := range header {
			m[h] = f[i]
		}
		rows = append(rows, m)
	}
	return rows
}

var timings = regexp.MustCompile(`(?m)(time +)[0-9.]+ s +[0-9.e+]+ pairs/s|"(seconds|pairs_per_second)": [0-9.e+-]+|\t[0-9.]+\t[0-9.e+]+$`)

// blankTimings replaces the timings, which change from run to run.
func blankTimings(s string) string {
	return timings.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case strings.HasPrefix(m, "time"):
			return "time X"
		case strings.HasPrefix(m, `"`):
			return m[:strings.Index(m, ":")] + ": X"
		}
		return "\tX\tX"
	})
}

func TestCollisionsGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"text", []string{"--kind", "average_hash", "--group-column", "prompt", "--scope", "both", "--list", "3"}},
		{"tsv", []string{"-t", "3", "--group-column", "prompt", "--list", "2", "--format", "tsv"}},
		{"json", []string{"--size", "16", "--format", "json", "--list", "1"}},
	}
	for _, tt := range tests {
		args := append([]string{"collisions"}, tt.args...)
		args = append(args, collisionsInput)
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tt.name, code, stderr)
		}
		got := blankTimings(stdout)
		path := filepath.Join("testdata", "collisions", tt.name+".golden")
		if *updateCollisions {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s: output differs from %s:\n%s", tt.name, path, got)
		}
		if tt.name == "json" {
			var v struct {
				Results []table.Result `json:"results"`
			}
			if err := json.Unmarshal([]byte(stdout), &v); err != nil || len(v.Results) != 1 {
				t.Errorf("json: %v, %d results", err, len(v.Results))
			}
		}
	}
}

func TestCollisionsSynthetic(t *testing.T) {
	stdout, stderr, code := runCLI(t, "collisions", "--synthetic", "30x200", "--scope", "both", "--format", "tsv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := parseCollisionsTSV(t, stdout)
	if len(rows) != 2 || rows[0]["pairs"] != "597000" || rows[1]["pairs"] != "17997000" {
		t.Errorf("synthetic 30x200: rows %v", rows)
	}
}

func TestCollisionsStdin(t *testing.T) {
	var out, errb bytes.Buffer
	in := "hex\tgroup\n00ff\ta\n00fe\ta\n00fc\tb\nff00\tb\n"
	code := run(t.Context(), []string{"collisions", "--format", "tsv", "-t", "1", "-"}, strings.NewReader(in), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rows := parseCollisionsTSV(t, out.String())
	if len(rows) != 1 || rows[0]["bits"] != "16" || rows[0]["pairs"] != "6" || rows[0]["collisions_le_1"] != "2" {
		t.Errorf("stdin: %v", rows)
	}
}

func TestCollisionsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no hex column", []string{write("a.tsv", "file\thash\nx\t00\n")}, exitError, "line 1: header has no hex column"},
		{"short row", []string{write("b.tsv", "hex\tg\n00\ta\n01\n")}, exitError, "line 3: 1 fields, the header has 2"},
		{"bad digit", []string{write("c.tsv", "hex\n00\n0g\n")}, exitError, "line 3: "},
		{"width changes", []string{write("d.tsv", "hex\n0000\n00\n")}, exitError, "line 3: "},
		{"empty hex", []string{write("e.tsv", "hex\tg\n\ta\n")}, exitError, "line 2: hex"},
		{"empty input", []string{write("f.tsv", "")}, exitError, "empty input"},
		{"kind without column", []string{"--kind", "dhash", write("g.tsv", "hex\n00\n")}, exitError, "no hash_name column"},
		{"missing group column", []string{"--group-column", "prompt", write("h.tsv", "hex\n00\n")}, exitError, `--group-column "prompt"`},
		{"too many hashes", []string{"--max-hashes", "2", write("i.tsv", "hex\n00\n01\n02\n")}, exitError, "line 4: more than 2 hashes"},
		{"line too long", []string{write("j.tsv", "hex\n"+strings.Repeat("0", 70000)+"\n")}, exitError, "line 2: longer than"},
		{"no match", []string{"--kind", "phash", collisionsInput}, exitError, "no hashes"},
		{"missing file", []string{filepath.Join(dir, "none.tsv")}, exitError, "no such file"},
		{"tolerance above width", []string{"-t", "9", write("k.tsv", "hex\n00\n")}, exitUsage, "more than the 8-bit width"},
		{"groups without column", []string{"--scope", "groups", collisionsInput}, exitUsage, "--group-column"},
		{"bad format", []string{"--format", "xml", collisionsInput}, exitUsage, "--format"},
		{"bad method", []string{"--method", "fast", collisionsInput}, exitUsage, "--method"},
		{"bad synthetic", []string{"--synthetic", "10by10"}, exitUsage, "--synthetic"},
		{"synthetic and file", []string{"--synthetic", "2x2", collisionsInput}, exitUsage, "--synthetic"},
		{"no input", nil, exitUsage, "HASHES.tsv"},
	}
	for _, tt := range tests {
		args := append([]string{"collisions"}, tt.args...)
		_, stderr, code := runCLI(t, args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, code, stderr, tt.code, tt.msg)
		}
	}
}

// TestCollisionsGroupBy: --group-by over the file column gives exactly what --group-column
// gives when both name the same groups, from a file or from standard input.
func TestCollisionsGroupBy(t *testing.T) {
	byColumn, stderr, code := runCLI(t, "collisions", "--group-column", "prompt", "--scope", "both", "--format", "tsv", "--list", "3", collisionsInput)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	byRegexp, stderr, code := runCLI(t, "collisions", "--group-by", "^([a-z]+)_", "--scope", "both", "--format", "tsv", "--list", "3", collisionsInput)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if blankTimings(byColumn) != blankTimings(byRegexp) {
		t.Errorf("--group-by gave\n%s\n--group-column gave\n%s", byRegexp, byColumn)
	}
	in, err := os.ReadFile(collisionsInput)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// Only fox and dog files match: the cat rows are skipped with a warning.
	code = run(t.Context(), []string{"collisions", "--group-by", "^(fox|dog)_", "--kind", "average_hash", "--format", "tsv", "-"},
		bytes.NewReader(in), &out, &errb)
	rows := parseCollisionsTSV(t, out.String())
	if code != exitOK || len(rows) != 1 || rows[0]["groups"] != "2" || rows[0]["hashes"] != "12" || !strings.Contains(errb.String(), "rows=6") {
		t.Errorf("stdin --group-by: exit %d, rows %v, stderr %q", code, rows, errb.String())
	}
	for _, args := range [][]string{
		{"--group-by", "(", collisionsInput},
		{"--group-by", "^[a-z]+_", collisionsInput},
		{"--group-by", "^([a-z]+)_", "--group-column", "prompt", collisionsInput},
	} {
		if _, stderr, code := runCLI(t, append([]string{"collisions"}, args...)...); code != exitUsage {
			t.Errorf("collisions %v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}
