package study

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
)

// TestRemoteImageEngineInTable1: table1 runs the built-in base model under two simulated
// profiles and, through an a1111 spec (as node --engine takes it), genquorum serve's
// handler on the same model: the remote engine's images form one more column of each task's
// group, labelled by its host, recorded with its pinned settings, and rerun by reproduce.
func TestRemoteImageEngineInTable1(t *testing.T) {
	cfg := tinyImageConfig(t, 1, 2)
	base := cfg.Models[0]
	s, err := server.New(server.Config{Image: base.Engine.(*diffusion.Engine)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	spec := "base=a1111:" + ts.URL + "?digest=" + base.Ref.Digest.String()
	rs, err := OpenRemote(t.Context(), "image", spec)
	if err != nil {
		t.Fatal(err)
	}
	label := "remote@" + strings.TrimPrefix(ts.URL, "http://")
	if len(rs) != 1 || rs[0].Label != label {
		t.Fatalf("remote engines %+v, want label %s", rs, label)
	}
	if _, err := OpenRemote(t.Context(), "text", spec); err == nil {
		t.Error("an image engine was accepted for a text study")
	}
	cfg.Models = append(cfg.Models, RemoteImageModels(rs)...)
	dir := t.TempDir()
	runTable1(t, dir, false, cfg)

	ds, err := OpenDataset(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	entries := ds.Entries("table1")
	ds.Close()
	if len(entries) != 6 { // 2 seeds x (exact, hopper-bf16, remote)
		t.Fatalf("%d entries, want 6", len(entries))
	}
	exact := map[uint64]Entry{}
	for _, e := range entries {
		if e.Task.Profile == "exact" {
			exact[e.Task.Seed] = e
		}
	}
	remotes := 0
	for _, e := range entries {
		if e.Task.Profile != label {
			continue
		}
		remotes++
		if !strings.HasPrefix(e.Task.Engine, "remote/a1111:base") || e.Task.Settings["pinned.randn_source"] == "" {
			t.Errorf("remote entry engine %q settings %v", e.Task.Engine, e.Task.Settings)
		}
		// genquorum serve runs the same model under exact: the same image as the local exact run.
		if x := exact[e.Task.Seed]; x.Fingerprints["image:average_hash/8"] != e.Fingerprints["image:average_hash/8"] || x.Digest != e.Digest {
			t.Errorf("seed %d: remote image %s, local exact %s", e.Task.Seed, e.Digest, x.Digest)
		}
	}
	if remotes != 2 {
		t.Fatalf("%d remote entries, want 2", remotes)
	}
	tb, err := ReadTable(dir, "table1")
	if err != nil {
		t.Fatal(err)
	}
	// One model (the remote engine serves base under base's digest): 6 images in 2 groups.
	if len(tb.Rows) != 2 || tb.Rows[0][tb.Col("images")] != "6" || tb.Rows[0][tb.Col("groups")] != "2" {
		t.Fatalf("table1 rows %v", tb.Rows)
	}
	checkReproduces(t, dir, ReproduceOptions{Remote: rs})
	// Without the engine, reproduce says which one it needs.
	rep, _ := Reproduce(t.Context(), dir, ReproduceOptions{})
	needs := 0
	for _, x := range rep {
		if x.Err != nil && strings.Contains(x.Err.Error(), "give --engine for model base") {
			needs++
		}
	}
	if needs != 2 {
		t.Errorf("%d entries asked for --engine, want 2: %+v", needs, rep)
	}
}

// TestRemoteTextEngineInTable2: table2 with a llamacpp spec on genquorum serve's handler of
// the same GGUF: greedy outputs of the remote engine join the local profiles' rows (and
// agree), beam search, which no remote protocol offers, leaves the remote column out.
func TestRemoteTextEngineInTable2(t *testing.T) {
	const path = "../testdata/llamacpp/models/tiny-llama-a-q8_0.gguf"
	models, err := LoadTextModels(path)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := llm.Open(path, llm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{LLMs: []*llm.Engine{eng}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	rs, err := OpenRemote(t.Context(), "text", "tiny-llama-a-q8_0=llamacpp:"+ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	decs, err := DecodingsByName("greedy-30", "beam5-30")
	if err != nil {
		t.Fatal(err)
	}
	dir, tb := runTable2(t, TextConfig{Models: models, Profiles: []string{"exact", "cpu-avx2"}, Prompts: DefaultTextPrompts[:2], Decodings: decs, Remote: rs})
	// greedy: 3 columns (exact, cpu-avx2, remote) = 3 pairs per prompt, all agreeing.
	if g := tb.Rows[0]; g[tb.Col("decoding")] != "greedy-30" || g[tb.Col("profile_pairs")] != "6" || g[tb.Col("agree_pct")] != "100.00" {
		t.Errorf("greedy row %v", g)
	}
	// beam: the remote engine gives none, 1 pair per prompt.
	if b := tb.Rows[1]; b[tb.Col("decoding")] != "beam5-30" || b[tb.Col("profile_pairs")] != "2" {
		t.Errorf("beam row %v", b)
	}
	pairs, err := ReadTable(dir, "table2-pairs")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pairs.Markdown()), "remote@") {
		t.Errorf("pairs table has no remote column:\n%s", pairs.Markdown())
	}
	checkReproduces(t, dir, ReproduceOptions{Remote: rs})
}
