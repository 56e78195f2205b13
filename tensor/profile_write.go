package tensor

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// ProfileRow is a Profile as `genquorum profiles --format json` prints it, one JSON line each:
// its numeric choices spelled as their String forms.
type ProfileRow struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Lanes       int    `json:"lanes"`
	Chunk       int    `json:"chunk"`
	Combine     string `json:"combine"`
	FMA         bool   `json:"fma"`
	Input       string `json:"input"`
	Accum       string `json:"accum"`
	Storage     string `json:"storage"`
}

// Row returns p as a ProfileRow.
func (p Profile) Row() ProfileRow {
	return ProfileRow{Name: p.Name, Description: p.Description, Lanes: p.Lanes, Chunk: p.Chunk,
		Combine: p.Combine.String(), FMA: p.FMA, Input: p.Input.String(), Accum: p.Accum.String(), Storage: p.Storage.String()}
}

// WriteProfiles writes profiles for people as an aligned table (format "text": name,
// reduction split, FMA, input, accumulator and storage precision, what it imitates) or as JSON
// Lines of ProfileRow (any other format).
func WriteProfiles(w io.Writer, format string, profiles []Profile) error {
	if format != "text" {
		enc := json.NewEncoder(w)
		for _, p := range profiles {
			if err := enc.Encode(p.Row()); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREDUCTION SPLIT\tFMA\tINPUT\tACCUM\tSTORAGE\tIMITATES")
	for _, p := range profiles {
		fma := "no"
		if p.FMA {
			fma = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Split(), fma, p.Input, p.Accum, p.Storage, p.Description)
	}
	return tw.Flush()
}
