// Package report turns the odds computations into the tables and the Figure 3 plot that
// `genquorum odds` prints: parsing of probabilities (decimals and exact fractions, alone, in
// lists or per tolerance as TOL:P; ParseProb for one), the rows of Correct, Plan, Attack,
// Estimate and Spot (with SlashPenalty, the ledger's slash of a stake), their text, TSV and
// JSON Lines output, and the plot (SVG or PNG, gonum/plot).
//
// Rows keep the probability exactly as given (Prob.Text) so that outputs print what the user
// typed; computations use its exact value (Prob.Rat). Errors about the input name the command
// line flag they come from (--p), since every caller is a command line.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

// DefaultVerifiers are the verifier counts of the paper's Figure 3, per rule.
var DefaultVerifiers = map[quorum.Rule][]int{
	quorum.Majority:      {3, 5, 7},
	quorum.SuperMajority: {4, 7, 10},
}

// verifiers returns ns, or the rule's defaults when ns is empty.
func verifiers(rule quorum.Rule, ns []int) []int {
	if len(ns) == 0 {
		return DefaultVerifiers[rule]
	}
	return ns
}

// Correct returns one row per rule, probability and verifier count (ns; empty: the rule's
// DefaultVerifiers): the probability of a correct verdict.
func Correct(ctx context.Context, rules []quorum.Rule, pts []Prob, ns []int) ([]Row, error) {
	var rows []Row
	for _, rule := range rules {
		for _, pt := range pts {
			for _, n := range verifiers(rule, ns) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				t, err := odds.CorrectRat(n, pt.Rat, rule)
				if err != nil {
					return nil, fmt.Errorf("odds: %w", err)
				}
				rows = append(rows, newRow(rule, pt, t))
			}
		}
	}
	return rows, nil
}

// Plan returns, per rule and probability, the row of the smallest verifier count that reaches
// target, and a description of each pair that cannot reach it within opts (missed).
func Plan(ctx context.Context, rules []quorum.Rule, pts []Prob, target float64, opts odds.PlanOptions) (rows []Row, missed []string, err error) {
	for _, rule := range rules {
		for _, pt := range pts {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			t, err := odds.PlanRat(pt.Rat, target, rule, opts)
			if errors.Is(err, odds.ErrUnreachable) {
				missed = append(missed, fmt.Sprintf("%v p=%s (best n=%d: %.9g)", rule, pt.Text, t.N, t.P))
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("odds plan: %w", err)
			}
			row := newRow(rule, pt, t)
			row.Target = &target
			rows = append(rows, row)
		}
	}
	return rows, missed, nil
}

// Prob is one value of --p: a probability, at a tolerance when given as TOL:P.
type Prob struct {
	Tolerance int      // -1: none given
	Text      string   // the probability as given
	Rat       *big.Rat // its exact value
	Value     float64  // its nearest float64
}

// ParseProbs parses --p: "P", "P,P,..." or "TOL:P,TOL:P,...". Each P is a decimal or a
// fraction in [0, 1], taken exactly.
func ParseProbs(s string) ([]Prob, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--p: required (e.g. --p 0.977 or --p 0:0.802,1:0.940,2:0.977)")
	}
	var pts []Prob
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		pt := Prob{Tolerance: -1, Text: item}
		if t, p, ok := strings.Cut(item, ":"); ok {
			tol, err := strconv.Atoi(strings.TrimSpace(t))
			if err != nil || tol < 0 {
				return nil, fmt.Errorf("--p %q: tolerance %q is not a non-negative integer", item, t)
			}
			pt.Tolerance, pt.Text = tol, strings.TrimSpace(p)
		}
		r, ok := parseProbRat(pt.Text)
		if !ok {
			return nil, fmt.Errorf("--p %q: want a probability in [0, 1] (decimal or fraction)", item)
		}
		pt.Rat = r
		pt.Value, _ = r.Float64()
		if len(pts) > 0 && (pt.Tolerance < 0) != (pts[0].Tolerance < 0) {
			return nil, fmt.Errorf("--p %q: give a tolerance for every value or for none", s)
		}
		if pt.Tolerance >= 0 && slices.ContainsFunc(pts, func(q Prob) bool { return q.Tolerance == pt.Tolerance }) {
			return nil, fmt.Errorf("--p: tolerance %d given twice", pt.Tolerance)
		}
		pts = append(pts, pt)
	}
	if pts[0].Tolerance >= 0 {
		slices.SortFunc(pts, func(a, b Prob) int { return a.Tolerance - b.Tolerance })
	}
	return pts, nil
}

