package table

import (
	"bytes"
	"errors"
	"log/slog"
	"math/bits"
	"os"
	"regexp"
	"strings"
	"testing"
)

const input = "hex\tgroup\tfile\n00ff\ta\tx/a_1.png\n00fe\tb\tx/b_1.png\n00fc\ta\tx/a_2.png\nff00\tb\tx/b_2.png\n"

func TestReadGroups(t *testing.T) {
	tests := []struct {
		name   string
		opts   ReadOptions
		lines  []int
		bounds []int
	}{
		{"ungrouped", ReadOptions{}, []int{2, 3, 4, 5}, nil},
		{"group column", ReadOptions{GroupColumn: "group"}, []int{2, 4, 3, 5}, []int{0, 2, 4}},
		{"group by", ReadOptions{GroupBy: regexp.MustCompile(`/([ab])_`), IDColumn: "file"}, []int{2, 4, 3, 5}, []int{0, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kinds, err := Read(strings.NewReader(input), tt.opts)
			if err != nil || len(kinds) != 1 {
				t.Fatalf("Read: %v, %d kinds", err, len(kinds))
			}
			k := kinds[0]
			if k.Label() != "hashes" || k.Set.Bits() != 16 || !equal(k.Lines, tt.lines) || !equal(k.Bounds, tt.bounds) {
				t.Errorf("kind %s: %d bits, lines %v, bounds %v; want lines %v, bounds %v", k.Label(), k.Set.Bits(), k.Lines, k.Bounds, tt.lines, tt.bounds)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts ReadOptions
		line int // 0: not a *LineError
		msg  string
	}{
		{"no hex column", "file\thash\nx\t00\n", ReadOptions{}, 1, "header has no hex column"},
		{"short row", "hex\tg\n00\ta\n01\n", ReadOptions{}, 3, "1 fields, the header has 2"},
		{"bad digit", "hex\n00\n0g\n", ReadOptions{}, 3, ""},
		{"width changes", "hex\n0000\n00\n", ReadOptions{}, 3, ""},
		{"empty hex", "hex\tg\n\ta\n", ReadOptions{}, 2, "hex"},
		{"empty input", "", ReadOptions{}, 0, "empty input"},
		{"too many", "hex\n00\n01\n02\n", ReadOptions{MaxHashes: 2}, 4, "more than 2 hashes"},
		{"long line", "hex\n" + strings.Repeat("0", MaxLine+10) + "\n", ReadOptions{}, 2, "longer than"},
		{"group-by column missing", "hex\n00\n", ReadOptions{GroupBy: regexp.MustCompile("(x)"), IDColumn: "file"}, 1, "--id-column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in), tt.opts)
			var le *LineError
			if err == nil || !strings.Contains(err.Error(), tt.msg) || (tt.line > 0) != errors.As(err, &le) || (le != nil && le.Line != tt.line) {
				t.Errorf("Read: %v; want line %d, %q", err, tt.line, tt.msg)
			}
		})
	}
}

// TestCountMatchesBruteForce: Count's cumulative collisions equal a direct count over pairs.
func TestCountMatchesBruteForce(t *testing.T) {
	k := Synthetic(5, 40, 64, 0.05, 3)
	for _, scope := range []string{ScopeGroups, ScopeAll} {
		r, err := Count(t.Context(), k, scope, CountOptions{Tolerance: 3, List: 5})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]uint64, 4)
		var pairs uint64
		for g := range len(k.Bounds) - 1 {
			lo, hi := k.Bounds[g], k.Bounds[g+1]
			if scope == ScopeAll {
				lo, hi = 0, k.Set.Len()
				if g > 0 {
					break
				}
			}
			for i := lo; i < hi; i++ {
				for j := i + 1; j < hi; j++ {
					pairs++
					d := 0
					for w, x := range k.Set.At(i) {
						d += bits.OnesCount64(x ^ k.Set.At(j)[w])
					}
					for tol := d; tol <= 3; tol++ {
						want[tol]++
					}
				}
			}
		}
		if r.Pairs != pairs || !slicesEqual(r.Collisions, want) {
			t.Errorf("%s: pairs %d, collisions %v; want %d, %v", scope, r.Pairs, r.Collisions, pairs, want)
		}
		if n := min(5, int(want[3])); len(r.Listed) != n {
			t.Errorf("%s: listed %d pairs, want %d", scope, len(r.Listed), n)
		}
	}
	if _, err := Count(t.Context(), k, ScopeAll, CountOptions{Tolerance: 65}); !errors.Is(err, ErrToleranceWidth) {
		t.Errorf("tolerance 65 on 64 bits: %v", err)
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScopes(t *testing.T) {
	grouped, flat := &Kind{Bounds: []int{0, 1}}, &Kind{}
	tests := []struct {
		req  string
		k    *Kind
		want string
		err  error
	}{
		{"auto", grouped, "groups", nil}, {"auto", flat, "all", nil}, {"both", grouped, "groups,all", nil},
		{"groups", flat, "", ErrNoGroups}, {"all", grouped, "all", nil},
	}
	for _, tt := range tests {
		got, err := Scopes(tt.req, tt.k)
		if strings.Join(got, ",") != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Scopes(%s) = %v, %v; want %s, %v", tt.req, got, err, tt.want, tt.err)
		}
	}
}

// FuzzRead checks that the reader never panics, and that what it accepts is consistent:
// every hash has a line, groups cover the hashes, and no line is counted twice.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"../../cmd/genquorum/testdata/collisions/hashes.tsv", "../../testdata/imagehash/vectors.tsv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "prompt", "")
	}
	f.Add([]byte(input), "", `/(\w)_`)
	f.Add([]byte("hex\tg\n00\ta\n\n0f\tb\r\n"), "g", "")
	f.Add([]byte("hex\n"+strings.Repeat("f", 1025)+"\n"), "", "")
	f.Fuzz(func(t *testing.T, data []byte, group, by string) {
		if len(data) > 1<<20 {
			return
		}
		opts := ReadOptions{GroupColumn: group, IDColumn: "file", KeepIDs: true, MaxHashes: 1000}
		if by != "" {
			re, err := regexp.Compile(by)
			if err != nil {
				return
			}
			opts.GroupColumn, opts.GroupBy = "", re
		}
		kinds, err := Read(bytes.NewReader(data), opts)
		if err != nil {
			var le *LineError
			if errors.As(err, &le) && le.Line < 1 {
				t.Fatalf("error at line %d: %v", le.Line, err)
			}
			return
		}
		seen := map[int]bool{}
		for _, k := range kinds {
			n := k.Set.Len()
			if len(k.Lines) != n || (k.IDs != nil && len(k.IDs) != n) {
				t.Fatalf("%d hashes, %d lines, %d ids", n, len(k.Lines), len(k.IDs))
			}
			if (group != "" || opts.GroupBy != nil) && (len(k.Bounds) < 1 || k.Bounds[0] != 0 || k.Bounds[len(k.Bounds)-1] != n) {
				t.Fatalf("bounds %v for %d hashes", k.Bounds, n)
			}
			for _, l := range k.Lines {
				if seen[l] || l < 2 {
					t.Fatalf("line %d used twice or is the header", l)
				}
				seen[l] = true
			}
		}
	})
}

