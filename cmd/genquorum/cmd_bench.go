package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

type benchOptions struct {
	validators []int
	tasks      int
	latency    int
	format     string
	single     bool
	rpc        []string
	key        string
	model      string
	replicas   uint32
	batch      int

	pruneAfter, retainBlocks int64
	growth                   bool
}

func newBenchCommand(g *globalOptions) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure settled tasks per second and verdict latency of the network, engines excluded",
		Long: `bench starts a network of --validators CometBFT validators running the ledger on loopback
(one runs in this process; more run as "genquorum node --no-executor" child processes of this
executable, since several validators in one process do not reach consensus), registers
three executors and settles n=3 tasks whose fingerprints are given, with every transaction
signed before the clock starts. The client submits its tasks in submit-batch transactions
(up to 400 tasks each, one signature and transaction fee for all); executors' commitments
and reveals go in batch transactions (up to 400 items each, as node outboxes send them);
--single sends one transaction per submission, commitment and reveal. Throughput: all
submissions, then all commitments, then all reveals (a reveal is valid only after its commit
window closed), settled tasks per second of wall time, the clock stopped when the client saw
the block of the last settlement executed (after the clock, "read s": the blocks' results
are read to count rejections and verdicts, and the state of any task whose verdict is not in
them), and per CPU-second of
this process and the validator processes together (steadier than wall time on a shared
machine). Latency: tasks settled one at a time, submission to verdict, and
the number of blocks between the last reveal and the verdict. --cpuprofile FILE also profiles
each validator process, to FILE.nodeN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&o.validators, "validators", []int{1}, "network sizes to measure: 1 runs in this process, more run as \"genquorum node --no-executor\" processes")
	f.IntVar(&o.tasks, "tasks", 2000, "tasks in the throughput run")
	f.IntVar(&o.latency, "latency-tasks", 20, "tasks in the sequential latency run")
	f.StringVar(&o.format, "format", "text", "text or json")
	f.BoolVar(&o.single, "single", false, "one transaction per submission, commitment and reveal instead of batches (for comparison)")
	f.StringSliceVar(&o.rpc, "rpc", nil, "measure an existing network at these validator RPC addresses instead (with its own executors); needs --key and --model")
	f.StringVar(&o.key, "key", "", "--rpc: funded client key file that pays the tasks")
	f.StringVar(&o.model, "model", "", "--rpc: model of the text tasks (greedy, 8 tokens)")
	f.Uint32Var(&o.replicas, "replicas", 3, "--rpc: executors per task")
	f.IntVar(&o.batch, "batch", 1, "--rpc: submissions per transaction (more than 1: submit-batch transactions; a task skipped in its batch counts as refused with its code)")
	f.Int64Var(&o.pruneAfter, "prune-after", 0, "ledger PruneAfter of the bench chain (settled tasks deleted this many blocks after settlement)")
	f.Int64Var(&o.retainBlocks, "retain-blocks", 0, "one validator: keep only the newest N blocks")
	f.BoolVar(&o.growth, "growth", false, "one validator: after the runs, print the ledger state bytes, tasks left in it and the data directory's bytes")
	return cmd
}

func runBench(ctx context.Context, g *globalOptions, o benchOptions) error {
	if o.tasks < 1 || o.latency < 0 {
		return usagef("bench: --tasks must be positive")
	}
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	if len(o.rpc) > 0 {
		return runBenchRPC(ctx, g, o)
	}
	if o.format == "text" {
		fmt.Fprintln(g.stdout, "validators  tasks  settled  seconds  tasks/s   txs/s  blocks   cpu s  tasks/cpu-s  read s  latency p50 ms  max ms  verdict blocks after last reveal  rejected txs  nonce lag max")
	}
	for _, v := range o.validators {
		if v < 1 || v > 64 {
			return usagef("--validators %d: want 1..64", v)
		}
	}
	for _, v := range o.validators {
		dir, err := os.MkdirTemp("", "genquorum-bench-")
		if err != nil {
			return err
		}
		sp := &spawnedProcs{}
		r, err := devnet.Bench(ctx, devnet.BenchOptions{Dir: dir, Tasks: o.tasks, Latency: o.latency, Validators: v,
			Spawn: validatorSpawner(g, sp), SpawnedCPU: sp.cpu, Logger: g.logger, Single: o.single, PruneAfter: o.pruneAfter, RetainBlocks: o.retainBlocks})
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		if o.format == "json" {
			if err := json.NewEncoder(g.stdout).Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(g.stdout, "%10d  %5d  %7d  %7.2f  %7.0f  %6.0f  %6d  %6.2f  %11.0f  %6.2f  %14.1f  %6.1f  %32d  %12d  %13d\n", r.Validators, r.Tasks, r.Settled,
			r.Seconds, r.TasksPerS, r.TxsPerS, r.Blocks, r.CPUSeconds, r.TasksPerCPUS, r.ReadSeconds, r.LatencyMsP50, r.LatencyMsMax, r.VerdictBlocks, r.Rejected, r.NonceLagMax)
		if o.growth && v == 1 {
			fmt.Fprintf(g.stdout, "growth: ledger state %d bytes (%d tasks in it), data directory %d bytes (prune-after %d, retain-blocks %d)\n",
				r.StateBytes, r.StateTasks, r.DataBytes, o.pruneAfter, o.retainBlocks)
		}
	}
	return nil
}

// validatorSpawner returns a devnet.Bench Spawn that runs "genquorum node --home HOME
// --no-executor" as a child process of this executable, logging to HOME/node.log, and logs the
// CPU time each used when it stops.
func validatorSpawner(g *globalOptions, sp *spawnedProcs) func(ctx context.Context, home string) (func(), error) {
	return func(_ context.Context, home string) (func(), error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		f, err := os.Create(filepath.Join(home, "node.log"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		args := []string{"node", "--home", home, "--no-executor", "--log-level", "warn"}
		if g.cpuProfile != "" {
			// Each validator process profiles itself next to the bench's own profile.
			args = append(args, "--cpuprofile", g.cpuProfile+"."+filepath.Base(home))
		}
		cmd := exec.Command(exe, args...)
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("bench: start validator: %w", err)
		}
		sp.add(cmd.Process.Pid)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		return func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			g.logger.Info("bench: validator stopped", "home", filepath.Base(home), "user_s", cmd.ProcessState.UserTime().Seconds(),
				"sys_s", cmd.ProcessState.SystemTime().Seconds())
		}, nil
	}
}

// spawnedProcs are the validator processes a bench started.
type spawnedProcs struct {
	mu   sync.Mutex
	pids []int
}

func (s *spawnedProcs) add(pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids = append(s.pids, pid)
}

// cpu returns the CPU time (user+system) the running processes used so far, read from
// /proc/PID/stat (Linux; 0 elsewhere or for a process that ended).
func (s *spawnedProcs) cpu() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d time.Duration
	for _, pid := range s.pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state is field 3, utime 14, stime 15,
		// in clock ticks of 1/100 s (USER_HZ).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ut, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 == nil && err2 == nil {
			d += time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return d
}

// runBenchRPC is bench --rpc: a burst of --tasks text tasks on an existing network.
func runBenchRPC(ctx context.Context, g *globalOptions, o benchOptions) error {
	if o.key == "" || o.model == "" {
		return usagef("bench --rpc: --key and --model are required")
	}
	if o.batch < 1 || o.batch > ledger.MaxBatchItems {
		return usagef("bench --rpc: --batch %d: want 1..%d", o.batch, ledger.MaxBatchItems)
	}
	key, err := readKeyFile(o.key)
	if err != nil {
		return err
	}
	ro := rpcOptions{rpc: o.rpc}
	cc, chainID, err := ro.client(ctx, g)
	if err != nil {
		return err
	}
	model, err := ledgerModel(ctx, cc, o.model)
	if err != nil {
		return err
	}
	sch, err := fingerprint.ParseScheme("text:tokens")
	if err != nil {
		return err
	}
	spec, err := node.Request{Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: "bench", Seed: 1,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}, Scheme: sch, Replicas: o.replicas, Rule: quorum.Majority, Fee: 30}.Spec()
	if err != nil {
		return err
	}
	eps, err := chain.DialHTTP(o.rpc...)
	if err != nil {
		return err
	}
	r, err := devnet.BenchRPC(ctx, eps, key, chainID, spec, o.tasks, o.batch)
	if err != nil {
		return err
	}
	if o.format == "json" {
		return json.NewEncoder(g.stdout).Encode(r)
	}
	fmt.Fprintf(g.stdout, "tasks %d  accepted %d  refused %d %v  settled %d  verdicts %d (unrunnable %d)  seconds %.2f  settled tasks/s %.1f\n",
		r.Tasks, r.Accepted, r.Refused, r.Codes, r.Settled, r.Verdicts, r.Unrunnable, r.Seconds, r.TasksPerS)
	return nil
}
