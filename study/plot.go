package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
)

// Figure describes a plot saved by SavePlot: plots/<Name>.svg, .png and .json (this record).
type Figure struct {
	Name    string `json:"name"`
	Caption string `json:"caption"`
	Order   int    `json:"order"` // position in the report
}

// Series is one curve of a line plot.
type Series struct {
	Name string
	X, Y []float64
}

// plotColors are distinguishable on screen and in grey print (Okabe-Ito palette).
var plotColors = []color.Color{
	color.RGBA{0, 114, 178, 255},
	color.RGBA{213, 94, 0, 255},
	color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255},
	color.RGBA{230, 159, 0, 255},
	color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255},
	color.RGBA{240, 228, 66, 255},
}

// LinePlot builds a plot of series (one colour and glyph shape each). xLabels, when not nil,
// names the integer x positions 0, 1, ... (categorical axes).
func LinePlot(title, xLabel, yLabel string, series []Series, xLabels []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range series {
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("study: plot %q: %w", title, err)
		}
		c := plotColors[i%len(plotColors)]
		l.Color, pts.Color = c, c
		pts.Shape = draw.GlyphDrawer([]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
			draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}[i%8])
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	// Room above the curves for the legend.
	if len(series) > 0 {
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.07 * float64(len(series))
	}
	if xLabels != nil {
		var ticks []plot.Tick
		for i, l := range xLabels {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Padding = vg.Millimeter * 4
	}
	return p, nil
}

// SavePlot writes p as plots/<name>.svg and .png under dir (atomically), with fig's caption
// in plots/<name>.json for the report.
func SavePlot(dir string, fig Figure, p *plot.Plot) error {
	base := filepath.Join(dir, PlotDir, fig.Name)
	for _, ext := range []string{"svg", "png"} {
		wt, err := p.WriterTo(20*vg.Centimeter, 11*vg.Centimeter, ext)
		if err != nil {
			return fmt.Errorf("study: plot %s: %w", fig.Name, err)
		}
		var b bytes.Buffer
		if _, err := wt.WriteTo(&b); err != nil {
			return fmt.Errorf("study: plot %s: %w", fig.Name, err)
		}
		if err := WriteFileAtomic(base+"."+ext, b.Bytes()); err != nil {
			return err
		}
	}
	js, err := json.MarshalIndent(fig, "", "  ")
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return WriteFileAtomic(base+".json", append(js, '\n'))
}

// ReadFigures reads the figure records under dir/plots, in report order.
func ReadFigures(dir string) ([]Figure, error) {
	files, err := filepath.Glob(filepath.Join(dir, PlotDir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Figure
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		var fig Figure
		if err := json.Unmarshal(data, &fig); err != nil {
			return nil, fmt.Errorf("study: %s: %w", f, err)
		}
		out = append(out, fig)
	}
	slices.SortStableFunc(out, func(a, b Figure) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// shortScheme is a scheme name for legends: "image:average_hash/8" -> "average_hash/8".
func shortScheme(s string) string { return strings.TrimPrefix(s, "image:") }

// plotTable1 draws consensus vs tolerance per model, the distance histogram and the drift.
func plotTable1(dir string, rows []Table1Row, drift *Table, specs []imghash.Spec) error {
	var models []string
	for _, r := range rows {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	for _, m := range models {
		var ss []Series
		for _, r := range rows {
			if r.Model != m {
				continue
			}
			s := Series{Name: shortScheme(r.Scheme)}
			for i, t := range PlotTolerances {
				s.X = append(s.X, float64(t))
				s.Y = append(s.Y, r.Consensus[i])
			}
			ss = append(ss, s)
		}
		p, err := LinePlot("Consensus vs tolerance: "+m, "tolerance (Hamming distance)", "consensus (%)", ss, nil)
		if err != nil {
			return err
		}
		fig := Figure{Name: "consensus-" + m, Order: 10,
			Caption: "Table 1 on model " + m + ": share of images within t bits of their group's mode, per hash kind."}
		if err := SavePlot(dir, fig, p); err != nil {
			return err
		}
	}
	// Distance histogram pooled over models, one curve per scheme, d >= 1 (the outliers).
	var ss []Series
	for _, spec := range specs {
		scheme := fingerprint.ImageScheme(spec.Kind, spec.Size).String()
		var hist []float64
		for _, r := range rows {
			if r.Scheme != scheme {
				continue
			}
			for d, n := range r.Distances {
				for len(hist) <= d {
					hist = append(hist, 0)
				}
				hist[d] += float64(n)
			}
		}
		s := Series{Name: shortScheme(scheme)}
		for d := 1; d < len(hist); d++ {
			s.X = append(s.X, float64(d))
			s.Y = append(s.Y, hist[d])
		}
		if len(s.X) > 0 {
			ss = append(ss, s)
		}
	}
	if len(ss) > 0 {
		p, err := LinePlot("Outlier distances (all models)", "Hamming distance to the group's mode", "images", ss, nil)
		if err != nil {
			return err
		}
		if err := SavePlot(dir, Figure{Name: "outlier-distances", Order: 11,
			Caption: "Histogram of the distance of each outlier (d >= 1) to its group's mode, pooled over models, per hash kind."}, p); err != nil {
			return err
		}
	}
	if drift == nil {
		return nil
	}
	// Drift: mean distance to exact per profile (pooled over models), one curve per scheme.
	var profiles []string
	pc, hc, mc, nc := drift.Col("profile"), drift.Col("hash"), drift.Col("mean_distance"), drift.Col("images")
	for _, r := range drift.Rows {
		if !slices.Contains(profiles, r[pc]) {
			profiles = append(profiles, r[pc])
		}
	}
	ss = nil
	for _, spec := range specs {
		scheme := fingerprint.ImageScheme(spec.Kind, spec.Size).String()
		s := Series{Name: shortScheme(scheme)}
		for i, prof := range profiles {
			var sum, n float64
			for ri, r := range drift.Rows {
				if r[pc] == prof && r[hc] == scheme {
					mean, _ := drift.Float(ri, drift.Columns[mc])
					cnt, _ := drift.Float(ri, drift.Columns[nc])
					sum += mean * cnt
					n += cnt
				}
			}
			if n > 0 {
				s.X = append(s.X, float64(i))
				s.Y = append(s.Y, sum/n)
			}
		}
		ss = append(ss, s)
	}
	p, err := LinePlot("Drift per profile (simulated hardware) vs exact", "profile (simulated hardware)",
		"mean Hamming distance to exact", ss, profiles)
	if err != nil {
		return err
	}
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 0.1)
	p.Legend.Left = false
	return SavePlot(dir, Figure{Name: "drift", Order: 12,
		Caption: "Mean Hamming distance of each image's hash to the exact profile's hash of the same task, pooled over models. " +
			"Profiles are simulated hardware: package tensor imitates each GPU generation's numerics on this CPU."}, p)
}
