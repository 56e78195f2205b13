package devnet

import (
	"fmt"
	"testing"
)

// TestBenchSmall runs the engine-free benchmark on a few tasks, batched and single: every
// task settles, with the expected number of transactions, none rejected, a positive time and
// CPU time, and the verdict lands within 3 blocks of the last reveal.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator")
	}
	tests := []struct {
		name    string
		single  bool
		wantTxs int
	}{
		{"batched", false, 1 + benchExecutors + benchExecutors}, // one SubmitBatch, one Batch per executor and phase
		{"single", true, 50 + 2*benchExecutors*50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Bench(t.Context(), BenchOptions{Dir: t.TempDir(), Tasks: 50, Latency: 3, Single: tc.single})
			if err != nil {
				t.Fatal(err)
			}
			if r.Settled != 50 || r.Txs != tc.wantTxs || r.Rejected != 0 {
				t.Errorf("settled %d of 50 tasks with %d transactions (want %d), %d rejected", r.Settled, r.Txs, tc.wantTxs, r.Rejected)
			}
			if r.Seconds <= 0 || r.CPUSeconds <= 0 || r.Blocks < 3 {
				t.Errorf("seconds %v, CPU seconds %v, blocks %d", r.Seconds, r.CPUSeconds, r.Blocks)
			}
			if r.VerdictBlocks > 3 || r.LatencySamples != 3 {
				t.Errorf("verdict %d blocks after the last reveal (%d samples), want <= 3", r.VerdictBlocks, r.LatencySamples)
			}
			t.Logf("%+v", *r)
		})
	}
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
