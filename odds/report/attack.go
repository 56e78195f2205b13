package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

// AttackRow is one line of odds attack output.
type AttackRow struct {
	Rule        string   `json:"rule"`
	N           int      `json:"n"`
	Need        int      `json:"need"`
	Colluders   int      `json:"colluders"`
	Model       string   `json:"model"`
	Probability float64  `json:"probability"`
	Log10       *float64 `json:"log10_probability,omitempty"`
}

// Attack returns, per rule, verifier count n (ns; empty: the rule's DefaultVerifiers) and
// colluder count m, the probability that m colluders get a wrong value accepted (collusion,
// when m <= n) and that a guess copied by m colluders is accepted (guess, when m < n), for
// honest verifiers right with probability p and a collision rate collision.
func Attack(ctx context.Context, rules []quorum.Rule, ns, colluders []int, p, collision float64) ([]AttackRow, error) {
	var rows []AttackRow
	for _, rule := range rules {
		for _, n := range verifiers(rule, ns) {
			for _, m := range colluders {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				add := func(model string, t odds.Tail, err error) error {
					if err != nil {
						return fmt.Errorf("odds attack: %w", err)
					}
					r := AttackRow{Rule: rule.String(), N: n, Need: rule.Need(n), Colluders: m, Model: model, Probability: t.P}
					if t.P > 0 {
						l := math.Log10(t.P)
						r.Log10 = &l
					}
					rows = append(rows, r)
					return nil
				}
				if m <= n {
					t, err := odds.Collusion(n, m, p, collision, rule)
					if err := add("collusion", t, err); err != nil {
						return nil, err
					}
				}
				if m < n {
					t, err := odds.Guess(n, m, p, collision, rule)
					if err := add("guess", t, err); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return rows, nil
}

// WriteAttack writes attack rows as text, tsv or json (JSON Lines).
func WriteAttack(w io.Writer, format string, rows []AttackRow) error {
	cols := []string{"rule", "n", "need", "colluders", "model", "probability", "log10_probability"}
	return writeTable(w, format, cols, rows, func(r AttackRow, text bool) []string {
		prob, lg := fmtFloat(r.Probability), "-Inf"
		if text {
			prob = strconv.FormatFloat(r.Probability, 'e', 3, 64)
		}
		if r.Log10 != nil {
			lg = fmtFloat(*r.Log10)
			if text {
				lg = strconv.FormatFloat(*r.Log10, 'f', 3, 64)
			}
		}
		return []string{r.Rule, strconv.Itoa(r.N), strconv.Itoa(r.Need), strconv.Itoa(r.Colluders), r.Model, prob, lg}
	})
}

// EstimateRow is one line of odds estimate output.
type EstimateRow struct {
	Method     string  `json:"method"`
	Successes  int     `json:"successes"`
	Trials     int     `json:"trials"`
	P          float64 `json:"p"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
}

// Estimate returns the Wilson and Clopper-Pearson intervals for successes out of trials at
// the confidence level.
func Estimate(successes, trials int, confidence float64) ([]EstimateRow, error) {
	var rows []EstimateRow
	for _, m := range []struct {
		name string
		f    func(int, int, float64) (odds.Estimate, error)
	}{{"wilson", odds.Wilson}, {"clopper-pearson", odds.ClopperPearson}} {
		e, err := m.f(successes, trials, confidence)
		if err != nil {
			return nil, fmt.Errorf("odds estimate: %w", err)
		}
		rows = append(rows, EstimateRow{m.name, e.Successes, e.Trials, e.P, e.Lo, e.Hi, e.Confidence})
	}
	return rows, nil
}

// WriteEstimate writes estimate rows as text, tsv or json (JSON Lines).
func WriteEstimate(w io.Writer, format string, rows []EstimateRow) error {
	cols := []string{"method", "successes", "trials", "p", "lo", "hi", "confidence"}
	return writeTable(w, format, cols, rows, func(r EstimateRow, text bool) []string {
		f := fmtFloat
		if text {
			f = func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
		}
		return []string{r.Method, strconv.Itoa(r.Successes), strconv.Itoa(r.Trials), f(r.P), f(r.Lo), f(r.Hi), fmtFloat(r.Confidence)}
	})
}

// writeTable writes rows as JSON Lines (format json), TSV with a header (tsv) or aligned text
// (text). cells returns a row's fields in cols order, rounded for reading when text is set.
func writeTable[R any](w io.Writer, format string, cols []string, rows []R, cells func(r R, text bool) []string) error {
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
		lines := []string{strings.Join(cols, "\t")}
		for _, r := range rows {
			lines = append(lines, strings.Join(cells(r, false), "\t"))
		}
		_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r, true), "\t"))
	}
	return tw.Flush()
}
