package table

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/genquorum/genquorum/collide"
)

// Scopes of a count: pairs within the same group, or all pairs.
const (
	ScopeGroups = "groups"
	ScopeAll    = "all"
)

// ErrNoGroups: a scope that needs groups was asked of ungrouped hashes.
var ErrNoGroups = errors.New("needs groups: give --group-column or --group-by (or --synthetic)")

// Scopes returns the scopes to count for k given a scope request: "auto" (groups when k has
// groups, else all), "groups", "all" or "both".
func Scopes(request string, k *Kind) ([]string, error) {
	switch request {
	case "auto":
		if k.Grouped() {
			return []string{ScopeGroups}, nil
		}
		return []string{ScopeAll}, nil
	case "groups", "both":
		if !k.Grouped() {
			return nil, fmt.Errorf("--scope %s %w", request, ErrNoGroups)
		}
		if request == "both" {
			return []string{ScopeGroups, ScopeAll}, nil
		}
		return []string{ScopeGroups}, nil
	case "all":
		return []string{ScopeAll}, nil
	}
	return nil, fmt.Errorf("--scope %q: want groups, all, both or auto", request)
}

// Result is the count of one kind in one scope.
type Result struct {
	Kind        string    `json:"hash_name,omitempty"`
	Size        string    `json:"hash_size_or_binbits,omitempty"`
	Bits        int       `json:"bits"`
	Hashes      int       `json:"hashes"`
	Groups      int       `json:"groups"`
	Scope       string    `json:"scope"`
	Tolerance   int       `json:"tolerance"`
	Method      string    `json:"method"`
	Pairs       uint64    `json:"pairs"`
	Compared    uint64    `json:"compared"`
	Collisions  []uint64  `json:"collisions_le"` // Collisions[d]: pairs at distance <= d
	Rates       []float64 `json:"rate_le"`
	Seconds     float64   `json:"seconds"`
	PairsPerSec float64   `json:"pairs_per_second"`
	Listed      []Pair    `json:"listed_pairs,omitempty"`
}

// Pair is one pair within the tolerance, listed by input line (LineA < LineB).
type Pair struct {
	LineA    int    `json:"line_a"`
	LineB    int    `json:"line_b"`
	Distance int    `json:"distance"`
	HexA     string `json:"hex_a"`
	HexB     string `json:"hex_b"`
	IDA      string `json:"id_a,omitempty"`
	IDB      string `json:"id_b,omitempty"`
}

// CountOptions control Count.
type CountOptions struct {
	Tolerance int
	Method    collide.Method
	Workers   int // 0: one per CPU
	List      int // list up to this many pairs
	// Logger, if set, gets an INFO line every tenth of a long count (>= 1e10 pairs planned)
	// and a DEBUG line at the end.
	Logger *slog.Logger
}

// ErrToleranceWidth: the tolerance is more than the width of the hashes.
var ErrToleranceWidth = errors.New("tolerance more than the hash width")

// Count counts k's pairs within opts.Tolerance in scope, and lists up to opts.List of them.
func Count(ctx context.Context, k *Kind, scope string, opts CountOptions) (Result, error) {
	s := k.Set
	if opts.Tolerance > s.Bits() {
		return Result{}, fmt.Errorf("--tolerance %d is more than the %d-bit width of %s: %w", opts.Tolerance, s.Bits(), k.Label(), ErrToleranceWidth)
	}
	bounds := []int{0, s.Len()}
	groups := 0
	if k.Bounds != nil {
		groups = len(k.Bounds) - 1
		if scope == ScopeGroups {
			bounds = k.Bounds
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("kind", k.Label(), "scope", scope)
	lastTenth := uint64(0)
	start := time.Now()
	copts := collide.Options{Tolerance: opts.Tolerance, Method: opts.Method, Workers: opts.Workers,
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
		return Result{}, fmt.Errorf("collisions: %s: %w", k.Label(), err)
	}
	elapsed := time.Since(start).Seconds()
	r := Result{
		Kind: k.Name, Size: k.Size, Bits: s.Bits(), Hashes: s.Len(), Groups: groups, Scope: scope,
		Tolerance: opts.Tolerance, Method: c.Method.String(), Pairs: c.Pairs, Compared: c.Compared,
		Seconds: elapsed,
	}
	if elapsed > 0 {
		r.PairsPerSec = float64(c.Pairs) / elapsed
	}
	for d := 0; d <= opts.Tolerance; d++ {
		r.Collisions = append(r.Collisions, c.AtMost(d))
		r.Rates = append(r.Rates, c.Rate(d))
	}
	log.Debug("counted collisions", "pairs", c.Pairs, "compared", c.Compared, "method", c.Method, "seconds", elapsed)
	if opts.List > 0 {
		copts.Progress = nil
		err := collide.Pairs(ctx, s, bounds, copts, func(p collide.Pair) bool {
			lp := Pair{LineA: k.Lines[p.I], LineB: k.Lines[p.J], Distance: p.Distance,
				HexA: hexOf(s, p.I), HexB: hexOf(s, p.J)}
			if lp.LineA > lp.LineB {
				lp.LineA, lp.LineB, lp.HexA, lp.HexB = lp.LineB, lp.LineA, lp.HexB, lp.HexA
				p.I, p.J = p.J, p.I
			}
			if k.IDs != nil {
				lp.IDA, lp.IDB = k.IDs[p.I], k.IDs[p.J]
			}
			r.Listed = append(r.Listed, lp)
			return len(r.Listed) < opts.List
		})
		if err != nil {
			return Result{}, fmt.Errorf("collisions: %s: %w", k.Label(), err)
		}
	}
	return r, nil
}

// hexOf prints hash i of s as AppendHex reads it.
// CountAll counts every kind in each scope the request gives it (Scopes), in order, and
// warns on opts.Logger of rows a kind skipped (not matching ReadOptions.GroupBy). Its errors
// wrap ErrNoGroups when the request needs groups a kind lacks, and ErrToleranceWidth as
// Count's do.
func CountAll(ctx context.Context, kinds []*Kind, request string, opts CountOptions) ([]Result, error) {
	var results []Result
	for _, k := range kinds {
		if k.Skipped > 0 && opts.Logger != nil {
			opts.Logger.Warn("rows not matching --group-by were skipped", "kind", k.Label(), "rows", k.Skipped)
		}
		scopes, err := Scopes(request, k)
		if err != nil {
			return nil, err
		}
		for _, scope := range scopes {
			r, err := Count(ctx, k, scope, opts)
			if err != nil {
				return nil, err
			}
			results = append(results, r)
		}
	}
	return results, nil
}

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

// ParseMethod parses a collide.Method by its String name.
func ParseMethod(s string) (collide.Method, error) {
	for _, m := range []collide.Method{collide.Auto, collide.BruteForce, collide.MultiIndex} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("--method %q: want auto, brute-force or multi-index", s)
}
