package devnet

import "testing"

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
