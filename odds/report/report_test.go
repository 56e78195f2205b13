package report

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

func TestParseProbs(t *testing.T) {
	tests := []struct {
		in   string
		tols []int
		vals []float64
	}{
		{"0.977", []int{-1}, []float64{0.977}},
		{"0.9, 1", []int{-1, -1}, []float64{0.9, 1}},
		{"6771/6928", []int{-1}, []float64{6771.0 / 6928}},
		{"2:0.977,0:0.802,1:0.94", []int{0, 1, 2}, []float64{0.802, 0.94, 0.977}}, // sorted by tolerance
		{"0", []int{-1}, []float64{0}},
		{"1e-3", []int{-1}, []float64{0.001}},
		{"1e-99999999", []int{-1}, []float64{0}},
	}
	for _, tt := range tests {
		pts, err := ParseProbs(tt.in)
		if err != nil {
			t.Fatalf("ParseProbs(%q): %v", tt.in, err)
		}
		if len(pts) != len(tt.tols) {
			t.Fatalf("ParseProbs(%q) = %d values, want %d", tt.in, len(pts), len(tt.tols))
		}
		for i, pt := range pts {
			if pt.Tolerance != tt.tols[i] || pt.Value != tt.vals[i] {
				t.Errorf("ParseProbs(%q)[%d] = %d:%v, want %d:%v", tt.in, i, pt.Tolerance, pt.Value, tt.tols[i], tt.vals[i])
			}
		}
	}
}

func TestParseProb(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string // "": no error
	}{
		{"0.977", 0.977, ""},
		{" 6771/6928 ", 6771.0 / 6928, ""},
		{"1", 1, ""},
		{"", 0, "--q: required"},
		{"1.5", 0, `--q "1.5": want a probability in [0, 1]`},
		{"-0.1", 0, "want a probability"},
		{"abc", 0, "want a probability"},
	}
	for _, tt := range tests {
		got, err := ParseProb("--q", tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseProb(%q) = %v, %v; want %v, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSlashPenalty(t *testing.T) {
	tests := []struct {
		stake uint64
		bps   uint32
		want  float64
	}{
		{10000, 1000, 1000},
		{9999, 1000, 999}, // rounded down
		{1 << 63, 10000, 1 << 63},
		{math.MaxUint64, 5000, math.MaxUint64 / 2}, // no overflow in stake * bps
		{123, 0, 0},
	}
	for _, tt := range tests {
		if got := SlashPenalty(tt.stake, tt.bps); got != tt.want {
			t.Errorf("SlashPenalty(%d, %d) = %v, want %v", tt.stake, tt.bps, got, tt.want)
		}
	}
}

func FuzzParseProbs(f *testing.F) {
	for _, s := range []string{"0.977", "0:0.802,1:0.940,2:0.977", "6771/6928", "1", "0:1/3, 2:0.5", "", "x:1", "1e-3", "0:0.9,0:0.8", "1e-999999999", "0x1p-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pts, err := ParseProbs(s)
		if err != nil {
			return
		}
		for i, pt := range pts {
			if !(pt.Value >= 0 && pt.Value <= 1) || pt.Rat.Sign() < 0 {
				t.Errorf("ParseProbs(%q)[%d] = %v, out of [0, 1]", s, i, pt.Value)
			}
			if i > 0 && pt.Tolerance >= 0 && pt.Tolerance <= pts[i-1].Tolerance {
				t.Errorf("ParseProbs(%q): tolerances not strictly increasing: %d after %d", s, pt.Tolerance, pts[i-1].Tolerance)
			}
			if (pt.Tolerance < 0) != (pts[0].Tolerance < 0) {
				t.Errorf("ParseProbs(%q): mixed forms accepted", s)
			}
		}
	})
}

// TestCorrectAndWrite: the paper's numbers for p = 0.977 at n = 3, 5, 7, through Correct and
// WriteRows, and a plot written as SVG.
func TestCorrectAndWrite(t *testing.T) {
	pts, err := ParseProbs("0:0.802,2:0.977")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Correct(t.Context(), []quorum.Rule{quorum.Majority}, pts, nil)
	if err != nil || len(rows) != 6 {
		t.Fatalf("Correct: %v, %d rows", err, len(rows))
	}
	var buf bytes.Buffer
	if err := WriteRows(&buf, "text", rows, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"99.843", "99.988", "99.999"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %s:\n%s", want, buf.String())
		}
	}
	svg := filepath.Join(t.TempDir(), "f.svg")
	if err := Plot(svg, rows); err != nil {
		t.Fatal(err)
	}
	if err := Plot(svg, []Row{{Rule: "majority", N: 3}}); err == nil {
		t.Error("Plot of rows without tolerances: no error")
	}
}
