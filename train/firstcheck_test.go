package train

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSegmentFirstCheckCost measures what a segment check costs in a process that has not
// trained (a verifier node): the parent trains the network tests' task (built-in base, TI,
// 12 steps, K = 4) and writes its series and checkpoint states to files; a child process (this
// test binary again) reads them and checks segment 1 on the trainer's profile three times,
// the third after 20 s idle, printing each check's process CPU time and minor page faults.
// Run with GENQUORUM_MEASURE=1 (about a minute on the loaded machine); the checks must pass.
func TestSegmentFirstCheckCost(t *testing.T) {
	if dir := os.Getenv("GENQUORUM_SEGMENT_CHILD"); dir != "" {
		firstCheckChild(t, dir)
		return
	}
	if os.Getenv("GENQUORUM_MEASURE") == "" {
		t.Skip("a measurement: set GENQUORUM_MEASURE=1")
	}
	if _, _, ok := processCPU(); !ok {
		t.Skip("no process CPU times on this system")
	}
	e, task := costSetup(t, 3)
	c0, f0, _ := processCPU()
	series, states, err := e.TrainSeries(context.Background(), task, "")
	if err != nil {
		t.Fatal(err)
	}
	c1, f1, _ := processCPU()
	t.Logf("training (this process's first): %.3f s CPU, %d minor faults", (c1 - c0).Seconds(), f1-f0)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "series"), series, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state1"), states[1], 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestSegmentFirstCheckCost$", "-test.v")
	cmd.Env = append(os.Environ(), "GENQUORUM_SEGMENT_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "check ") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

func firstCheckChild(t *testing.T, dir string) {
	series, err := os.ReadFile(filepath.Join(dir, "series"))
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(dir, "state1"))
	if err != nil {
		t.Fatal(err)
	}
	e, task := costSetup(t, 3)
	for i, what := range []string{"first", "second", "after 20 s idle"} {
		if i == 2 {
			time.Sleep(20 * time.Second) // idle, as a node between checks: the runtime returns memory
		}
		c0, f0, _ := processCPU()
		ok, reason, err := e.VerifySegment(context.Background(), task, "exact", series, 1, state)
		if err != nil || !ok {
			t.Fatalf("check %s: ok %v %q %v", what, ok, reason, err)
		}
		c1, f1, _ := processCPU()
		fmt.Printf("check %s: %.3f s CPU, %d minor faults\n", what, (c1 - c0).Seconds(), f1-f0)
	}
}
