package devnet

import (
	"fmt"
	"testing"
)

// TestBenchSmall runs the engine-free benchmark on a few tasks: every task settles, and the
// verdict lands within 3 blocks of the last reveal.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator")
	}
	r, err := Bench(t.Context(), BenchOptions{Dir: t.TempDir(), Tasks: 50, Latency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Settled != 50 {
		t.Errorf("settled %d of 50 tasks", r.Settled)
	}
	if r.VerdictBlocks > 3 || r.LatencySamples != 3 {
		t.Errorf("verdict %d blocks after the last reveal (%d samples), want <= 3", r.VerdictBlocks, r.LatencySamples)
	}
	t.Logf("%+v", *r)
}

// BenchmarkBench runs the throughput run on one in-process validator and reports settled
// tasks per second (use -cpuprofile to see where the time goes).
func BenchmarkBench(b *testing.B) {
	for _, tasks := range []int{500, 2000} {
		b.Run(fmt.Sprintf("validators=1/tasks=%d", tasks), func(b *testing.B) {
			var last *BenchResult
			for b.Loop() {
				r, err := Bench(b.Context(), BenchOptions{Dir: b.TempDir(), Tasks: tasks})
				if err != nil {
					b.Fatal(err)
				}
				if r.Settled != tasks {
					b.Fatalf("settled %d of %d", r.Settled, tasks)
				}
				last = r
			}
			b.ReportMetric(last.TasksPerS, "tasks/s")
			b.ReportMetric(float64(last.Blocks), "blocks")
		})
	}
}
