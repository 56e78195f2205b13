// Package table counts Type II collisions in tables of hashes: it reads a tab-separated table
// with a header and a hex column (the layout `genquorum hash` writes, plus any columns) into one
// collide.Set per hash kind, grouped by a column or by a regular expression over an id column,
// counts the pairs within a tolerance per kind and scope with package collide (Count, or
// CountAll for every kind and requested scope), and writes the results as text, TSV or JSON.
//
// Invariants: a Kind's hashes are ordered by group (groups in order of first appearance,
// hashes in input order within a group), and Lines and IDs follow that order, so a counted pair
// can always be traced back to its input lines. Inputs are bounded: MaxLine bytes per line and
// ReadOptions.MaxHashes hashes, checked before anything grows.
package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/collide"
)

// MaxLine is the longest input line accepted, in bytes.
const MaxLine = 1 << 16

// Kind is the hashes of one kind (hash_name and hash_size_or_binbits) read from a table.
type Kind struct {
	Name, Size string       // hash_name and hash_size_or_binbits, or "" when the table has none
	Set        *collide.Set // the hashes, ordered by group
	Bounds     []int        // groups: hashes Bounds[g] <= i < Bounds[g+1]; nil when ungrouped
	Lines      []int        // input line of each hash (1 is the header)
	IDs        []string     // id column of each hash, or nil
	Skipped    int          // rows of this kind that ReadOptions.GroupBy did not match
}

// Label names the kind in messages: "average_hash/8", "average_hash", or "hashes".
func (k *Kind) Label() string {
	switch {
	case k.Name == "" && k.Size == "":
		return "hashes"
	case k.Size == "":
		return k.Name
	}
	return k.Name + "/" + k.Size
}

// Grouped reports whether the kind's hashes are in groups.
func (k *Kind) Grouped() bool { return k.Bounds != nil }

// ReadOptions select and group the rows Read keeps.
type ReadOptions struct {
	Kind, Size  string // keep only rows with this hash_name / hash_size_or_binbits ("" keeps all)
	GroupColumn string // column naming each hash's group ("" for none)
	// GroupBy, if set, groups rows by the first capture group of this expression matched
	// against the IDColumn value; rows that do not match are skipped (counted in Kind.Skipped).
	GroupBy   *regexp.Regexp
	IDColumn  string // column kept in Kind.IDs (if present) when KeepIDs is set, and read by GroupBy
	KeepIDs   bool
	MaxHashes int // more hashes is an error; 0 means no limit
}

// LineError reports a malformed input line.
type LineError struct {
	Line int
	Err  error
}

// Error returns "line N: " and the underlying error.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the error of the line.
func (e *LineError) Unwrap() error { return e.Err }

