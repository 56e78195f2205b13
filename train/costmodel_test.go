package train

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSegmentCostModel measures what training and checking cost in fresh processes, to fit
// CPU = a + b*steps for each: for N = 12, 24, 48 steps and S = 3, 4 segments (built-in base,
// TI, the network tests' 12 synthetic images, batch 4, K = N/S) one child process (this test
// binary again) trains the task and prints its training's process CPU time (TrainSeries, the
// process's first work), and another reads the series and checkpoint 1's state and checks
// segment 1 (VerifySegment on the trainer's profile) twice, printing each check's CPU time:
// the first is what a verifier node that has done nothing else pays. It logs, per (N, S), the
// first check's CPU over the training's against 1/S, and least-squares fits of a and b.
// GENQUORUM_MEASURE_REPS (default 3) repeats every child; medians are fitted. Run with
// GENQUORUM_MEASURE=1 (several minutes on the loaded machine).
func TestSegmentCostModel(t *testing.T) {
	if mode := os.Getenv("GENQUORUM_COSTMODEL_CHILD"); mode != "" {
		costModelChild(t, mode)
		return
	}
	if os.Getenv("GENQUORUM_MEASURE") == "" {
		t.Skip("a measurement: set GENQUORUM_MEASURE=1")
	}
	if _, _, ok := processCPU(); !ok {
		t.Skip("no process CPU times on this system")
	}
	reps := 3
	if s := os.Getenv("GENQUORUM_MEASURE_REPS"); s != "" {
		var err error
		if reps, err = strconv.Atoi(s); err != nil || reps < 1 {
			t.Fatalf("GENQUORUM_MEASURE_REPS=%q", s)
		}
	}
	child := func(mode, dir string, steps, S int) []float64 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestSegmentCostModel$", "-test.v")
		cmd.Env = append(os.Environ(), "GENQUORUM_COSTMODEL_CHILD="+mode, "GENQUORUM_COSTMODEL_DIR="+dir,
			fmt.Sprintf("GENQUORUM_COSTMODEL_STEPS=%d", steps), fmt.Sprintf("GENQUORUM_COSTMODEL_S=%d", S))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s child: %v\n%s", mode, err, out)
		}
		var cpu []float64
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "cpu-s "); ok {
				v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
				if err != nil {
					t.Fatalf("%s child printed %q", mode, line)
				}
				cpu = append(cpu, v)
			}
		}
		return cpu
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
	}
	var trainPts, firstPts, secondPts [][2]float64 // (steps, median CPU s)
	for _, S := range []int{3, 4} {
		for _, N := range []int{12, 24, 48} {
			var train, first, second []float64
			for range reps {
				dir := t.TempDir()
				train = append(train, child("train", dir, N, S)[0])
				c := child("verify", dir, N, S)
				first, second = append(first, c[0]), append(second, c[1])
			}
			tr, f, s := median(train), median(first), median(second)
			trainPts = append(trainPts, [2]float64{float64(N), tr})
			firstPts = append(firstPts, [2]float64{float64(N / S), f})
			secondPts = append(secondPts, [2]float64{float64(N / S), s})
			t.Logf("N=%d S=%d (K=%d): training %.3f s CPU, first check %.3f s, second %.3f s; first/training %.3f (1/S %.3f), second/training %.3f  [runs: %v %v %v]",
				N, S, N/S, tr, f, s, f/tr, 1/float64(S), s/tr, train, first, second)
		}
	}
	for _, fit := range []struct {
		name string
		pts  [][2]float64
	}{{"training (fresh process)", trainPts}, {"first check (fresh process)", firstPts}, {"second check (same process)", secondPts}} {
		a, b := lineFit(fit.pts)
		t.Logf("%s: CPU = %.0f ms + %.1f ms/step", fit.name, 1000*a, 1000*b)
	}
}

// lineFit returns the least-squares a and b of y = a + b x.
func lineFit(pts [][2]float64) (a, b float64) {
	var sx, sy, sxx, sxy float64
	n := float64(len(pts))
	for _, p := range pts {
		sx += p[0]
		sy += p[1]
		sxx += p[0] * p[0]
		sxy += p[0] * p[1]
	}
	b = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return (sy - b*sx) / n, b
}

// costModelChild trains (mode "train") or checks segment 1 twice (mode "verify") as
// TestSegmentCostModel's child, printing "cpu-s" lines.
func costModelChild(t *testing.T, mode string) {
	dir := os.Getenv("GENQUORUM_COSTMODEL_DIR")
	steps, err1 := strconv.Atoi(os.Getenv("GENQUORUM_COSTMODEL_STEPS"))
	S, err2 := strconv.Atoi(os.Getenv("GENQUORUM_COSTMODEL_S"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	e, task := costSetup(t, S)
	task.Train.Steps, task.Train.Checkpoint = steps, steps/S
	ctx := context.Background()
	switch mode {
	case "train":
		c0, _, _ := processCPU()
		series, states, err := e.TrainSeries(ctx, task, "")
		if err != nil {
			t.Fatal(err)
		}
		c1, _, _ := processCPU()
		fmt.Printf("cpu-s %.4f\n", (c1 - c0).Seconds())
		if err := os.WriteFile(filepath.Join(dir, "series"), series, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "state1"), states[1], 0o644); err != nil {
			t.Fatal(err)
		}
	case "verify":
		series, err := os.ReadFile(filepath.Join(dir, "series"))
		if err != nil {
			t.Fatal(err)
		}
		state, err := os.ReadFile(filepath.Join(dir, "state1"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			c0, _, _ := processCPU()
			ok, reason, err := e.VerifySegment(ctx, task, "exact", series, 1, state)
			if err != nil || !ok {
				t.Fatalf("check: ok %v %q %v", ok, reason, err)
			}
			c1, _, _ := processCPU()
			fmt.Printf("cpu-s %.4f\n", (c1 - c0).Seconds())
		}
	default:
		t.Fatalf("unknown child mode %q", mode)
	}
}
