package hashscan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/genquorum/genquorum/imghash"
)

// Row is one output row of `genquorum hash` in JSON form (the columns of imagehash
// conformance vectors).
type Row struct {
	File     string `json:"file"`
	HashName string `json:"hash_name"`
	Size     int    `json:"hash_size_or_binbits"`
	Hex      string `json:"hex"`
}

// WriteRow writes one hash of file as a TSV row (file, hash_name, hash_size_or_binbits, hex;
// the file name escaped by TSVField) or, with format "json", as a JSON line of Row.
func WriteRow(w io.Writer, format, file string, s imghash.Spec, h imghash.Hash) error {
	if format == "json" {
		b, err := json.Marshal(Row{file, s.Kind.String(), s.Size, h.String()})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "%s\t%v\t%d\t%v\n", TSVField(file), s.Kind, s.Size, h)
	return err
}

// TSVField escapes the characters that would break a TSV row (tab, newline, backslash) the
// way Python's csv-free TSV readers expect none: as \t, \n, \r and \\.
func TSVField(s string) string {
	if !strings.ContainsAny(s, "\t\n\r\\") {
		return s
	}
	return strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// ResultsHeader is the TSV header WriteResults writes.
const ResultsHeader = "file\thash_name\thash_size_or_binbits\thex\n"

// WriteResults writes the hashes of every result without an error, one row per spec in the
// order of specs (WriteRow), after ResultsHeader in format "tsv". Results with Err set are
// skipped: the caller reports them.
func WriteResults(w io.Writer, format string, res []Result, specs []imghash.Spec) error {
	if format == "tsv" {
		if _, err := io.WriteString(w, ResultsHeader); err != nil {
			return err
		}
	}
	for _, r := range res {
		if r.Err != nil {
			continue
		}
		for i, s := range specs {
			if err := WriteRow(w, format, r.File, s, r.Hashes[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Distance is one row of `genquorum compare`: the Hamming distance between two files'
// hashes of one spec (imagehash's hash1 - hash2), out of Bits.
type Distance struct {
	HashName string `json:"hash_name"`
	Size     int    `json:"hash_size_or_binbits"`
	Distance int    `json:"hamming_distance"`
	Bits     int    `json:"bits"`
}

// Distances returns, per spec, the distance between a[i] and b[i], the hashes of one spec
// computed for two images (HashFile). It fails if a hash's width does not match its spec's.
func Distances(specs []imghash.Spec, a, b []imghash.Hash) ([]Distance, error) {
	ds := make([]Distance, len(specs))
	for i, s := range specs {
		d, err := a[i].Distance(b[i])
		if err != nil {
			return nil, fmt.Errorf("hashscan: %v: %w", s, err)
		}
		ds[i] = Distance{s.Kind.String(), s.Size, d, s.Bits()}
	}
	return ds, nil
}

// DistancesHeader is the TSV header WriteDistances writes.
const DistancesHeader = "hash_name\thash_size_or_binbits\thamming_distance\tbits\n"

// WriteDistances writes ds as TSV after DistancesHeader or, with format "json", as JSON
// Lines of Distance (the columns of imagehash conformance pairs).
func WriteDistances(w io.Writer, format string, ds []Distance) error {
	if format != "json" {
		if _, err := io.WriteString(w, DistancesHeader); err != nil {
			return err
		}
	}
	for _, d := range ds {
		if format == "json" {
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(w, "%s\t%d\t%d\t%d\n", d.HashName, d.Size, d.Distance, d.Bits); err != nil {
			return err
		}
	}
	return nil
}
