package study

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/hashscan"
	"github.com/genquorum/genquorum/userfile"
)

// MaxGroupRows bounds a groups TSV, so that a wrong file cannot exhaust memory.
const MaxGroupRows = 10_000_000

// ReadGroups reads a TSV file with a header naming "group" and "file" columns (others
// ignored) into groups, in order of first appearance; relative file paths are taken from the
// TSV's folder. It reads at most MaxGroupRows rows, and only a regular file.
func ReadGroups(path string) ([]Group, error) {
	f, err := userfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("manifest %s: header: %w", path, err)
	}
	gi, fi := slices.Index(header, "group"), slices.Index(header, "file")
	if gi < 0 || fi < 0 {
		return nil, fmt.Errorf("manifest %s: header %q lacks a group or file column", path, strings.Join(header, "\t"))
	}
	dir := filepath.Dir(path)
	index := map[string]int{}
	var groups []Group
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", path, err)
		}
		if line > MaxGroupRows {
			return nil, fmt.Errorf("manifest %s: more than %d rows", path, MaxGroupRows)
		}
		if len(rec) <= max(gi, fi) || rec[gi] == "" || rec[fi] == "" {
			return nil, fmt.Errorf("manifest %s:%d: empty group or file", path, line)
		}
		file := rec[fi]
		if !filepath.IsAbs(file) {
			file = filepath.ToSlash(filepath.Join(dir, file))
		}
		i, ok := index[rec[gi]]
		if !ok {
			i = len(groups)
			index[rec[gi]] = i
			groups = append(groups, Group{Name: rec[gi]})
		}
		groups[i].Files = append(groups[i].Files, file)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("manifest %s: no rows", path)
	}
	return groups, nil
}

// GroupByRegexp finds the images under dirs (hashscan.Files) and groups them by the first
// capture group of re, matched against each path relative to its directory, in order of first
// appearance. It returns how many images matched no group; re must have a capture group.
func GroupByRegexp(re *regexp.Regexp, dirs []string) ([]Group, int, error) {
	expr := re.String()
	index := map[string]int{}
	var groups []Group
	skipped := 0
	for _, dir := range dirs {
		files, bad := hashscan.Files([]string{dir})
		if len(bad) > 0 {
			return nil, 0, fmt.Errorf("%s: %w", bad[0].File, bad[0].Err)
		}
		for _, file := range files {
			rel, err := filepath.Rel(dir, file)
			if err != nil {
				rel = file
			}
			m := re.FindStringSubmatch(filepath.ToSlash(rel))
			if m == nil || m[1] == "" {
				skipped++
				continue
			}
			i, ok := index[m[1]]
			if !ok {
				i = len(groups)
				index[m[1]] = i
				groups = append(groups, Group{Name: m[1]})
			}
			groups[i].Files = append(groups[i].Files, file)
		}
	}
	if len(groups) == 0 {
		return nil, skipped, fmt.Errorf("--group-by %q: no image under %s matched", expr, strings.Join(dirs, ", "))
	}
	return groups, skipped, nil
}
