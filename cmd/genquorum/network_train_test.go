package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/genquorum/genquorum/chain"
)

// TestTrainTaskOnTestnet runs a 3-validator testnet as three node processes that serve the
// built-in base model for training (node --train-model base --train-data synthetic:8:1), one
// of them on another profile (hopper-bf16) and one a guesser (it trains with another seed), and
// submits a textual-inversion training task through the CLI: every executor trains the whole
// task (full replication); the two honest nodes agree within 4 bits on the vector:simhash/256
// sketch of what they learned (3 bits apart in the run that was checked), and the guesser is an
// outlier (slashed by the ledger's outlier rule).
func TestTrainTaskOnTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 validator processes")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 3)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", dir, "--base-port", fmt.Sprint(base),
		"--commit-window", "40", "--reveal-window", "40"); code != 0 {
		t.Fatal(stderr)
	}
	rpc := func(i int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", base+2*i+1) }
	procs := make([]*proc, 3)
	for i := range procs {
		profile := "exact"
		if i == 2 {
			profile = "hopper-bf16"
		}
		args := []string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)),
			"--train-model", "base", "--train-data", "synthetic:8:1", "--profile", profile, "--log-level", "warn"}
		if i == 1 {
			args = append(args, "--behaviour", "guesser") // trains with another seed
		}
		procs[i] = startProc(t, filepath.Join(dir, fmt.Sprintf("node%d.log", i)), args...)
	}
	defer func() {
		for _, p := range procs {
			p.stop(t)
		}
	}()
	waitModelNodes(t, rpc(0), procs, 3, "train-base")
	stdout, stderr, code := runCLI(t, "submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc(1), "--kind", "train",
		"--model", "train-base", "--prompt", "<concept>", "--method", "ti", "--train-steps", "6", "--checkpoint-every", "3",
		"--dataset", "synthetic:8:1", "--replicas", "3", "--tolerance", "4", "--timeout", "240s", "--format", "json")
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr)
	}
	var tv chain.TaskView
	if err := json.Unmarshal([]byte(stdout), &tv); err != nil {
		t.Fatal(err)
	}
	if tv.Status != "accepted" || tv.Support != 2 || tv.Kind != "train" || len(tv.Value) != 64 {
		t.Fatalf("task %s: %s %s with support %d, value %q: want an accepted train task with support 2 and a 256-bit sketch", tv.ID, tv.Kind, tv.Status, tv.Support, tv.Value)
	}
	outcomes := map[string]int{}
	for _, e := range tv.Executors {
		t.Logf("executor %.12s: %s, sketch %s", e.Node, e.Outcome, e.Fingerprint)
		outcomes[e.Outcome]++
	}
	if outcomes["agreed"] != 2 || outcomes["outlier"] != 1 {
		t.Errorf("outcomes %v: want the two honest nodes agreed and the guesser an outlier", outcomes)
	}
}
