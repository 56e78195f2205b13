package report

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"

	"github.com/genquorum/genquorum/odds"
)

// SpotRow is one line of odds spot output: the odds and economics of spot-checking at one
// check probability Q (see odds.Spot).
type SpotRow struct {
	Q           float64 `json:"q"`
	Collision   float64 `json:"collision"`
	Catch       float64 `json:"catch"`        // one cheated task caught
	CatchWithin float64 `json:"catch_within"` // caught at least once in Tasks cheated tasks
	Tasks       int     `json:"tasks"`
	Honest      float64 `json:"honest"` // expected earnings per task, honest
	Cheat       float64 `json:"cheat"`  // expected earnings per task, cheating at no cost
	Pays        bool    `json:"cheating_pays"`
	MinQ        float64 `json:"min_q"` // least q that deters the cheat; -1 when none does
}

// SlashPenalty returns what the ledger slashes from stake at bps basis points (its
// SlashOutlierBPS): stake * bps / 10000, rounded down, computed without overflow, as a
// penalty for Spot. It panics if bps is over 10000.
func SlashPenalty(stake uint64, bps uint32) float64 {
	if bps > 10000 {
		panic(fmt.Sprintf("report: slash of %d basis points, over 10000", bps))
	}
	hi, lo := bits.Mul64(stake, uint64(bps))
	amt, _ := bits.Div64(hi, lo, 10000)
	return float64(amt)
}

// Spot returns one row per check probability in qs.
// verifiers is the ledger's SpotVerifiers (see odds.Spot).
func Spot(qs []float64, collision, fee, cost, penalty float64, verifiers, tasks int) ([]SpotRow, error) {
	var rows []SpotRow
	for _, q := range qs {
		s := odds.Spot{Q: q, Collision: collision, Fee: fee, Cost: cost, Penalty: penalty, Verifiers: verifiers}
		c, err := s.Catch()
		if err != nil {
			return nil, fmt.Errorf("odds spot: %w", err)
		}
		within, err := s.CatchWithin(tasks)
		if err != nil {
			return nil, fmt.Errorf("odds spot: %w", err)
		}
		honest, cheat, _ := s.Expected()
		minQ, err := s.MinQ()
		if errors.Is(err, odds.ErrUnreachable) {
			minQ = -1
		} else if err != nil {
			return nil, fmt.Errorf("odds spot: %w", err)
		}
		rows = append(rows, SpotRow{q, collision, c, within, tasks, honest, cheat, cheat > honest, minQ})
	}
	return rows, nil
}

// WriteSpot writes rows as text, tsv or json (JSON Lines).
func WriteSpot(w io.Writer, format string, rows []SpotRow) error {
	cols := []string{"q", "collision", "catch", "tasks", "catch_within", "honest", "cheat", "cheating_pays", "min_q"}
	return writeTable(w, format, cols, rows, func(r SpotRow, text bool) []string {
		f := fmtFloat
		if text {
			f = func(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
		}
		return []string{f(r.Q), f(r.Collision), f(r.Catch), strconv.Itoa(r.Tasks), f(r.CatchWithin), f(r.Honest), f(r.Cheat),
			strconv.FormatBool(r.Pays), f(r.MinQ)}
	})
}
