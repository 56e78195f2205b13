package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
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
	// Every validator checks a submission against its own committed state: wait until the
	// one the client submits to (rpc(1)) also holds the three registrations.
	for _, i := range []int{0, 1} {
		waitModelNodes(t, rpc(i), procs, 3, "train-base")
	}
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

// TestTrainSegmentsOnTestnet runs a 3-validator testnet as three node processes (exact,
// cpu-avx512, ampere-fp16) serving the built-in base for training, and submits textual-
// inversion tasks with segment verification through the CLI (--verify segments, one trainer and
// one verifier checking all 3 segments; the third node is there to referee). With honest nodes
// the task is accepted and both agree. Then, for each of the trainer cheats of package train
// (skip-steps, fewer-steps, other-lr, other-seed, noise-weights, copy), every node is restarted
// with --train-cheat (whoever trains cheats; verifiers and referees stay honest) and a task is
// submitted: it is rejected because the verifier's re-execution disagreed and the referee found
// the trainer lied (not because a run failed or a window passed: every executor committed and
// revealed), the trainer is the outlier and slashed for it, the honest challenger is not
// slashed, and the dispute narrowed to one step (noise-weights: step 6, where the noise went in).
func TestTrainSegmentsOnTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 validator processes seven times")
	}
	t.Parallel() // waits on its tasks most of its time: shares the cores with another network
	dir := t.TempDir()
	base := freeBasePort(t, 3)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", dir, "--base-port", fmt.Sprint(base),
		"--commit-window", "200", "--reveal-window", "100"); code != 0 {
		t.Fatal(stderr)
	}
	rpc := func(i int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", base+2*i+1) }
	profiles := []string{"exact", "cpu-avx512", "ampere-fp16"}
	var procs []*proc
	stop := func() {
		for _, p := range procs {
			p.stop(t)
		}
		procs = nil
	}
	defer stop()
	start := func(cheat string) {
		procs = make([]*proc, 3)
		for i := range procs {
			args := []string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)),
				"--train-model", "base", "--train-data", "synthetic:12:1", "--profile", profiles[i], "--log-level", "info"}
			if cheat != "" {
				args = append(args, "--train-cheat", cheat)
			}
			procs[i] = startProc(t, filepath.Join(dir, fmt.Sprintf("node%d.log", i)), args...)
		}
		for i := range procs {
			waitModelNodes(t, rpc(i), procs, 3, "train-base")
		}
	}
	submit := func(seed int) chain.TaskView {
		stdout, stderr, code := runCLI(t, "submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc(1), "--kind", "train",
			"--model", "train-base", "--prompt", "<concept>", "--seed", fmt.Sprint(seed), "--method", "ti", "--train-steps", "12",
			"--checkpoint-every", "4", "--dataset", "synthetic:12:1", "--verify", "segments", "--replicas", "2",
			"--timeout", "300s", "--format", "json")
		var tv chain.TaskView
		if err := json.Unmarshal([]byte(stdout), &tv); err != nil { // exit 1 for a task without verdict, with its JSON
			t.Fatalf("submit: exit %d: %s (%v)", code, stderr, err)
		}
		t.Logf("task %.12s: %s %q (submit exit %d)", tv.ID, tv.Status, tv.Reason, code)
		for _, e := range tv.Executors {
			t.Logf("  %.12s: %s", e.Node, e.Outcome)
		}
		return tv
	}
	records := func() map[string]ledger.Record {
		out := map[string]ledger.Record{}
		for _, nv := range waitModelNodes(t, rpc(0), procs, 3, "train-base") {
			out[nv.Key] = nv.Record
		}
		return out
	}
	start("")
	tv := submit(3)
	if tv.Status != "accepted" || tv.Verify != 2 || tv.Dispute != nil || tv.Executors[0].Outcome != "agreed" || tv.Executors[1].Outcome != "agreed" {
		t.Errorf("honest: want accepted with trainer and verifier agreed, no dispute")
	}
	// What verification cost against training (the logs' measurements: the trainer's run, each
	// segment's checkpoint fetch over libp2p from another process and its re-execution).
	for i := range procs {
		b, _ := os.ReadFile(procs[i].log)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, `msg=trained`) || strings.Contains(line, `msg="segment checked"`) {
				t.Logf("node %d: %s", i, line[strings.Index(line, "msg="):])
			}
		}
	}
	for i, cheat := range []string{"skip-steps", "fewer-steps", "other-lr", "other-seed", "noise-weights", "copy"} {
		t.Run(cheat, func(t *testing.T) {
			stop()
			start(cheat)
			before := records()
			tv := submit(4 + i)
			d := tv.Dispute
			if tv.Status != "no-verdict" || d == nil || !d.Resolved || !d.TrainerLied || d.ChallengerLied {
				t.Fatalf("want rejected with a resolved dispute where the trainer lied and the challenger did not; dispute %+v", d)
			}
			trainer, challenger := tv.Executors[0], tv.Executors[d.Challenger]
			if !trainer.Committed || !trainer.Revealed || !challenger.Voted {
				t.Errorf("trainer committed %v revealed %v, challenger voted %v: a cheat must be caught by re-execution, not by a missed window",
					trainer.Committed, trainer.Revealed, challenger.Voted)
			}
			if trainer.Outcome != "outlier" {
				t.Errorf("trainer outcome %q, want outlier", trainer.Outcome)
			}
			// Node 0's view may lag the validator that answered submit by a block: wait until it
			// counts the trainer's outlier.
			after := records()
			for deadline := time.Now().Add(60 * time.Second); after[trainer.Node].Outliers == before[trainer.Node].Outliers; after = records() {
				if time.Now().After(deadline) {
					t.Fatalf("node 0 never counted the trainer %.12s's outlier", trainer.Node)
				}
				<-time.After(100 * time.Millisecond)
			}
			if got := after[trainer.Node].Slashed - before[trainer.Node].Slashed; got == 0 {
				t.Errorf("trainer %.12s not slashed", trainer.Node)
			}
			if got := after[challenger.Node].Slashed - before[challenger.Node].Slashed; got != 0 {
				t.Errorf("honest challenger %.12s slashed %d", challenger.Node, got)
			}
			if d.Step < 1 || d.Step > 12 || !strings.Contains(tv.Reason, fmt.Sprintf("after step %d ", d.Step)) {
				t.Errorf("dispute ended at step %d (%q), want one step of the 12", d.Step, tv.Reason)
			}
			if cheat == "noise-weights" && d.Step != 6 {
				t.Errorf("dispute ended at step %d, the noise went in at step 6", d.Step)
			}
			t.Logf("%s: dispute on segment %d ended at step %d after %d rounds", cheat, d.Segment, d.Step, d.Rounds)
		})
	}
	// kill -9 of every node process (validators, trainer, challenger and referee alike) while
	// the dispute runs, then restart: each reconciles with the ledger and the dispute goes on to
	// the same end.
	t.Run("noise-weights-killed-mid-dispute", func(t *testing.T) {
		stop()
		start("noise-weights")
		stdout, stderr, code := runCLI(t, "submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc(1), "--kind", "train",
			"--model", "train-base", "--prompt", "<concept>", "--seed", "20", "--method", "ti", "--train-steps", "12",
			"--checkpoint-every", "4", "--dataset", "synthetic:12:1", "--verify", "segments", "--replicas", "2", "--wait=false")
		if code != 0 {
			t.Fatalf("submit: exit %d: %s", code, stderr)
		}
		raw, err := hex.DecodeString(strings.TrimSpace(stdout))
		if err != nil || len(raw) != 32 {
			t.Fatalf("submit printed %q, want a task ID", stdout)
		}
		id := ledger.TaskID(raw)
		waitTask := func(what string, ok func(chain.TaskView) bool) chain.TaskView {
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Second)
			defer cancel()
			for {
				var tv chain.TaskView
				if cc, _, err := (&rpcOptions{rpc: []string{rpc(0)}}).client(ctx, &globalOptions{logger: discardLogger()}); err == nil {
					if err := cc.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err == nil && ok(tv) {
						return tv
					}
				}
				select {
				case <-ctx.Done():
					t.Fatalf("task %.12s never %s (last status %q)", id.String(), what, tv.Status)
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		tv := waitTask("in dispute or settled", func(tv chain.TaskView) bool {
			return tv.Status == ledger.StatusDispute.String() || tv.SettledAt != 0
		})
		if tv.Status != ledger.StatusDispute.String() {
			t.Fatalf("task settled %s before a dispute: %q", tv.Status, tv.Reason)
		}
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		t.Logf("killed every node in dispute phase %d (segment %d, query step %d)", tv.Dispute.Phase, tv.Dispute.Segment, tv.Dispute.Query)
		start("noise-weights")
		tv = waitTask("settled", func(tv chain.TaskView) bool { return tv.SettledAt != 0 })
		d := tv.Dispute
		if tv.Status != "no-verdict" || d == nil || !d.TrainerLied || d.ChallengerLied || d.Step != 6 {
			t.Fatalf("after the restart: %s %q, dispute %+v; want rejected, the trainer lied at step 6", tv.Status, tv.Reason, d)
		}
		t.Logf("after the restart: %s %q", tv.Status, tv.Reason)
	})
}