// Read reads a table into one Kind per (hash_name, hash_size_or_binbits), in order of first
// appearance, keeping the rows opts selects. Malformed rows are *LineError.
func Read(r io.Reader, opts ReadOptions) ([]*Kind, error) {
	if opts.GroupColumn != "" && opts.GroupBy != nil {
		return nil, errors.New("table: a group column and a group expression are exclusive")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	line := 0
	next := func() (string, bool) {
		for sc.Scan() {
			line++
			text := strings.TrimSuffix(sc.Text(), "\r")
			if text != "" {
				return text, true
			}
		}
		return "", false
	}
	header, ok := next()
	if !ok {
		if err := scanError(sc, line); err != nil {
			return nil, err
		}
		return nil, errors.New("empty input: want a header line with a hex column")
	}
	cols := strings.Split(header, "\t")
	col := func(name string) int {
		for i, c := range cols {
			if c == name {
				return i
			}
		}
		return -1
	}
	hexCol, nameCol, sizeCol := col("hex"), col("hash_name"), col("hash_size_or_binbits")
	idCol := -1
	if opts.KeepIDs {
		idCol = col(opts.IDColumn)
	}
	if hexCol < 0 {
		return nil, &LineError{line, fmt.Errorf("header has no hex column (columns: %s)", strings.Join(cols, ", "))}
	}
	if opts.Kind != "" && nameCol < 0 {
		return nil, &LineError{line, errors.New("--kind given but the header has no hash_name column")}
	}
	if opts.Size != "" && sizeCol < 0 {
		return nil, &LineError{line, errors.New("--size given but the header has no hash_size_or_binbits column")}
	}
	groupCol := -1
	if opts.GroupColumn != "" {
		if groupCol = col(opts.GroupColumn); groupCol < 0 {
			return nil, &LineError{line, fmt.Errorf("--group-column %q is not in the header (columns: %s)", opts.GroupColumn, strings.Join(cols, ", "))}
		}
	}
	byCol := -1
	if opts.GroupBy != nil {
		if byCol = col(opts.IDColumn); byCol < 0 {
			return nil, &LineError{line, fmt.Errorf("--group-by reads the --id-column %q, which is not in the header (columns: %s)", opts.IDColumn, strings.Join(cols, ", "))}
		}
	}

	type building struct {
		k      *Kind
		groups map[string]int32
		gid    []int32 // group of each hash, in input order
	}
	var order []*building
	byKind := map[[2]string]*building{}
	total := 0
	fields := make([]string, 0, len(cols))
	for {
		text, ok := next()
		if !ok {
			break
		}
		fields = splitTabs(fields[:0], text, len(cols)+1)
		if len(fields) != len(cols) {
			return nil, &LineError{line, fmt.Errorf("%d fields, the header has %d", len(fields), len(cols))}
		}
		var key [2]string
		if nameCol >= 0 {
			key[0] = fields[nameCol]
		}
		if sizeCol >= 0 {
			key[1] = fields[sizeCol]
		}
		if (opts.Kind != "" && key[0] != opts.Kind) || (opts.Size != "" && key[1] != opts.Size) {
			continue
		}
		hex := fields[hexCol]
		if len(hex) == 0 || len(hex) > collide.MaxBits/4 {
			return nil, &LineError{line, fmt.Errorf("hex %q: want 1..%d digits", truncate(hex, 40), collide.MaxBits/4)}
		}
		if opts.MaxHashes > 0 && total >= opts.MaxHashes {
			return nil, &LineError{line, fmt.Errorf("more than %d hashes (raise --max-hashes)", opts.MaxHashes)}
		}
		b := byKind[key]
		if b == nil {
			b = &building{k: &Kind{Name: key[0], Size: key[1], Set: collide.NewSet(4 * len(hex))}, groups: map[string]int32{}}
			byKind[key] = b
			order = append(order, b)
		}
		group := ""
		switch {
		case groupCol >= 0:
			group = fields[groupCol]
		case byCol >= 0:
			m := opts.GroupBy.FindStringSubmatch(fields[byCol])
			if m == nil || len(m) < 2 || m[1] == "" {
				b.k.Skipped++
				continue
			}
			group = m[1]
		}
		if err := b.k.Set.AppendHex(hex); err != nil {
			return nil, &LineError{line, fmt.Errorf("hash kind %q size %q: %w", key[0], key[1], err)}
		}
		total++
		b.k.Lines = append(b.k.Lines, line)
		if idCol >= 0 {
			b.k.IDs = append(b.k.IDs, fields[idCol])
		}
		if groupCol >= 0 || byCol >= 0 {
			id, ok := b.groups[group]
			if !ok {
				id = int32(len(b.groups))
				b.groups[group] = id
			}
			b.gid = append(b.gid, id)
		}
	}
	if err := scanError(sc, line); err != nil {
		return nil, err
	}
	kinds := make([]*Kind, len(order))
	for i, b := range order {
		if groupCol >= 0 || byCol >= 0 {
			sortByGroup(b.k, b.gid, len(b.groups))
		}
		kinds[i] = b.k
	}
	return kinds, nil
}

// splitTabs appends the tab-separated fields of s to dst, stopping after max fields.
func splitTabs(dst []string, s string, max int) []string {
	for len(dst) < max {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
	return dst
}

func scanError(sc *bufio.Scanner, line int) error {
	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return &LineError{line + 1, fmt.Errorf("longer than %d bytes", MaxLine)}
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// sortByGroup reorders k's hashes so that each group's are consecutive (groups in order of
// first appearance, hashes in input order within a group) and sets k.Bounds.
func sortByGroup(k *Kind, gid []int32, groups int) {
	bounds := make([]int, groups+1)
	for _, g := range gid {
		bounds[g+1]++
	}
	for g := range groups {
		bounds[g+1] += bounds[g]
	}
	next := append([]int(nil), bounds[:groups]...)
	s := collide.NewSet(k.Set.Bits())
	perm := make([]int, len(gid)) // perm[new] = old
	for old, g := range gid {
		perm[next[g]] = old
		next[g]++
	}
	lines := make([]int, len(perm))
	var ids []string
	if k.IDs != nil {
		ids = make([]string, len(perm))
	}
	for i, old := range perm {
		s.Append(k.Set.At(old)...)
		lines[i] = k.Lines[old]
		if ids != nil {
			ids[i] = k.IDs[old]
		}
	}
	k.Set, k.Lines, k.IDs, k.Bounds = s, lines, ids, bounds
}

// Synthetic returns groups clusters of per hashes of bits bits (collide.Clustered: a random
// centre per group, each bit flipped with probability flip, seeded by seed), named after its
// parameters; its "lines" are hash numbers from 1.
func Synthetic(groups, per, bits int, flip float64, seed uint64) *Kind {
	s, bounds := collide.Clustered(groups, per, bits, flip, seed)
	lines := make([]int, s.Len())
	for i := range lines {
		lines[i] = i + 1
	}
	name := fmt.Sprintf("synthetic(%dx%d,flip=%g,seed=%d)", groups, per, flip, seed)
	return &Kind{Name: name, Set: s, Bounds: bounds, Lines: lines}
}

// ParseSyntheticKind is Synthetic for the command line: spec is "GROUPSxN" (ParseSynthetic),
// and it fails, naming the flag at fault (--synthetic, --synthetic-bits, --synthetic-flip),
// when there would be more than maxHashes hashes, bits is outside 1..collide.MaxBits or flip
// outside [0, 1].
func ParseSyntheticKind(spec string, bits int, flip float64, seed uint64, maxHashes int) (*Kind, error) {
	groups, per, err := ParseSynthetic(spec)
	if err != nil {
		return nil, fmt.Errorf("--synthetic %w", err)
	}
	if n := int64(groups) * int64(per); n > int64(maxHashes) {
		return nil, fmt.Errorf("--synthetic %q: %d hashes, more than --max-hashes %d", spec, n, maxHashes)
	}
	if bits < 1 || bits > collide.MaxBits {
		return nil, fmt.Errorf("--synthetic-bits %d: want 1..%d", bits, collide.MaxBits)
	}
	if !(flip >= 0 && flip <= 1) {
		return nil, fmt.Errorf("--synthetic-flip %v: want 0..1", flip)
	}
	return Synthetic(groups, per, bits, flip, seed), nil
}

// ParseSynthetic parses "GROUPSxN" (e.g. 1000x1300).
func ParseSynthetic(s string) (groups, per int, err error) {
	gs, ns, ok := strings.Cut(s, "x")
	groups, err1 := strconv.Atoi(gs)
	per, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || groups < 1 || per < 1 {
		return 0, 0, fmt.Errorf("%q: want GROUPSxN, e.g. 1000x1300", s)
	}
	return groups, per, nil
}
