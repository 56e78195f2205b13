package demo

import (
	"bytes"
	"strings"
	"testing"
)

func TestMix(t *testing.T) {
	img := Workload{Prompts: []string{"img"}}
	text := []Workload{{Prompts: []string{"a"}}, {Prompts: []string{"b"}}}
	var got []string
	for _, w := range Mix(img, text, 3) {
		got = append(got, w.Prompts[0])
	}
	// One in three is the image workload; the text workloads alternate in between.
	if want := "img a b img a b"; strings.Join(got, " ") != want {
		t.Errorf("Mix = %v, want %s", got, want)
	}
	if n := len(Mix(img, text, 1)); n != 2 {
		t.Errorf("Mix with share 1: %d workloads, want 2 (all image)", n)
	}
}

func TestWriteSummary(t *testing.T) {
	s := &Summary{TasksSubmitted: 3, TasksSettled: 3, Accepted: 2, NoVerdict: 1, Nodes: 4, Replicas: 3, Rule: "majority",
		Cheaters: []Cheater{{Node: "c1", Behaviour: "lazy", Assigned: 2, Slashed: 10, Caught: false, Note: "never drawn"}}}
	var buf bytes.Buffer
	WriteSummary(&buf, s)
	for _, want := range []string{"3 submitted, 3 settled: 2 accepted, 1 no verdict", "c1       lazy       2         10       NO", "note, lazy: never drawn",
		"honest nodes penalised: none"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestWriteSummaryHonestSlashes: an honest node's slashes are listed with their task, kind,
// round and reason, and counted by kind.
func TestWriteSummaryHonestSlashes(t *testing.T) {
	s := &Summary{HonestPenalised: []Penalised{{Node: "h1", Profile: "cpu-avx2", Outliers: 1, Slashed: 7,
		Slashes: []Slash{{Task: "00112233445566778899", Kind: "image", Round: 1, Reason: "outlier", Amount: 7}}}},
		HonestSlashesByKind: map[string]map[string]int{"image": {"outlier": 1}}}
	var buf bytes.Buffer
	WriteSummary(&buf, s)
	for _, want := range []string{"  image: outlier 1\n", "h1    0011223344556677  image  1      outlier  7"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestOpenTextModels(t *testing.T) {
	reg, refs, err := OpenTextModels("../testdata/llamacpp/models")
	if err != nil || len(refs) != 3 || len(reg.Models()) != 3 {
		t.Fatalf("OpenTextModels: %v, %d models", err, len(refs))
	}
	if _, _, err := OpenTextModels(t.TempDir()); err == nil || !strings.Contains(err.Error(), "GENQUORUM_LLM_MODELS") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestOutcomeCounts pins how the guesser's note counts its outcomes.
func TestOutcomeCounts(t *testing.T) {
	for _, c := range []struct {
		in   map[string][]string
		want string
	}{
		{nil, "none settled"},
		{map[string][]string{"text": {"agreed", "undecided", "agreed"}, "image": {"undecided"}},
			"image: 1 undecided; text: 2 agreed, 1 undecided"},
	} {
		if got := outcomeCounts(c.in); got != c.want {
			t.Errorf("outcomeCounts(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
