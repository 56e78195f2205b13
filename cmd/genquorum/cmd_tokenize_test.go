package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

const vocabDir = "../../testdata/llamacpp/vocab/"

// runCLIInput runs the command line in-process with the given stdin.
func runCLIInput(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// TestTokenizeCLIMatchesLlamaCpp feeds every string of tokens.tsv through `genquorum tokenize`
// with each flag combination and compares the output lines with llama.cpp's ids.
func TestTokenizeCLIMatchesLlamaCpp(t *testing.T) {
	fh, err := os.Open("../../testdata/llamacpp/tokens.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	type key struct{ vocab, bos, special string }
	inputs := map[key][]string{}
	wants := map[key][]string{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<22)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		k := key{f[0], f[1], f[2]}
		inputs[k] = append(inputs[k], f[3])
		wants[k] = append(wants[k], f[4])
	}
	if len(inputs) != 12 {
		t.Fatalf("tokens.tsv: %d vocab/flag combinations, want 12", len(inputs))
	}
	for k, in := range inputs {
		args := []string{"tokenize", "--model", vocabDir + "ggml-vocab-" + k.vocab + ".gguf"}
		if k.bos == "0" {
			args = append(args, "--no-bos")
		}
		if k.special == "0" {
			args = append(args, "--no-parse-special")
		}
		stdout, stderr, code := runCLIInput(t, strings.Join(in, "\n")+"\n", args...)
		if code != exitOK {
			t.Errorf("genquorum %v: exit %d, stderr %q", args, code, stderr)
			continue
		}
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(got) != len(wants[k]) {
			t.Errorf("genquorum %v: %d output lines, want %d", args, len(got), len(wants[k]))
			continue
		}
		for i := range got {
			if got[i] != wants[k][i] {
				t.Errorf("genquorum %v: input %s gave %q, want %q", args, in[i], got[i], wants[k][i])
			}
		}
	}
}

// TestDetokenizeCLIMatchesLlamaCpp feeds every id sequence of detok.tsv through
// `genquorum detokenize --hex` with the matching flags and compares the bytes.
func TestDetokenizeCLIMatchesLlamaCpp(t *testing.T) {
	fh, err := os.Open("../../testdata/llamacpp/detok.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	type key struct{ vocab, fn, special string }
	inputs := map[key][]string{}
	wants := map[key][]string{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<22)
	sc.Scan() // header: vocab fn special ids text text_hex source source_text
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		k := key{f[0], f[1], f[2]}
		inputs[k] = append(inputs[k], f[3])
		wants[k] = append(wants[k], f[5])
	}
	if len(inputs) != 12 {
		t.Fatalf("detok.tsv: %d vocab/function/flag combinations, want 12", len(inputs))
	}
	for k, in := range inputs {
		args := []string{"detokenize", "--hex", "--model", vocabDir + "ggml-vocab-" + k.vocab + ".gguf"}
		if k.fn == "pieces" {
			args = append(args, "--pieces")
		}
		if k.special == "0" {
			args = append(args, "--no-special")
		}
		stdout, stderr, code := runCLIInput(t, strings.Join(in, "\n")+"\n", args...)
		if code != exitOK {
			t.Errorf("genquorum %v: exit %d, stderr %q", args, code, stderr)
			continue
		}
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(got) != len(wants[k]) {
			t.Errorf("genquorum %v: %d output lines, want %d", args, len(got), len(wants[k]))
			continue
		}
		for i := range got {
			if got[i] != wants[k][i] {
				t.Errorf("genquorum %v: ids %s gave %s, want %s", args, in[i], got[i], wants[k][i])
			}
		}
	}
}

func TestDetokenizeCLI(t *testing.T) {
	spm := vocabDir + "ggml-vocab-llama-spm.gguf"
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"default", []string{"detokenize", "--model", spm},
			"1 15043 3186\n1 1 29871 22172 29871 2\n\n", "\"<s> Hello world\"\n\"<s><s>  hello </s>\"\n\"\"\n"},
		{"no-special", []string{"detokenize", "--model", spm, "--no-special"},
			"1 15043 3186\n15043 3186\n", "\" Hello world\"\n\"Hello world\"\n"},
		{"pieces", []string{"detokenize", "--model", spm, "--pieces", "--no-special"},
			"15043 3186\n", "\" Hello world\"\n"},
		{"hex keeps invalid utf-8", []string{"detokenize", "--model", spm, "--hex"},
			"232\n", "e5\n"},
		{"invalid utf-8 as json", []string{"detokenize", "--model", spm},
			"232\n", `"\ufffd"` + "\n"},
		{"gpt-2 html characters unescaped", []string{"detokenize", "--model", vocabDir + "ggml-vocab-gpt-2.gguf"},
			"27 50256 29\n", "\"<<|endoftext|>>\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLIInput(t, tt.stdin, tt.args...)
			if code != exitOK || stdout != tt.want {
				t.Errorf("genquorum %v <<< %q = %q (exit %d, stderr %q), want %q", tt.args, tt.stdin, stdout, code, stderr, tt.want)
			}
		})
	}
}

func TestTokenizeCLIErrors(t *testing.T) {
	spm := vocabDir + "ggml-vocab-llama-spm.gguf"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    string
		wantStderr string
	}{
		{"missing model", []string{"tokenize"}, "", exitUsage, "", "--model is required"},
		{"not a gguf file", []string{"tokenize", "--model", "../../testdata/llamacpp/tokens.tsv"}, "", exitError, "", "bad magic"},
		{"no such file", []string{"detokenize", "--model", "no-such.gguf"}, "", exitError, "", "no such file"},
		// A failed line keeps its place in the output (an error marker), so outputs stay aligned.
		{"bad json line", []string{"tokenize", "--model", spm, "--no-bos"}, "\"a\"\nnot json\n\"b\"\n", exitPartial, "263\n!error\n289\n", "line 2: want a JSON string"},
		{"bad id", []string{"detokenize", "--model", spm}, "1\n32000\nx\n", exitPartial, "\"<s>\"\nnull\nnull\n", "line 2: tokenizer: token id 32000 out of range"},
		{"bad id hex", []string{"detokenize", "--model", spm, "--hex"}, "x\n1\n", exitPartial, "!error\n3c733e\n", "line 1: bad token id"},
		// Every line failed: an error (1), not a partial failure (3).
		{"all lines bad", []string{"tokenize", "--model", spm}, "x\ny\n", exitError, "!error\n!error\n", "all 2 input lines failed"},
		{"all ids bad", []string{"detokenize", "--model", spm}, "x\n", exitError, "null\n", "all 1 input lines failed"},
		{"empty input", []string{"tokenize", "--model", spm}, "", exitOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLIInput(t, tt.stdin, tt.args...)
			if code != tt.wantCode || stdout != tt.wantOut || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("genquorum %v <<< %q = %q, exit %d, stderr %q; want %q, exit %d, stderr containing %q",
					tt.args, tt.stdin, stdout, code, stderr, tt.wantOut, tt.wantCode, tt.wantStderr)
			}
		})
	}
}
