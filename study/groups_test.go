package study

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/imghash"
)

func TestReadGroups(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	groups, err := ReadGroups(write("m.tsv", "file\tgroup\textra\na.png\tg1\tx\n/abs/b.png\tg2\ty\nc.png\tg1\tz\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{{"g1", []string{filepath.ToSlash(filepath.Join(dir, "a.png")), filepath.ToSlash(filepath.Join(dir, "c.png"))}}, {"g2", []string{"/abs/b.png"}}}
	if len(groups) != 2 || strings.Join(groups[0].Files, ",") != strings.Join(want[0].Files, ",") || groups[1].Files[0] != "/abs/b.png" {
		t.Errorf("ReadGroups = %v, want %v", groups, want)
	}
	for name, content := range map[string]string{"no-file-column.tsv": "group\nx\n", "empty-row.tsv": "group\tfile\nx\t\n", "no-rows.tsv": "group\tfile\n"} {
		if _, err := ReadGroups(write(name, content)); err == nil {
			t.Errorf("ReadGroups(%s): no error", name)
		}
	}
}

func TestGroupByRegexp(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"p1_a.png", "p1_b.png", "p2_a.jpg", "other.png", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	groups, skipped, err := GroupByRegexp(regexp.MustCompile(`^(p\d)_`), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Name != "p1" || len(groups[0].Files) != 2 || groups[1].Name != "p2" || skipped != 1 {
		t.Errorf("GroupByRegexp = %v, skipped %d; want p1 (2 files), p2 (1), 1 skipped", groups, skipped)
	}
	if _, _, err := GroupByRegexp(regexp.MustCompile(`^(q)`), []string{dir}); err == nil {
		t.Error("no match: no error")
	}
}

func TestWriteConsensus(t *testing.T) {
	rows := []ConsensusRow{{Spec: imghash.Spec{Kind: imghash.AverageHash, Size: 8}, Images: 4,
		Consensus: []float64{75, 100, 100}, Outliers: []int{1, 0, 0}, ADist: 1, MsPerHash: 0.5}}
	var tsv, js bytes.Buffer
	if err := WriteConsensus(&tsv, "tsv", rows); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(ConsensusColumns, "\t") + "\naverage_hash\t8\t4\t75.00\t100.00\t100.00\t1\t0\t0\t1.000\t0.5000\n"
	if tsv.String() != want {
		t.Errorf("tsv:\n%q\nwant\n%q", tsv.String(), want)
	}
	if err := WriteConsensus(&js, "json", rows); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil || len(m) != len(ConsensusColumns) || m["consensus_t0"] != 75.0 {
		t.Errorf("json %s: %v, %v", js.String(), err, m)
	}
}
