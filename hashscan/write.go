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
