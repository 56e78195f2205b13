package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Table is one result table of a study. Cells are formatted text (numbers as the study
// rounds them); Columns name them. WriteTable stores it as TSV, JSON and Markdown.
type Table struct {
	Name    string     `json:"name"`  // file stem under tables/, e.g. "table1"
	Title   string     `json:"title"` // one line, for the report
	Note    string     `json:"note,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Order   int        `json:"order"` // position in the report (smaller first)
}

// Col returns the index of column name, or -1.
func (t *Table) Col(name string) int { return slices.Index(t.Columns, name) }

// Float returns the value of column name in row i as a number.
func (t *Table) Float(i int, name string) (float64, error) {
	c := t.Col(name)
	if c < 0 || i >= len(t.Rows) || c >= len(t.Rows[i]) {
		return 0, fmt.Errorf("study: table %s: no column %q in row %d", t.Name, name, i)
	}
	v, err := strconv.ParseFloat(t.Rows[i][c], 64)
	if err != nil {
		return 0, fmt.Errorf("study: table %s, row %d, %s: %w", t.Name, i, name, err)
	}
	return v, nil
}

// TSV returns the table as tab-separated values with a header line.
func (t *Table) TSV() []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(t.Columns, "\t") + "\n")
	for _, r := range t.Rows {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.Bytes()
}

// Markdown returns the table as a GitHub Markdown table, with its title and note.
func (t *Table) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### %s\n\n", t.Title)
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteString("\n")
	}
	row(t.Columns)
	b.WriteString("|" + strings.Repeat("---|", len(t.Columns)) + "\n")
	for _, r := range t.Rows {
		row(r)
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", t.Note)
	}
	return b.Bytes()
}

// WriteTable writes t as tables/<name>.tsv, .json and .md under dir, each atomically.
func WriteTable(dir string, t *Table) error {
	js, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("study: %w", err)
	}
	base := filepath.Join(dir, TableDir, t.Name)
	for _, f := range []struct {
		ext  string
		data []byte
	}{{".tsv", t.TSV()}, {".json", append(js, '\n')}, {".md", t.Markdown()}} {
		if err := WriteFileAtomic(base+f.ext, f.data); err != nil {
			return err
		}
	}
	return nil
}

// ReadTable reads tables/<name>.json under dir.
func ReadTable(dir, name string) (*Table, error) {
	data, err := os.ReadFile(filepath.Join(dir, TableDir, name+".json"))
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	var t Table
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("study: table %s: %w", name, err)
	}
	return &t, nil
}

// ReadTables reads every table under dir/tables, in report order (Order, then name).
func ReadTables(dir string) ([]*Table, error) {
	files, err := filepath.Glob(filepath.Join(dir, TableDir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Table
	for _, f := range files {
		t, err := ReadTable(dir, strings.TrimSuffix(filepath.Base(f), ".json"))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b *Table) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
func itoa(v int) string   { return strconv.Itoa(v) }