// TestCountAll: each kind in each scope of the request, in order, as Count gives them; a
// request for groups of ungrouped hashes is ErrNoGroups; skipped rows are warned of.
func TestCountAll(t *testing.T) {
	read := func(opts ReadOptions) []*Kind {
		kinds, err := Read(strings.NewReader(input+"0000\tc\ty/none.png\n"), opts)
		if err != nil {
			t.Fatal(err)
		}
		return kinds
	}
	var logged bytes.Buffer
	opts := CountOptions{Tolerance: 2, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	grouped := read(ReadOptions{GroupBy: regexp.MustCompile(`/([ab])_`), IDColumn: "file"})
	got, err := CountAll(t.Context(), grouped, "both", opts)
	if err != nil || len(got) != 2 {
		t.Fatalf("CountAll(both) = %d results, %v; want 2", len(got), err)
	}
	for i, scope := range []string{ScopeGroups, ScopeAll} {
		want, err := Count(t.Context(), grouped[0], scope, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Scope != scope || !slicesEqual(got[i].Collisions, want.Collisions) || got[i].Pairs != want.Pairs {
			t.Errorf("result %d: scope %s, %d pairs, collisions %v; want %s, %d, %v", i, got[i].Scope, got[i].Pairs,
				got[i].Collisions, scope, want.Pairs, want.Collisions)
		}
	}
	if !strings.Contains(logged.String(), "rows not matching --group-by were skipped") || !strings.Contains(logged.String(), "rows=1") {
		t.Errorf("log %q: want the skipped row warned of", logged.String())
	}
	if _, err := CountAll(t.Context(), read(ReadOptions{}), "groups", opts); !errors.Is(err, ErrNoGroups) {
		t.Errorf("CountAll(groups) of ungrouped hashes: %v, want ErrNoGroups", err)
	}
	if _, err := CountAll(t.Context(), grouped, "all", CountOptions{Tolerance: 17}); !errors.Is(err, ErrToleranceWidth) {
		t.Errorf("CountAll with tolerance 17 on 16 bits: %v, want ErrToleranceWidth", err)
	}
}

func TestParseSyntheticKind(t *testing.T) {
	k, err := ParseSyntheticKind("3x4", 16, 0.1, 1, 12)
	if err != nil || k.Set.Len() != 12 || k.Set.Bits() != 16 || len(k.Bounds) != 4 || k.Lines[11] != 12 {
		t.Fatalf("ParseSyntheticKind(3x4, 16 bits) = %+v, %v; want 12 hashes of 16 bits in 3 groups", k, err)
	}
	tests := []struct {
		spec    string
		bits    int
		flip    float64
		maxHash int
		want    string
	}{
		{"10by10", 64, 0.1, 100, `--synthetic "10by10": want GROUPSxN`},
		{"10x10", 64, 0.1, 99, `--synthetic "10x10": 100 hashes, more than --max-hashes 99`},
		{"2x2", 0, 0.1, 100, "--synthetic-bits 0: want 1.."},
		{"2x2", 64, 1.5, 100, "--synthetic-flip 1.5: want 0..1"},
	}
	for _, tt := range tests {
		if _, err := ParseSyntheticKind(tt.spec, tt.bits, tt.flip, 1, tt.maxHash); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseSyntheticKind(%q, %d, %v, max %d) = %v, want an error starting %q", tt.spec, tt.bits, tt.flip, tt.maxHash, err, tt.want)
		}
	}
}
