package report

import (
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
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// curveColors are distinguishable on screen and in grey print (Okabe-Ito palette).
var curveColors = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 0, 0, 255},
}

var ruleTitles = map[string]string{
	"majority":      "(a) majority (> n/2)",
	"supermajority": "(b) super-majority (> 2n/3)",
}

// panel builds one Figure 3 panel over tolerance, one curve per verifier count, for the
// rows of one rule: P(correct verdict) in percent, or with failure set, log10(1-P), which
// separates the curves that crowd near 100%.
func panel(rule string, rows []Row, failure bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = ruleTitles[rule]
	p.X.Label.Text = "tolerance (Hamming distance)"
	p.Y.Label.Text = "P(correct verdict) (%)"
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.YOffs = vg.Millimeter * 2
	if failure {
		p.Title.Text = ""
		p.Y.Label.Text = "1 - P (log scale)"
		p.Y.Tick.Marker = powerTicks{}
		p.Legend.Top = true
	}
	p.Add(plotter.NewGrid())
	var ns, tols []int
	for _, r := range rows {
		if !slices.Contains(ns, r.N) {
			ns = append(ns, r.N)
		}
		if !slices.Contains(tols, *r.Tolerance) {
			tols = append(tols, *r.Tolerance)
		}
	}
	var ticks []plot.Tick
	for _, t := range tols {
		ticks = append(ticks, plot.Tick{Value: float64(t), Label: fmt.Sprint(t)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Padding = vg.Millimeter * 4
	if !failure {
		p.Y.Max = 100
	}
	for i, n := range ns {
		var xys plotter.XYs
		for _, r := range rows {
			switch {
			case r.N != n:
			case !failure:
				xys = append(xys, plotter.XY{X: float64(*r.Tolerance), Y: 100 * r.Probability})
			case r.Log10Failure != nil: // no point where 1-P = 0 (p = 1)
				xys = append(xys, plotter.XY{X: float64(*r.Tolerance), Y: *r.Log10Failure})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		c := curveColors[i%len(curveColors)]
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(fmt.Sprintf("n = %d (need %d)", n, rows[slices.IndexFunc(rows, func(r Row) bool { return r.N == n })].Need), line, points)
	}
	return p, nil
}

// powerTicks labels a log10 axis with powers of ten: a major tick at every integer, or every
// second, third... one when the range is wide.
type powerTicks struct{}

func (powerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := max(1, math.Ceil((math.Ceil(hi)-math.Floor(lo))/8))
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		t := plot.Tick{Value: e}
		if math.Mod(e, step) == 0 {
			t.Label = fmt.Sprintf("1e%d", int(e))
			if e == 0 {
				t.Label = "1"
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// Plot draws one column per rule to path (.svg or .png): P(correct verdict) in
// percent on top, 1-P on a log scale below.
func Plot(path string, rows []Row) error {
	var rules []string
	for _, r := range rows {
		if r.Tolerance == nil {
			return fmt.Errorf("odds: plot: a row without a tolerance (give p per tolerance)")
		}
		if !slices.Contains(rules, r.Rule) {
			rules = append(rules, r.Rule)
		}
	}
	panels := make([][]*plot.Plot, 2)
	for _, rule := range rules {
		var sub []Row
		for _, r := range rows {
			if r.Rule == rule {
				sub = append(sub, r)
			}
		}
		for i, failure := range []bool{false, true} {
			p, err := panel(rule, sub, failure)
			if err != nil {
				return fmt.Errorf("odds: plot: %w", err)
			}
			panels[i] = append(panels[i], p)
		}
	}
	w, h := vg.Length(len(rules))*12*vg.Centimeter, 17*vg.Centimeter
	var c vg.CanvasWriterTo
	if strings.ToLower(filepath.Ext(path)) == ".svg" {
		c = vgsvg.New(w, h)
	} else {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))}
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: len(rules), PadX: vg.Centimeter, PadY: vg.Centimeter / 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(panels, tiles, dc)
	for i, row := range panels {
		for j, p := range row {
			p.Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("odds: plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("odds: plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("odds: plot %s: %w", path, err)
	}
	return nil
}
