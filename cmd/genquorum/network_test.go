package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
)

// TestMain lets the test binary act as the genquorum command, so that integration tests can
// start real node processes without building the binary separately.
func TestMain(m *testing.M) {
	if os.Getenv("GENQUORUM_TEST_AS_CLI") == "1" {
		ctx, stop := signalContext()
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// proc is a genquorum node process.
type proc struct {
	cmd *exec.Cmd
	log string
}

func startProc(t *testing.T, logFile string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GENQUORUM_TEST_AS_CLI=1")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return &proc{cmd: cmd, log: logFile}
}

// stop sends SIGTERM and waits: a node must shut down cleanly with status 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b, _ := os.ReadFile(p.log)
			t.Errorf("node did not stop cleanly: %v\n%s", err, tail(string(b), 2000))
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Errorf("node did not stop within 20 s of SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// handedPorts holds the port ranges freeBasePort gave out in this process, so that tests
// running in parallel (t.Parallel) never get the same range before either binds it.
var handedPorts struct {
	sync.Mutex
	upTo map[int]int // base -> first port after its range
}

// freeBasePort returns a first port for `genquorum testnet --validators n --base-port`: the
// 3n ports from it (P2P and RPC of each validator, then their CometBFT Prometheus ports) were
// free when it looked and overlap no range it returned before in this process.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	handedPorts.Lock()
	defer handedPorts.Unlock()
	if handedPorts.upTo == nil {
		handedPorts.upTo = map[int]int{}
	}
	for base := 30000 + os.Getpid()%2000*10; base < 60000; base += 97 {
		ok := true
		for b, end := range handedPorts.upTo {
			if base < end && b < base+3*n {
				ok = false
			}
		}
		for p := base; ok && p < base+3*n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			handedPorts.upTo[base] = base + 3*n
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// TestFourValidatorsSurviveOneKilled runs 4 validators as separate processes on 127.0.0.1:
// tasks settle, keep settling with one validator killed (the client fails over from its RPC),
// the killed validator restarts from its home and catches up, and no submitted task is lost.
func TestFourValidatorsSurviveOneKilled(t *testing.T) {
	t.Parallel() // waits on windows most of its time: shares the cores with another network
	if testing.Short() {
		t.Skip("starts 4 validator processes")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 4)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "4", "--out", dir, "--base-port", fmt.Sprint(base),
		"--commit-window", "8", "--reveal-window", "8", "--min-commit-seconds", "2", "--min-reveal-seconds", "2"); code != 0 {
		t.Fatal(stderr)
	}
	rpc := func(i int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", base+2*i+1) }
	nodeArgs := func(i int) []string {
		return []string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--fake-models", "fake-a", "--log-level", "warn"}
	}
	procs := make([]*proc, 4)
	for i := range procs {
		procs[i] = startProc(t, filepath.Join(dir, fmt.Sprintf("node%d.log", i)), nodeArgs(i)...)
	}
	defer func() {
		for _, p := range procs {
			p.stop(t)
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for i := range procs {
		for height(t, rpc(i)) < 2 {
			select {
			case <-ctx.Done():
				b, _ := os.ReadFile(procs[i].log)
				t.Fatalf("validator %d makes no blocks:\n%s", i, tail(string(b), 2000))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// Validators make blocks before every node has registered: submit once all four serve.
	for i := range 4 { // each validator checks a submission against its own state
		waitModelNodes(t, rpc(i), procs, 4, "fake-a")
	}
	var ids []string
	submit := func(rpcs ...string) {
		t.Helper()
		prompt := fmt.Sprintf("task %d", len(ids))
		stdout, stderr, code := runCLI(t, "submit", "--key", filepath.Join(dir, "client.key"), "--rpc", strings.Join(rpcs, ","),
			"--model", "fake-a", "--prompt", prompt, "--replicas", "3", "--timeout", "90s", "--format", "json")
		if code != 0 {
			t.Fatalf("submit via %v: exit %d: %s", rpcs, code, stderr)
		}
		var tv struct {
			ID, Status string
			Support    int
		}
		if err := json.Unmarshal([]byte(stdout), &tv); err != nil {
			t.Fatal(err)
		}
		if tv.Status != "accepted" || tv.Support < 2 {
			t.Errorf("task %s: %s with support %d, want accepted", tv.ID, tv.Status, tv.Support)
		}
		ids = append(ids, tv.ID)
	}
	submit(rpc(0))
	submit(rpc(1))

	procs[3].cmd.Process.Kill()
	procs[3].cmd.Wait()
	submit(rpc(3), rpc(0)) // the first endpoint is dead: the client fails over
	submit(rpc(2))
	submit(rpc(3), rpc(1))

	procs[3] = startProc(t, filepath.Join(dir, "node3.log"), nodeArgs(3)...)
	ctx, cancel = context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		h0, h3 := height(t, rpc(0)), height(t, rpc(3))
		if h3 > 0 && h3 >= h0-1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("restarted validator did not catch up: height %d vs %d", h3, h0)
		case <-time.After(200 * time.Millisecond):
		}
	}
	submit(rpc(3))
	for _, id := range ids {
		stdout, stderr, code := runCLI(t, "task", id, "--rpc", rpc(3), "--format", "json")
		if code != 0 || !strings.Contains(stdout, `"status":"accepted"`) {
			t.Errorf("task %s on the restarted validator: exit %d %s %s", id, code, stdout, stderr)
		}
	}
	out := filepath.Join(dir, "artifact")
	if stdout, stderr, code := runCLI(t, "fetch", ids[0], "--rpc", rpc(1), "--out", out); code != 0 {
		t.Errorf("fetch: exit %d: %s %s", code, stdout, stderr)
	} else if b, err := os.ReadFile(out); err != nil || len(b) == 0 {
		t.Errorf("fetched artifact: %v (%d bytes)", err, len(b))
	}
	// As every chaos test: no honest node slashed (node 3, really down, may be jailed once),
	// every validator at the same app hash.
	c := &chaosNet{t: t, dir: dir, base: base, procs: procs}
	eps, err := chain.DialHTTP(rpc(0), rpc(1), rpc(2), rpc(3))
	if err != nil {
		t.Fatal(err)
	}
	c.eps = eps
	if c.cc, err = chain.NewClient(discardLogger(), eps...); err != nil {
		t.Fatal(err)
	}
	c.checkEnd(3)
}

func height(t *testing.T, rpc string) int64 {
	cc, _, err := (&rpcOptions{rpc: []string{rpc}}).client(t.Context(), &globalOptions{logger: discardLogger()})
	if err != nil {
		return 0
	}
	h, err := cc.Height(t.Context())
	if err != nil {
		return 0
	}
	return h
}
