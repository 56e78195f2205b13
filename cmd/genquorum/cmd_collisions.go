package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/collide"
	"github.com/genquorum/genquorum/userfile"
)

// Input limits for collisions: checked before anything grows.
const (
	collisionsMaxLine = 1 << 16 // bytes per TSV line
)

// collisionsOptions are the flags of `genquorum collisions`.
type collisionsOptions struct {
	tolerance   int
	kind        string
	size        string
	groupColumn string
	idColumn    string
	scope       string // auto, groups, all, both
	method      string
	workers     int
	format      string
	list        int
	maxHashes   int

	synthetic     string // "GROUPSxPERGROUP"
	syntheticBits int
	syntheticFlip float64
	seed          uint64
}

func newCollisionsCommand(g *globalOptions) *cobra.Command {
	opts := collisionsOptions{}
	cmd := &cobra.Command{
		Use:   "collisions [flags] HASHES.tsv",
		Short: "Count pairs of hashes within a Hamming tolerance (the Type II collision rate)",
		Long: `collisions counts, exactly, the pairs of hashes within Hamming distance 0, 1, ..., t of each
other: among all pairs of the input (--scope all), or only among pairs in the same group
(--scope groups, with --group-column), as in the paper's intra-class Type II experiment.

The input is a tab-separated table with a header and a "hex" column (any file such as
"genquorum hash" output; "-" reads standard input). The hex length gives the width (16 digits =
64 bits, 64 digits = 256 bits; any width up to 4096 bits). When a "hash_name" column is present,
each hash kind (hash_name and hash_size_or_binbits) is counted separately; --kind and --size
select kinds.

--synthetic GROUPSxN replaces the input with GROUPS clusters of N hashes (a random centre per
group, each bit flipped with probability --synthetic-flip, seeded by --seed), the shape used
for the README benchmarks: --synthetic 1000x1300 --scope both reproduces them.

For each kind and scope it prints the pairs in scope, the cumulative collisions_le_d (pairs at
distance <= d) and rate_le_d = collisions_le_d / pairs for d = 0..t, the method and the time.
--list N also prints up to N of the pairs (input line numbers, distance, hex, and the
--id-column values; with --synthetic the "lines" are hash numbers from 1).

Exit statuses: 0 success, 1 error, 2 bad usage, 130 interrupted.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollisions(cmd.Context(), g, opts, args)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.tolerance, "tolerance", "t", 2, "largest Hamming distance counted")
	f.StringVar(&opts.kind, "kind", "", "count only rows whose hash_name is this (e.g. average_hash)")
	f.StringVar(&opts.size, "size", "", "count only rows whose hash_size_or_binbits is this (e.g. 8)")
	f.StringVar(&opts.groupColumn, "group-column", "", "column naming each hash's group (prompt, class) for intra-group counts")
	f.StringVar(&opts.idColumn, "id-column", "file", "column printed with --list pairs, if present")
	f.StringVar(&opts.scope, "scope", "auto", "pairs counted: groups, all, both, or auto (groups when there are groups)")
	f.StringVar(&opts.method, "method", "auto", "algorithm: auto, brute-force or multi-index (all give the same counts)")
	f.IntVar(&opts.workers, "workers", 0, "goroutines (0: one per CPU)")
	f.StringVar(&opts.format, "format", "text", "output format: text, tsv or json")
	f.IntVar(&opts.list, "list", 0, "also print up to this many pairs within the tolerance")
	f.IntVar(&opts.maxHashes, "max-hashes", 100_000_000, "refuse inputs with more hashes than this")
	f.StringVar(&opts.synthetic, "synthetic", "", "use GROUPSxN synthetic clustered hashes instead of a file (e.g. 1000x1300)")
	f.IntVar(&opts.syntheticBits, "synthetic-bits", 64, "width of --synthetic hashes in bits")
	f.Float64Var(&opts.syntheticFlip, "synthetic-flip", 0.1, "probability that a --synthetic hash differs from its group centre in each bit")
	f.Uint64Var(&opts.seed, "seed", 1, "seed of --synthetic")
	return cmd
}

// hashKind is the hashes of one kind read from the input, ordered by group.
type hashKind struct {
	name, size string // hash_name and hash_size_or_binbits, or "" when the input has none
	set        *collide.Set
	bounds     []int    // groups: hashes bounds[g] <= i < bounds[g+1]; nil when ungrouped
	lines      []int    // input line of each hash
	ids        []string // id column of each hash, or nil
}

// collisionsResult is one output row: one kind, one scope.
type collisionsResult struct {
	Kind        string       `json:"hash_name,omitempty"`
	Size        string       `json:"hash_size_or_binbits,omitempty"`
	Bits        int          `json:"bits"`
	Hashes      int          `json:"hashes"`
	Groups      int          `json:"groups"`
	Scope       string       `json:"scope"`
	Tolerance   int          `json:"tolerance"`
	Method      string       `json:"method"`
	Pairs       uint64       `json:"pairs"`
	Compared    uint64       `json:"compared"`
	Collisions  []uint64     `json:"collisions_le"` // Collisions[d]: pairs at distance <= d
	Rates       []float64    `json:"rate_le"`
	Seconds     float64      `json:"seconds"`
	PairsPerSec float64      `json:"pairs_per_second"`
	Listed      []listedPair `json:"listed_pairs,omitempty"`
}

// listedPair is one pair printed by --list.
type listedPair struct {
	LineA    int    `json:"line_a"`
	LineB    int    `json:"line_b"`
	Distance int    `json:"distance"`
	HexA     string `json:"hex_a"`
	HexB     string `json:"hex_b"`
	IDA      string `json:"id_a,omitempty"`
	IDB      string `json:"id_b,omitempty"`
}

func runCollisions(ctx context.Context, g *globalOptions, opts collisionsOptions, args []string) error {
	method, err := parseCollideMethod(opts.method)
	if err != nil {
		return err
	}
	switch opts.format {
	case "text", "tsv", "json":
	default:
		return usagef("--format %q: want text, tsv or json", opts.format)
	}
	switch opts.scope {
	case "auto", "groups", "all", "both":
	default:
		return usagef("--scope %q: want groups, all, both or auto", opts.scope)
	}
	if opts.tolerance < 0 {
		return usagef("--tolerance %d: want 0 or more", opts.tolerance)
	}
	if opts.list < 0 {
		return usagef("--list %d: want 0 or more", opts.list)
	}

	var kinds []*hashKind
	switch {
	case opts.synthetic != "":
		if len(args) > 0 {
			return usagef("--synthetic replaces the input file; got %q too", args[0])
		}
		k, err := syntheticKind(opts)
		if err != nil {
			return err
		}
		kinds = []*hashKind{k}
	case len(args) == 1:
		kinds, err = readCollisionsInput(args[0], g.stdin, opts)
		if err != nil {
			return err
		}
	default:
		return usagef("collisions needs a HASHES.tsv argument (or - for standard input, or --synthetic)")
	}
	if len(kinds) == 0 {
		return fmt.Errorf("collisions: no hashes in the input match --kind %q --size %q", opts.kind, opts.size)
	}

	var results []collisionsResult
	for _, k := range kinds {
		scopes, err := collisionScopes(opts.scope, k)
		if err != nil {
			return err
		}
		for _, scope := range scopes {
			r, err := countKind(ctx, g, opts, method, k, scope)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	return writeCollisions(g.stdout, opts.format, results)
}

func parseCollideMethod(s string) (collide.Method, error) {
	for _, m := range []collide.Method{collide.Auto, collide.BruteForce, collide.MultiIndex} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, usagef("--method %q: want auto, brute-force or multi-index", s)
}

// collisionScopes returns the scopes to count for k: "groups" and/or "all".
func collisionScopes(scope string, k *hashKind) ([]string, error) {
	grouped := k.bounds != nil
	switch scope {
	case "auto":
		if grouped {
			return []string{"groups"}, nil
		}
		return []string{"all"}, nil
	case "groups", "both":
		if !grouped {
			return nil, usagef("--scope %s needs groups: give --group-column (or --synthetic)", scope)
		}
		if scope == "both" {
			return []string{"groups", "all"}, nil
		}
		return []string{"groups"}, nil
	}
	return []string{"all"}, nil
}

func syntheticKind(opts collisionsOptions) (*hashKind, error) {
	gs, ns, ok := strings.Cut(opts.synthetic, "x")
	groups, err1 := strconv.Atoi(gs)
	per, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || groups < 1 || per < 1 {
		return nil, usagef("--synthetic %q: want GROUPSxN, e.g. 1000x1300", opts.synthetic)
	}
	if int64(groups)*int64(per) > int64(opts.maxHashes) {
		return nil, usagef("--synthetic %q: %d hashes, more than --max-hashes %d", opts.synthetic, int64(groups)*int64(per), opts.maxHashes)
	}
	if opts.syntheticBits < 1 || opts.syntheticBits > collide.MaxBits {
		return nil, usagef("--synthetic-bits %d: want 1..%d", opts.syntheticBits, collide.MaxBits)
	}
	if !(opts.syntheticFlip >= 0 && opts.syntheticFlip <= 1) {
		return nil, usagef("--synthetic-flip %v: want 0..1", opts.syntheticFlip)
	}
	s, bounds := collide.Clustered(groups, per, opts.syntheticBits, opts.syntheticFlip, opts.seed)
	lines := make([]int, s.Len())
	for i := range lines {
		lines[i] = i + 1
	}
	name := fmt.Sprintf("synthetic(%dx%d,flip=%g,seed=%d)", groups, per, opts.syntheticFlip, opts.seed)
	return &hashKind{name: name, set: s, bounds: bounds, lines: lines}, nil
}

func readCollisionsInput(path string, stdin io.Reader, opts collisionsOptions) ([]*hashKind, error) {
	r := stdin
	if path != "-" {
		f, err := userfile.Open(path)
		if err != nil {
			return nil, fmt.Errorf("collisions: %w", err)
		}
		defer f.Close()
		r = f
	}
	kinds, err := readHashTable(r, opts)
	if err != nil {
		return nil, fmt.Errorf("collisions: %s: %w", path, err)
	}
	return kinds, nil
}

// hashTableError reports a malformed input line.
type hashTableError struct {
	Line int
	Err  error
}

func (e *hashTableError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *hashTableError) Unwrap() error { return e.Err }

// readHashTable reads a TSV table with a header and a hex column into one hashKind per
// (hash_name, hash_size_or_binbits), in order of first appearance, keeping rows that pass
// opts.kind and opts.size, grouped by opts.groupColumn if set.
func readHashTable(r io.Reader, opts collisionsOptions) ([]*hashKind, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), collisionsMaxLine)
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
	if opts.list > 0 { // ids are kept only to print listed pairs
		idCol = col(opts.idColumn)
	}
	if hexCol < 0 {
		return nil, &hashTableError{line, fmt.Errorf("header has no hex column (columns: %s)", strings.Join(cols, ", "))}
	}
	if opts.kind != "" && nameCol < 0 {
		return nil, &hashTableError{line, errors.New("--kind given but the header has no hash_name column")}
	}
	if opts.size != "" && sizeCol < 0 {
		return nil, &hashTableError{line, errors.New("--size given but the header has no hash_size_or_binbits column")}
	}
	groupCol := -1
	if opts.groupColumn != "" {
		if groupCol = col(opts.groupColumn); groupCol < 0 {
			return nil, &hashTableError{line, fmt.Errorf("--group-column %q is not in the header (columns: %s)", opts.groupColumn, strings.Join(cols, ", "))}
		}
	}

	type building struct {
		k      *hashKind
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
			return nil, &hashTableError{line, fmt.Errorf("%d fields, the header has %d", len(fields), len(cols))}
		}
		var key [2]string
		if nameCol >= 0 {
			key[0] = fields[nameCol]
		}
		if sizeCol >= 0 {
			key[1] = fields[sizeCol]
		}
		if (opts.kind != "" && key[0] != opts.kind) || (opts.size != "" && key[1] != opts.size) {
			continue
		}
		hex := fields[hexCol]
		if len(hex) == 0 || len(hex) > collide.MaxBits/4 {
			return nil, &hashTableError{line, fmt.Errorf("hex %q: want 1..%d digits", truncate(hex, 40), collide.MaxBits/4)}
		}
		if total >= opts.maxHashes {
			return nil, &hashTableError{line, fmt.Errorf("more than %d hashes (raise --max-hashes)", opts.maxHashes)}
		}
		b := byKind[key]
		if b == nil {
			b = &building{k: &hashKind{name: key[0], size: key[1], set: collide.NewSet(4 * len(hex))}, groups: map[string]int32{}}
			byKind[key] = b
			order = append(order, b)
		}
		if err := b.k.set.AppendHex(hex); err != nil {
			return nil, &hashTableError{line, fmt.Errorf("hash kind %q size %q: %w", key[0], key[1], err)}
		}
		total++
		b.k.lines = append(b.k.lines, line)
		if idCol >= 0 {
			b.k.ids = append(b.k.ids, fields[idCol])
		}
		if groupCol >= 0 {
			name := fields[groupCol]
			id, ok := b.groups[name]
			if !ok {
				id = int32(len(b.groups))
				b.groups[name] = id
			}
			b.gid = append(b.gid, id)
		}
	}
	if err := scanError(sc, line); err != nil {
		return nil, err
	}
	kinds := make([]*hashKind, len(order))
	for i, b := range order {
		if groupCol >= 0 {
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
		return &hashTableError{line + 1, fmt.Errorf("longer than %d bytes", collisionsMaxLine)}
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
// first appearance, hashes in input order within a group) and sets k.bounds.
func sortByGroup(k *hashKind, gid []int32, groups int) {
	bounds := make([]int, groups+1)
	for _, g := range gid {
		bounds[g+1]++
	}
	for g := range groups {
		bounds[g+1] += bounds[g]
	}
	next := append([]int(nil), bounds[:groups]...)
	s := collide.NewSet(k.set.Bits())
	perm := make([]int, len(gid)) // perm[new] = old
	for old, g := range gid {
		perm[next[g]] = old
		next[g]++
	}
	lines := make([]int, len(perm))
	var ids []string
	if k.ids != nil {
		ids = make([]string, len(perm))
	}
	for i, old := range perm {
		s.Append(k.set.At(old)...)
		lines[i] = k.lines[old]
		if ids != nil {
			ids[i] = k.ids[old]
		}
	}
	k.set, k.lines, k.ids, k.bounds = s, lines, ids, bounds
}

// countKind counts one kind in one scope, listing pairs if asked.
func countKind(ctx context.Context, g *globalOptions, opts collisionsOptions, method collide.Method, k *hashKind, scope string) (collisionsResult, error) {
	s := k.set
	if opts.tolerance > s.Bits() {
		return collisionsResult{}, usagef("--tolerance %d is more than the %d-bit width of %s", opts.tolerance, s.Bits(), kindLabel(k))
	}
	bounds := []int{0, s.Len()}
	groups := 0
	if k.bounds != nil {
		groups = len(k.bounds) - 1
		if scope == "groups" {
			bounds = k.bounds
		}
	}
	log := g.logger.With("kind", kindLabel(k), "scope", scope)
	lastTenth := uint64(0)
	start := time.Now()
	copts := collide.Options{Tolerance: opts.tolerance, Method: method, Workers: opts.workers,
		Progress: func(done, total uint64) {
			// Long counts report every tenth of the work planned so far.
			if total < 1e10 {
				return
			}
			if tenth := 10 * done / total; tenth > lastTenth {
				lastTenth = tenth
				log.Info("counting collisions", "done", done, "planned", total, "elapsed", time.Since(start).Round(time.Millisecond))
			}
		}}
	c, err := collide.CountGroups(ctx, s, bounds, copts)
	if err != nil {
		return collisionsResult{}, fmt.Errorf("collisions: %s: %w", kindLabel(k), err)
	}
	elapsed := time.Since(start).Seconds()
	r := collisionsResult{
		Kind: k.name, Size: k.size, Bits: s.Bits(), Hashes: s.Len(), Groups: groups, Scope: scope,
		Tolerance: opts.tolerance, Method: c.Method.String(), Pairs: c.Pairs, Compared: c.Compared,
		Seconds: elapsed,
	}
	if elapsed > 0 {
		r.PairsPerSec = float64(c.Pairs) / elapsed
	}
	for d := 0; d <= opts.tolerance; d++ {
		r.Collisions = append(r.Collisions, c.AtMost(d))
		r.Rates = append(r.Rates, c.Rate(d))
	}
	log.Debug("counted collisions", "pairs", c.Pairs, "compared", c.Compared, "method", c.Method, "seconds", elapsed)
	if opts.list > 0 {
		copts.Progress = nil
		err := collide.Pairs(ctx, s, bounds, copts, func(p collide.Pair) bool {
			lp := listedPair{LineA: k.lines[p.I], LineB: k.lines[p.J], Distance: p.Distance,
				HexA: hexOf(s, p.I), HexB: hexOf(s, p.J)}
			if lp.LineA > lp.LineB {
				lp.LineA, lp.LineB, lp.HexA, lp.HexB = lp.LineB, lp.LineA, lp.HexB, lp.HexA
				p.I, p.J = p.J, p.I
			}
			if k.ids != nil {
				lp.IDA, lp.IDB = k.ids[p.I], k.ids[p.J]
			}
			r.Listed = append(r.Listed, lp)
			return len(r.Listed) < opts.list
		})
		if err != nil {
			return collisionsResult{}, fmt.Errorf("collisions: %s: %w", kindLabel(k), err)
		}
	}
	return r, nil
}

func kindLabel(k *hashKind) string {
	switch {
	case k.name == "" && k.size == "":
		return "hashes"
	case k.size == "":
		return k.name
	}
	return k.name + "/" + k.size
}

// hexOf prints hash i of s as AppendHex reads it.
func hexOf(s *collide.Set, i int) string {
	const digits = "0123456789abcdef"
	h := s.At(i)
	n := (s.Bits() + 3) / 4
	b := make([]byte, n)
	for k := range n {
		bit := 4 * k
		b[n-1-k] = digits[(h[len(h)-1-bit/64]>>(bit%64))&0xf]
	}
	return string(b)
}

func writeCollisions(w io.Writer, format string, results []collisionsResult) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Results []collisionsResult `json:"results"`
		}{results})
	case "tsv":
		return writeCollisionsTSV(w, results)
	}
	return writeCollisionsText(w, results)
}

func writeCollisionsTSV(w io.Writer, results []collisionsResult) error {
	bw := bufio.NewWriter(w)
	maxT := 0
	for _, r := range results {
		maxT = max(maxT, r.Tolerance)
	}
	fmt.Fprint(bw, "hash_name\thash_size_or_binbits\tbits\thashes\tgroups\tscope\ttolerance\tmethod\tpairs\tcompared")
	for d := 0; d <= maxT; d++ {
		fmt.Fprintf(bw, "\tcollisions_le_%d", d)
	}
	for d := 0; d <= maxT; d++ {
		fmt.Fprintf(bw, "\trate_le_%d", d)
	}
	fmt.Fprint(bw, "\tseconds\tpairs_per_second\n")
	for _, r := range results {
		fmt.Fprintf(bw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t%d\t%d", r.Kind, r.Size, r.Bits, r.Hashes, r.Groups, r.Scope, r.Tolerance, r.Method, r.Pairs, r.Compared)
		for _, c := range r.Collisions {
			fmt.Fprintf(bw, "\t%d", c)
		}
		for _, x := range r.Rates {
			fmt.Fprintf(bw, "\t%.6g", x)
		}
		fmt.Fprintf(bw, "\t%.3f\t%.4g\n", r.Seconds, r.PairsPerSec)
	}
	for _, r := range results {
		if len(r.Listed) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\nhash_name\thash_size_or_binbits\tscope\tline_a\tline_b\tdistance\thex_a\thex_b\tid_a\tid_b\n")
		for _, p := range r.Listed {
			fmt.Fprintf(bw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Kind, r.Size, r.Scope, p.LineA, p.LineB, p.Distance, p.HexA, p.HexB, p.IDA, p.IDB)
		}
	}
	return bw.Flush()
}

func writeCollisionsText(w io.Writer, results []collisionsResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		label := "hashes"
		if r.Kind != "" {
			label = r.Kind
			if r.Size != "" {
				label += " (size " + r.Size + ")"
			}
		}
		scope := "all pairs"
		if r.Scope == "groups" {
			scope = fmt.Sprintf("pairs within %d groups", r.Groups)
		}
		fmt.Fprintf(tw, "%s: %d hashes of %d bits, %s\n", label, r.Hashes, r.Bits, scope)
		fmt.Fprintf(tw, "pairs\t%d\n", r.Pairs)
		for d, c := range r.Collisions {
			fmt.Fprintf(tw, "collisions_le_%d\t%d\trate %.6g\n", d, c, r.Rates[d])
		}
		fmt.Fprintf(tw, "method\t%s\t%d pairs compared\n", r.Method, r.Compared)
		fmt.Fprintf(tw, "time\t%.3f s\t%.4g pairs/s\n", r.Seconds, r.PairsPerSec)
		for _, p := range r.Listed {
			fmt.Fprintf(tw, "pair\tlines %d %d\tdistance %d\t%s %s", p.LineA, p.LineB, p.Distance, p.HexA, p.HexB)
			if p.IDA != "" || p.IDB != "" {
				fmt.Fprintf(tw, "\t%s %s", p.IDA, p.IDB)
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}
