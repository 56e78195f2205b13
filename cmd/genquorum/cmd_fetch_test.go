package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

const tinyLlama = "../../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf"

func TestFetchUsage(t *testing.T) {
	id := strings.Repeat("ab", 32)
	for _, args := range [][]string{
		{"fetch", id},                      // no --out
		{"fetch", "xyz", "--out", "f"},     // not a task ID
		{"fetch", id, "--out", "f", "a b"}, // two arguments
	} {
		if _, stderr, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("genquorum %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

func TestFormatIDs(t *testing.T) {
	for _, tt := range []struct {
		ids  []int32
		want string
	}{
		{nil, "\n"},
		{[]int32{7}, "7\n"},
		{[]int32{15043, 3186, 0}, "15043 3186 0\n"},
	} {
		if got := string(formatIDs(tt.ids)); got != tt.want {
			t.Errorf("formatIDs(%v) = %q, want %q", tt.ids, got, tt.want)
		}
	}
}

// TestFetchTextTask runs a text task on the built-in LLM engine (the tiny test model) in a
// devnet with one tamperer, then fetches it with the CLI: the token fingerprint recomputed
// from the fetched ids is the accepted one, the ids render the text with --llm, the ids file
// feeds genquorum detokenize back to the same text, and the tamperer, if tried, is passed over.
func TestFetchTextTask(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator and a network of nodes")
	}
	eng, err := llm.Open(tinyLlama, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reg engine.Registry
	if err := reg.Register(eng); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	nw, err := devnet.Start(ctx, devnet.Options{Dir: filepath.Join(dir, "net"), Engines: &reg, EmptyBlockInterval: 20 * time.Millisecond,
		Nodes: []devnet.NodeSpec{{}, {}, {Behaviour: node.Tamperer}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := nw.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	id, err := nw.Clients[0].Submit(ctx, node.Request{
		Task: engine.Task{Kind: engine.KindText, Model: eng.Models()[0], Prompt: "Once upon a time", Seed: 1,
			Text: &engine.TextParams{Decode: "greedy", MaxTokens: 12}},
		Scheme: fingerprint.TokenScheme, Replicas: 3, Rule: quorum.Majority, Fee: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	tv, err := nw.Clients[0].Wait(ctx, id)
	if err != nil || tv.Status != "accepted" || tv.Support != 3 {
		t.Fatalf("task: %s with support %d, %v; want accepted by 3", tv.Status, tv.Support, err)
	}
	textFile, idsFile := filepath.Join(dir, "text"), filepath.Join(dir, "ids")
	stdout, stderr, code := runCLI(t, "fetch", id.String(), "--rpc", nw.Validator.RPCAddr(),
		"--out", textFile, "--ids-out", idsFile, "--llm", tinyLlama)
	if code != exitOK {
		t.Fatalf("fetch: exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "token fingerprint "+tv.Value+" matches") || !strings.Contains(stdout, "ids render the text") {
		t.Errorf("fetch output %q does not report the matching fingerprint %s and the text check", stdout, tv.Value)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(line, "fetch:") && !strings.Contains(line, "token ids hash to the text:tokens fingerprint") {
			t.Errorf("fetch stderr line %q; want only tamperers passed over for their token ids", line)
		}
	}
	t.Logf("fetch: %s%s", stdout, stderr)
	text, err := os.ReadFile(textFile)
	if err != nil {
		t.Fatal(err)
	}
	idsText, err := os.ReadFile(idsFile)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int32
	for _, f := range strings.Fields(string(idsText)) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			t.Fatalf("ids file %q: %v", idsText, err)
		}
		ids = append(ids, int32(v))
	}
	if got := hex.EncodeToString(fingerprint.OfTokens(ids)); len(ids) == 0 || got != tv.Value {
		t.Errorf("ids file holds %d ids hashing to %s, want the accepted %s", len(ids), got, tv.Value)
	}
	// The ids file is genquorum detokenize's input; --pieces renders what the engine wrote
	// (--hex: the exact bytes, even where a byte token leaves invalid UTF-8).
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"detokenize", "--model", tinyLlama, "--pieces", "--hex"}, bytes.NewReader(idsText), &out, &errb); code != exitOK {
		t.Fatalf("detokenize: exit %d: %s", code, errb.String())
	}
	if got := strings.TrimSpace(out.String()); got != hex.EncodeToString(text) {
		t.Errorf("detokenize --pieces --hex of the ids file = %s, fetched text %x (%q)", got, text, text)
	}
}
