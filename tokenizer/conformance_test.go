package tokenizer

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/gguf"
)

const refDir = "../testdata/llamacpp/"

var vocabNames = []string{"llama-spm", "gpt-2", "deepseek-coder"}

var (
	loadOnce sync.Once
	loaded   map[string]*Tokenizer
	loadErr  error
)

// vocabs loads the three reference vocabularies once per test binary.
func vocabs(tb testing.TB) map[string]*Tokenizer {
	tb.Helper()
	loadOnce.Do(func() {
		loaded = map[string]*Tokenizer{}
		for _, name := range vocabNames {
			tok, err := openVocab(name)
			if err != nil {
				loadErr = err
				return
			}
			loaded[name] = tok
		}
	})
	if loadErr != nil {
		tb.Fatal(loadErr)
	}
	return loaded
}

func openVocab(name string) (*Tokenizer, error) {
	f, err := gguf.Open(refDir + "vocab/ggml-vocab-" + name + ".gguf")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return FromGGUF(f)
}

func loadVocab(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	tok, err := openVocab(name)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// readTSV returns the rows of a reference TSV file as maps from column name to field.
func readTSV(tb testing.TB, path string) []map[string]string {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var header []string
	var rows []map[string]string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = fields
			continue
		}
		if len(fields) != len(header) {
			tb.Fatalf("%s: row %d has %d fields, want %d", path, len(rows)+2, len(fields), len(header))
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = fields[i]
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

func parseIDs(tb testing.TB, s string) []int32 {
	tb.Helper()
	var ids []int32
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			tb.Fatalf("bad id %q", f)
		}
		ids = append(ids, int32(v))
	}
	return ids
}

func jsonString(tb testing.TB, s string) string {
	tb.Helper()
	var v string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("bad JSON string %s: %v", s, err)
	}
	return v
}

// TestTokensTSV checks Encode against every row of tokens.tsv (llama.cpp b4748 llama_tokenize).
func TestTokensTSV(t *testing.T) {
	toks := vocabs(t)
	rows := readTSV(t, refDir+"tokens.tsv")
	pass := map[string]int{}
	total := map[string]int{}
	for i, row := range rows {
		v := row["vocab"]
		tok := toks[v]
		text := jsonString(t, row["text"])
		want := parseIDs(t, row["ids"])
		got := tok.Encode(text, row["add_bos"] == "1", row["parse_special"] == "1")
		total[v]++
		if slices.Equal(got, want) {
			pass[v]++
			continue
		}
		t.Errorf("tokens.tsv line %d: %s Encode(%s, add_bos=%s, parse_special=%s) = %v, want %v",
			i+2, v, row["text"], row["add_bos"], row["parse_special"], got, want)
	}
	for _, v := range vocabNames {
		t.Logf("tokens.tsv %-15s %d/%d rows equal", v, pass[v], total[v])
	}
	if len(rows) != 2328 {
		t.Errorf("tokens.tsv has %d rows, want 2328", len(rows))
	}
}

// TestDetokTSV checks Pieces and Decode against every row of detok.tsv.
func TestDetokTSV(t *testing.T) {
	toks := vocabs(t)
	rows := readTSV(t, refDir+"detok.tsv")
	pass := map[string]int{}
	total := map[string]int{}
	for i, row := range rows {
		v := row["vocab"]
		tok := toks[v]
		ids := parseIDs(t, row["ids"])
		want, err := hex.DecodeString(row["text_hex"])
		if err != nil {
			t.Fatal(err)
		}
		special := row["special"] == "1"
		var got string
		switch row["fn"] {
		case "pieces":
			got, err = tok.Pieces(ids, special)
		case "detokenize":
			got, err = tok.Decode(ids, false, special)
		default:
			t.Fatalf("line %d: unknown fn %q", i+2, row["fn"])
		}
		key := v + "/" + row["fn"]
		total[key]++
		if err == nil && got == string(want) {
			pass[key]++
			continue
		}
		t.Errorf("detok.tsv line %d: %s %s(%v, special=%v) = %q (err %v), want %q",
			i+2, v, row["fn"], ids, special, got, err, want)
	}
	for _, v := range vocabNames {
		for _, fn := range []string{"pieces", "detokenize"} {
			t.Logf("detok.tsv %-15s %-10s %d/%d rows equal", v, fn, pass[v+"/"+fn], total[v+"/"+fn])
		}
	}
	if len(rows) != 5016 {
		t.Errorf("detok.tsv has %d rows, want 5016", len(rows))
	}
}
