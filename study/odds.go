package study

import (
	"fmt"
	"strconv"

	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/quorum"
)

// OddsConfig controls RunOdds.
type OddsConfig struct {
	Verifiers []int  // numbers of verifiers n (default 1, 3, 5, 7, 9)
	Hash      string // scheme whose p is plotted (default image:average_hash/8); the table has all
}

// RunOdds computes Figure 3 from a table1 run's measurements in r.Dir: for each model and hash
// kind of tables/table1.json, p at tolerance t is the measured share of images within t of
// their group's mode, p_t = 1 - outliers_t / images (exact integers from the table, not typed
// by hand), and P(correct verdict) of n verifiers under majority and super-majority follows
// (package odds). It writes the odds table and, per model, the Figure 3 panels of cfg.Hash.
func RunOdds(r *Run, cfg OddsConfig) error {
	if len(cfg.Verifiers) == 0 {
		cfg.Verifiers = []int{1, 3, 5, 7, 9}
	}
	if cfg.Hash == "" {
		cfg.Hash = "image:average_hash/8"
	}
	t1, err := ReadTable(r.Dir, "table1")
	if err != nil {
		return fmt.Errorf("study: odds needs a table1 run in %s first: %w", r.Dir, err)
	}
	t := &Table{Name: "odds", Order: 40, Columns: []string{"model", "hash", "tolerance", "p", "rule", "n", "need", "p_correct_pct", "one_minus_p"},
		Title: "Figure 3: P(correct verdict) of n verifiers, with p measured by table1",
		Note:  "p_t = 1 - outliers_t / images from tables/table1.json; P = P(at least need of n verifiers within tolerance)."}
	rules := []quorum.Rule{quorum.Majority, quorum.SuperMajority}
	type key struct{ model, rule string }
	curves := map[key][]Series{}
	var models []string
	found := false
	for i := range t1.Rows {
		model, hash := t1.Rows[i][t1.Col("model")], t1.Rows[i][t1.Col("hash")]
		images, err := t1.Float(i, "images")
		if err != nil || images == 0 {
			continue
		}
		for tol := range 3 {
			out, err := t1.Float(i, fmt.Sprintf("outliers_t%d", tol))
			if err != nil {
				return err
			}
			p := 1 - out/images
			for _, rule := range rules {
				for ni, n := range cfg.Verifiers {
					tail, err := odds.Correct(n, p, rule)
					if err != nil {
						return fmt.Errorf("study: odds: %w", err)
					}
					t.Rows = append(t.Rows, []string{model, hash, itoa(tol), strconv.FormatFloat(p, 'f', 6, 64), rule.String(),
						itoa(n), itoa(tail.Need), strconv.FormatFloat(100*tail.P, 'f', 4, 64), strconv.FormatFloat(tail.Q, 'g', 4, 64)})
					if hash != cfg.Hash {
						continue
					}
					found = true
					k := key{model, rule.String()}
					if len(curves[k]) <= ni {
						curves[k] = append(curves[k], Series{Name: fmt.Sprintf("n = %d", n)})
					}
					if len(models) == 0 || models[len(models)-1] != model {
						models = append(models, model)
					}
					curves[k][ni].X = append(curves[k][ni].X, float64(tol))
					curves[k][ni].Y = append(curves[k][ni].Y, 100*tail.P)
				}
			}
		}
	}
	if err := WriteTable(r.Dir, t); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("study: odds: table1 has no hash %s", cfg.Hash)
	}
	for _, m := range models {
		for _, rule := range rules {
			p, err := LinePlot(fmt.Sprintf("Figure 3 (%s, %s, measured p): %s", rule, shortScheme(cfg.Hash), m),
				"tolerance (Hamming distance)", "P(correct verdict) (%)", curves[key{m, rule.String()}], nil)
			if err != nil {
				return err
			}
			p.Legend.Left = false
			p.Legend.Top = false
			if err := SavePlot(r.Dir, Figure{Name: fmt.Sprintf("figure3-%s-%s", m, rule), Order: 40,
				Caption: fmt.Sprintf("P(correct verdict) of n verifiers under %s vs tolerance, model %s, %s, with p measured by table1 in this directory.", rule, m, cfg.Hash)}, p); err != nil {
				return err
			}
		}
	}
	return nil
}
