package demo

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// TextPrompts are the demo's text prompts (the models are tiny and random: the point is that
// honest machines reproduce each other's tokens, not that the text reads well).
var TextPrompts = []string{
	"Once upon a time", "The capital of France is", "def fibonacci(n):", "In a hole in the ground there lived",
	"The quick brown fox", "Reproducibility matters because", "A photo of a bag", "Consensus among machines",
}

// Mix interleaves workloads for the demo: one task in share is image, the others cycle over
// text, for share*len(text) workloads in all (share >= 1, text non-empty).
func Mix(image Workload, text []Workload, share int) []Workload {
	var w []Workload
	for i := 0; len(w) < share*len(text); i++ {
		if i%share == 0 {
			w = append(w, image)
		} else {
			w = append(w, text[(i-i/share-1)%len(text)])
		}
	}
	return w
}

// WriteSummary writes s for people: tasks, network, speed, each cheater caught or not, and the
// honest nodes penalised.
func WriteSummary(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "\ntasks      %d submitted, %d settled: %d accepted, %d no verdict (%d needed a second round)\n",
		s.TasksSubmitted, s.TasksSettled, s.Accepted, s.NoVerdict, s.SecondRounds)
	fmt.Fprintf(w, "network    %d nodes, %d replicas per task, %s, %d blocks in %.1f s\n", s.Nodes, s.Replicas, s.Rule, s.Blocks, s.ElapsedS)
	fmt.Fprintf(w, "speed      %.2f tasks/s, latency p50 %.0f ms, p95 %.0f ms (submit to verdict, engine time included)\n",
		s.TasksPerS, s.LatencyMsP50, s.LatencyMsP95)
	for _, k := range slices.Sorted(maps.Keys(s.HonestByKind)) {
		h := s.HonestByKind[k]
		fmt.Fprintf(w, "honest     %s tasks: %d outliers in %d honest executor slots\n", k, h.Outliers, h.Slots)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\ncheater\tbehaviour\tassigned\tslashed\tcaught\tcaught by (tasks)\texpected check")
	var notes []string
	for _, c := range s.Cheaters {
		caught := "yes"
		if !c.Caught {
			caught = "NO"
			if c.Note != "" {
				notes = append(notes, fmt.Sprintf("%s: %s", c.Behaviour, c.Note))
			}
		}
		var by []string
		counts := map[string]uint64{"outlier": c.Outliers, "no-commit": c.NoCommit, "no-reveal": c.NoReveal,
			"copied-commitment": c.Copied, "artifact-mismatch": c.ArtifactMismatch}
		for _, b := range c.CaughtBy {
			by = append(by, fmt.Sprintf("%s (%d)", b, counts[b]))
		}
		expected := c.Expected
		if !c.Right {
			expected += " (NOT the reason)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", c.Node, c.Behaviour, c.Assigned, c.Slashed, caught,
			strings.Join(by, ", "), expected)
		if c.Caught && c.Note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", c.Behaviour, c.Note))
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "  note, %s\n", n)
	}
	if len(s.HonestPenalised) == 0 {
		fmt.Fprintln(w, "\nhonest nodes penalised: none")
		return
	}
	fmt.Fprintln(w, "\nhonest nodes penalised (profile drift flipped a near-tied token, or a missed window):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tprofile\toutliers\tno commit\tno reveal\tslashed")
	for _, p := range s.HonestPenalised {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", p.Node, p.Profile, p.Outliers, p.NoCommit, p.NoReveal, p.Slashed)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nhonest slashes by task kind (every round, from the blocks):")
	for _, k := range slices.Sorted(maps.Keys(s.HonestSlashesByKind)) {
		var rs []string
		for _, r := range slices.Sorted(maps.Keys(s.HonestSlashesByKind[k])) {
			rs = append(rs, fmt.Sprintf("%s %d", r, s.HonestSlashesByKind[k][r]))
		}
		kind := k
		if kind == "" {
			kind = "(no task of the run)"
		}
		fmt.Fprintf(w, "  %s: %s\n", kind, strings.Join(rs, ", "))
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\ttask\tkind\tround\treason\tamount")
	for _, p := range s.HonestPenalised {
		for _, x := range p.Slashes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\n", p.Node, x.Task[:min(16, len(x.Task))], x.Kind, x.Round, x.Reason, x.Amount)
		}
	}
	tw.Flush()
}
