package study

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// reportPage is report.html: one self-contained file (no scripts, no external resources),
// tables as HTML tables, plots as inline SVG. It is parsed on first use, not at package
// initialisation (every genquorum command links this package).
var reportPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"join": func(s []string) string { return strings.Join(s, " ") },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>genquorum study report</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: right; }
th { background: #eee; }
td:first-child, td:nth-child(2) { text-align: left; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; }
code, pre { background: #f4f4f4; }
pre { padding: 0.5em; white-space: pre-wrap; }
.note { color: #555; font-size: 0.9em; max-width: 60em; }
</style>
</head>
<body>
<h1>genquorum study report</h1>
<p>Directory <code>{{.Dir}}</code>, written {{.Written}}.
Dataset: <span id="entries">{{.Entries}}</span> artifacts in <code>manifest.jsonl</code>,
dataset digest (SHA-256 of the manifest) <code id="dataset-digest">{{.Digest}}</code>.
Anyone can re-check it with <code>genquorum study check DIR</code>.</p>

<h2>Runs</h2>
<table id="runs">
<tr><th>study</th><th>command</th><th>started (UTC)</th><th>versions</th></tr>
{{range .Runs}}<tr><td>{{.Study}}</td><td><code>{{join .Command}}</code></td><td>{{.Started.Format "2006-01-02 15:04:05"}}</td><td>{{.GoVersion}}, {{.Module}}{{if .VCS}} ({{.VCS}}){{end}}, {{.OSArch}}, {{.CPUs}} CPUs, {{.Workers}} workers</td></tr>
{{end}}</table>

<h2>Tables</h2>
{{range .Tables}}<section class="table" id="table-{{.Name}}">
<h3>{{.Title}}</h3>
<table>
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
<p class="note">Files: <code>tables/{{.Name}}.tsv</code>, <code>.json</code>, <code>.md</code>.</p>
</section>
{{end}}
<h2>Plots</h2>
{{range .Figures}}<figure id="plot-{{.Name}}">
{{.SVG}}
<figcaption>{{.Caption}} (<code>plots/{{.Name}}.svg</code>, <code>.png</code>)</figcaption>
</figure>
{{end}}
</body>
</html>
`))
})

type reportFigure struct {
	Figure
	SVG template.HTML
}

// WriteReport (re)writes report.html in dir from the runs, tables and plots it holds.
func WriteReport(dir string) error {
	runs, err := ReadRuns(dir)
	if err != nil {
		return err
	}
	tables, err := ReadTables(dir)
	if err != nil {
		return err
	}
	figs, err := ReadFigures(dir)
	if err != nil {
		return err
	}
	var rf []reportFigure
	for _, f := range figs {
		svg, err := os.ReadFile(filepath.Join(dir, PlotDir, f.Name+".svg"))
		if err != nil {
			return fmt.Errorf("study: report: %w", err)
		}
		// The SVG is our own (gonum/plot's output), embedded as markup from its <svg> element on.
		if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
			svg = svg[i:]
		}
		rf = append(rf, reportFigure{f, template.HTML(svg)})
	}
	digest, err := DatasetDigest(dir)
	if err != nil {
		return err
	}
	ds, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	var b bytes.Buffer
	err = reportPage().Execute(&b, map[string]any{
		"Dir": dir, "Written": time.Now().UTC().Format(time.RFC3339), "Digest": digest,
		"Entries": bytes.Count(ds, []byte("\n")), "Runs": runs, "Tables": tables, "Figures": rf,
	})
	if err != nil {
		return fmt.Errorf("study: report: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, ReportFile), b.Bytes())
}