// ParseProb parses one probability in [0, 1], a decimal or a fraction as ParseProbs takes
// them, for the flag named flag (which its errors name); blank s is an error.
func ParseProb(flag, s string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("%s: required", flag)
	}
	r, ok := parseProbRat(strings.TrimSpace(s))
	if !ok {
		return 0, fmt.Errorf("%s %q: want a probability in [0, 1] (decimal or fraction)", flag, s)
	}
	f, _ := r.Float64()
	return f, nil
}

// parseProbRat parses s with ParseRat and reports whether it is a probability in [0, 1].
func parseProbRat(s string) (*big.Rat, bool) {
	r, ok := ParseRat(s)
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, false
	}
	return r, true
}

// ParseRat parses a decimal ("0.977") or a fraction ("6771/6928") exactly. Numbers with an
// exponent ("1e-3") go through float64, so that "1e-999999999" cannot make big.Rat build a
// huge power of ten; so do strings over 100 bytes.
func ParseRat(s string) (*big.Rat, bool) {
	if len(s) > 100 || strings.ContainsAny(s, "eEpPxX_") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(f), true
	}
	return new(big.Rat).SetString(s)
}

// Row is one line of odds or odds plan output.
type Row struct {
	Rule         string   `json:"rule"`
	Tolerance    *int     `json:"tolerance,omitempty"`
	P            float64  `json:"p"`
	Target       *float64 `json:"target,omitempty"`
	N            int      `json:"n"`
	Need         int      `json:"need"`
	Probability  float64  `json:"probability"`
	Failure      float64  `json:"failure"`
	Log10Failure *float64 `json:"log10_failure,omitempty"` // absent when the failure is exactly 0

	pText string // p as given
}

func newRow(rule quorum.Rule, pt Prob, t odds.Tail) Row {
	r := Row{Rule: rule.String(), P: pt.Value, N: t.N, Need: t.Need,
		Probability: t.P, Failure: t.Q, pText: pt.Text}
	if pt.Tolerance >= 0 {
		tol := pt.Tolerance
		r.Tolerance = &tol
	}
	if !math.IsInf(t.Log10Q, 0) {
		l := t.Log10Q
		r.Log10Failure = &l
	}
	return r
}

// WriteRows writes rows in format; withTarget adds the target column (odds plan).
func WriteRows(w io.Writer, format string, rows []Row, withTarget bool) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "tsv":
		cols := []string{"rule", "tolerance", "p", "n", "need", "probability", "failure", "log10_failure"}
		if withTarget {
			cols = slices.Insert(cols, 3, "target")
		}
		if _, err := fmt.Fprintln(w, strings.Join(cols, "\t")); err != nil {
			return err
		}
		for _, r := range rows {
			f := []string{r.Rule, tolString(r.Tolerance, ""), r.pText, strconv.Itoa(r.N), strconv.Itoa(r.Need),
				fmtFloat(r.Probability), fmtFloat(r.Failure), "-Inf"}
			if r.Log10Failure != nil {
				f[7] = fmtFloat(*r.Log10Failure)
			}
			if withTarget {
				f = slices.Insert(f, 3, fmtFloat(*r.Target))
			}
			if _, err := fmt.Fprintln(w, strings.Join(f, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "rule\tt\tp\tn\tneed\tprobability\tfailure"
	if withTarget {
		head = "rule\tt\tp\ttarget\tn\tneed\tprobability\tfailure"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		target := ""
		if withTarget {
			target = fmtFloat(*r.Target) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%d\t%d\t%s\t%s\n", r.Rule, tolString(r.Tolerance, "-"), r.pText, target,
			r.N, r.Need, percent(r.Probability), failureText(r))
	}
	return tw.Flush()
}

func tolString(t *int, none string) string {
	if t == nil {
		return none
	}
	return strconv.Itoa(*t)
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// percent prints a probability as a percentage with 6 decimals, never rounding up to 100%
// unless it is exactly 1.
func percent(x float64) string {
	s := strconv.FormatFloat(100*x, 'f', 6, 64)
	if x < 1 && s == "100.000000" {
		return "99.999999+%"
	}
	return s + "%"
}

// failureText prints 1-P in scientific notation, from its log when it underflows.
func failureText(r Row) string {
	switch {
	case r.Failure > 0:
		return strconv.FormatFloat(r.Failure, 'e', 3, 64)
	case r.Log10Failure != nil:
		e := math.Floor(*r.Log10Failure)
		return fmt.Sprintf("%.3fe%+d", math.Pow(10, *r.Log10Failure-e), int(e))
	default:
		return "0"
	}
}
