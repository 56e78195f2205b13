package main

import (
	"encoding/json"
	"testing"

	"github.com/genquorum/genquorum/devnet"
)

// TestBenchFourValidatorProcesses runs the engine-free benchmark on 4 validator processes (this
// test binary acting as genquorum node): every task settles with no transaction rejected,
// although the validators' mempools deliver a signer's transactions out of order.
func TestBenchFourValidatorProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 validator processes")
	}
	t.Setenv("GENQUORUM_TEST_AS_CLI", "1") // the spawned children run as the CLI (see TestMain)
	stdout, stderr, code := runCLI(t, "bench", "--validators", "4", "--tasks", "100", "--latency-tasks", "2", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r devnet.BenchResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if r.Validators != 4 || r.Settled != 100 || r.Rejected != 0 {
		t.Errorf("validators %d, settled %d of 100, %d txs rejected; want 4, 100, 0", r.Validators, r.Settled, r.Rejected)
	}
	if r.LatencySamples != 2 || r.VerdictBlocks > 3 {
		t.Errorf("verdict %d blocks after the last reveal (%d samples), want <= 3", r.VerdictBlocks, r.LatencySamples)
	}
	t.Logf("%+v", r)
}

func TestBenchRejectsBadValidators(t *testing.T) {
	for _, v := range []string{"0", "65"} {
		if _, _, code := runCLI(t, "bench", "--validators", v); code != exitUsage {
			t.Errorf("--validators %s: exit %d, want %d", v, code, exitUsage)
		}
	}
}
