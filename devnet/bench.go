package devnet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Dir     string
	Tasks   int // tasks in the throughput run
	Latency int // tasks in the sequential latency run
	// Validators is the network size (default 1). One validator runs in this process; more
	// run as separate processes started by Spawn, on loopback, since several CometBFT
	// validators in one process do not reach consensus.
	Validators int
	// Spawn starts a validator process for the home written by chain.WriteTestnet (for example
	// "genquorum node --home HOME --no-executor") and returns a function that stops it and waits
	// for it. Required when Validators > 1.
	Spawn func(ctx context.Context, home string) (stop func(), err error)
	// SpawnedCPU, if set, returns the CPU time (user+system) the processes started by Spawn
	// have used so far; the throughput run's CPUSeconds then counts theirs with this
	// process's.
	SpawnedCPU func() time.Duration
	Logger     *slog.Logger
	// Single sends one transaction per submission, commitment and reveal instead of
	// ledger.SubmitBatch and ledger.Batch transactions (what clients and executors sent
	// before batches), for comparison.
	Single bool
	// PruneAfter is the ledger's ledger.Params.PruneAfter, RetainBlocks the validator's
	// chain.NodeOptions.RetainBlocks (one validator only); with either set, the throughput run
	// is followed by PruneAfter+RetainBlocks more blocks before the state is measured.
	PruneAfter, RetainBlocks int64
}

// BenchResult is what Bench measured.
type BenchResult struct {
	Validators int     `json:"validators"`
	Tasks      int     `json:"tasks"`
	Settled    int     `json:"settled"`
	Txs        int     `json:"txs"`
	Rejected   int     `json:"rejected_txs"`
	Seconds    float64 `json:"seconds"`
	// CPUSeconds is the CPU time (user+system) the throughput run used: this process's (the
	// client, and the validator when it runs here) plus the spawned validators' when
	// BenchOptions.SpawnedCPU reports it. TasksPerCPUS is Settled / CPUSeconds: on a machine
	// shared with other work it varies less than TasksPerS.
	CPUSeconds float64 `json:"cpu_seconds"`
	// ReadSeconds is how long the client took, after the run, to read the blocks' results
	// (codes, verdicts) and the state of any task whose verdict was not in them (not in
	// Seconds).
	ReadSeconds   float64 `json:"read_seconds"`
	TasksPerCPUS  float64 `json:"tasks_per_cpu_s"`
	TasksPerS     float64 `json:"tasks_per_s"`
	TxsPerS       float64 `json:"txs_per_s"`
	Blocks        int64   `json:"blocks"`
	LatencyMsP50  float64 `json:"latency_ms_p50"`
	LatencyMsMax  float64 `json:"latency_ms_max"`
	VerdictBlocks int64   `json:"verdict_blocks_after_last_reveal_max"`
	// NonceLagMax is the most by which an accepted transaction's nonce was below its signer's
	// highest nonce already in the chain: how far the network delivered a signer's
	// transactions out of order (the ledger accepts up to ledger.NonceWindow).
	NonceLagMax    uint64 `json:"nonce_lag_max"`
	LatencySamples int    `json:"latency_samples"`
	// Growth, measured with one validator after the runs: the ledger state (MarshalState
	// bytes: what a snapshot holds), the tasks still in it, and the bytes on disk of the
	// validator's data directory (CometBFT's block store, state, index and WAL, and the
	// ledger snapshots).
	StateBytes int64 `json:"state_bytes,omitempty"`
	StateTasks int   `json:"state_tasks,omitempty"`
	DataBytes  int64 `json:"data_bytes,omitempty"`
}

// benchExecutors is the number of executors: with exactly n=3 registered, every task is
// assigned all of them, so every commit and reveal can be signed before the timed run.
const benchExecutors = 3

// Bench measures the verification network without engines: n=3 tasks whose fingerprints are
// given, submitted (in ledger.SubmitBatch transactions of up to 400 tasks, as a client with
// many tasks sends them), committed and revealed (in ledger.Batch transactions of up to 400
// items per executor, as node outboxes send them), unless o.Single, through real CometBFT
// validators running the ledger: one in this process, or o.Validators processes started by
// o.Spawn (transactions are broadcast to the first, which gossips them). All transactions
// are signed before the clock starts. The throughput run sends every submission, then every
// commitment, then every reveal (each phase waits for the previous one to be in blocks,
// since a reveal is only valid after the commit window closed) and counts settled tasks per
// second of wall time: the client follows the executed blocks (their transactions, not their
// results) and the clock stops at the block, as the client first saw it executed, that
// holds the last of the run's transactions or the last settlement, whichever is later (a
// task settles in the transaction of its last reveal); the blocks' results (codes,
// skipped submissions, verdicts) are read after, and the state of any task whose verdict is
// not in them. The latency run then settles tasks
// one at a time and reports the time from submission to verdict and the blocks between the
// last reveal and the verdict.
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if o.Tasks < 1 {
		return nil, errors.New("devnet: bench needs tasks")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	const chainID = "genquorum-bench"
	submitter := Key("bench-client", 0)
	var execs []*ledger.Signer
	gen := ledger.Genesis{ChainID: chainID, Params: ledger.DefaultParams()}
	// Windows bound how long a task whose transaction was lost or rejected waits before it
	// settles without a verdict; honest tasks settle as soon as every executor revealed, so
	// long windows cost nothing. They must outlast a whole phase of broadcasts: on an idle
	// machine with timeout_commit 0, 40 blocks passed before the last submission of 2000
	// reached four validators, and early tasks expired before their commitments were sent.
	gen.Params.CommitWindow, gen.Params.RevealWindow = 2000, 2000
	gen.Params.PruneAfter = uint64(max(o.PruneAfter, 0))
	gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: pubKey(submitter), Balance: 1 << 50})
	for i := range benchExecutors {
		k := Key("bench-node", i)
		execs = append(execs, ledger.NewSigner(k, chainID))
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: pubKey(k), Balance: 1 << 40})
	}
	appState, err := json.Marshal(gen)
	if err != nil {
		return nil, err
	}
	if o.Validators == 0 {
		o.Validators = 1
	}
	eps, stop, local, err := startBenchNetwork(ctx, o, chainID, appState)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	ep := eps[0]
	cc, err := chain.NewClient(o.Logger, eps...)
	if err != nil {
		return nil, err
	}
	m := ledger.Model{Name: "bench", Digest: sha256.Sum256([]byte("bench"))}
	for _, s := range execs {
		tx := s.RegisterNode(ledger.RegisterNode{Stake: 1000, Models: []ledger.Model{m}, Hardware: "exact"})
		if _, err := cc.Submit(ctx, tx); err != nil {
			return nil, fmt.Errorf("devnet: bench: register: %w", err)
		}
	}

	sub := ledger.NewSigner(submitter, chainID)
	res := &BenchResult{Validators: o.Validators, Tasks: o.Tasks}
	// Throughput run.
	submits, commits, reveals, ids, submitOf := presign(sub, execs, m, o.Tasks, o.Single)
	res.Txs = len(submits) + len(commits) + len(reveals)
	h0, _ := cc.Height(ctx)
	lag := &nonceLag{highest: map[ledger.PubKey]uint64{}}
	w := &blockWatch{ep: ep, height: h0, seenAt: map[int64]time.Time{}, cpuAt: map[int64]time.Duration{}, txAt: map[[32]byte]int64{},
		cpu: func() time.Duration {
			d := selfCPU()
			if o.SpawnedCPU != nil {
				d += o.SpawnedCPU()
			}
			return d
		}}
	cpu0 := w.cpu()
	start := time.Now()
	for p, phase := range [][][]byte{submits, commits, reveals} {
		t0, hb := time.Now(), w.height
		if err := broadcastAll(ctx, ep, phase); err != nil {
			return nil, err
		}
		t1 := time.Now()
		if err := w.waitTxs(ctx, phase); err != nil {
			return nil, err
		}
		o.Logger.Info("bench: phase", "phase", []string{"submit", "commit", "reveal"}[p], "txs", len(phase),
			"broadcast_s", t1.Sub(t0).Seconds(), "included_s", time.Since(t1).Seconds(), "blocks", w.height-hb)
	}
	// Outside the clock: the results of the blocks that hold the run's transactions (codes,
	// submissions skipped in a batch, verdicts), then the state of every accepted task whose
	// verdict was not among them.
	all := slices.Concat(submits, commits, reveals)
	readStart := time.Now()
	rejected, skipped, verdictAt, err := w.results(ctx, o.Logger, all, lag)
	if err != nil {
		return nil, err
	}
	res.NonceLagMax = lag.max
	res.Rejected = len(rejected) + len(skipped)
	var rest []ledger.TaskID // tasks whose submission was accepted and whose verdict was not read
	settled, settledAt := 0, int64(0)
	for i, id := range ids {
		switch {
		case rejected[submitOf[i]] || skipped[id]:
		case verdictAt[id] > 0:
			settled++
			settledAt = max(settledAt, verdictAt[id])
		default:
			rest = append(rest, id)
		}
	}
	more, at, err := waitSettled(ctx, cc, rest)
	if err != nil {
		return nil, err
	}
	settled, settledAt = settled+more, max(settledAt, at)
	res.ReadSeconds = time.Since(readStart).Seconds()
	// The clock stops when the client saw the block in which the last task settled executed
	// (its transactions were all in blocks by then, and it usually is the block of the last
	// reveals, since a task settles in the transaction of its last reveal).
	if err := w.waitHeight(ctx, settledAt); err != nil {
		return nil, err
	}
	end := settledAt
	for _, tx := range all {
		end = max(end, w.txAt[sha256.Sum256(tx)])
	}
	res.Seconds, res.CPUSeconds = w.seenAt[end].Sub(start).Seconds(), (w.cpuAt[end] - cpu0).Seconds()
	h1, _ := cc.Height(ctx)
	res.Settled, res.Blocks = settled, h1-h0
	res.TasksPerS = float64(settled) / res.Seconds
	if res.CPUSeconds > 0 {
		res.TasksPerCPUS = float64(settled) / res.CPUSeconds
	}
	res.TxsPerS = float64(res.Txs) / res.Seconds

	// Latency run: one task at a time.
	var lat []float64
	for range o.Latency {
		s1, c1, r1, id, _ := presign(sub, execs, m, 1, o.Single)
		t0 := time.Now()
		if _, err := cc.Submit(ctx, s1[0]); err != nil {
			return nil, err
		}
		if err := submitParallel(ctx, cc, c1); err != nil {
			return nil, err
		}
		lastReveal, err := submitParallelHeight(ctx, cc, r1)
		if err != nil {
			return nil, err
		}
		var tv chain.TaskView
		for {
			if err := cc.QueryJSON(ctx, chain.QueryTask, id[0][:], &tv); err == nil && tv.SettledAt > 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		res.VerdictBlocks = max(res.VerdictBlocks, int64(tv.SettledAt)-lastReveal)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.LatencyMsP50, res.LatencyMsMax, res.LatencySamples = lat[len(lat)/2], lat[len(lat)-1], len(lat)
	}
	if local != nil {
		// Blocks keep coming (EmptyBlockInterval): let pruning catch up, then measure.
		if h, err := cc.Height(ctx); err == nil && o.PruneAfter+o.RetainBlocks > 0 {
			if err := cc.WaitHeight(ctx, h+o.PruneAfter+o.RetainBlocks+2); err != nil {
				return nil, err
			}
		}
		stop()
		stopped = true
		if st := local.ledger.State(); st != nil {
			res.StateBytes, res.StateTasks = int64(len(st.MarshalState())), st.TaskCount()
		}
		res.DataBytes = dirBytes(filepath.Join(local.home, "data"))
	}
	return res, nil
}

// benchLocal is the validator Bench runs in this process (one validator).
type benchLocal struct {
	ledger *chain.Ledger
	home   string
}

// selfCPU returns the CPU time (user+system, all threads) this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dirBytes returns the total size of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// benchBatch is how many commitments or reveals one executor's batch carries in the bench
// (what a node's outbox sends when that many are ready at once, ledger.Batch), and how many
// tasks the client's ledger.SubmitBatch carries, within the transaction size limit.
const benchBatch = 400

// presign signs n tasks' submissions, the executors' commitments and their reveals: one
// transaction per submission, commitment and reveal if single, else ledger.SubmitBatch and
// ledger.Batch transactions of up to benchBatch items. submitOf[i] is the index in submits
// of task ids[i]'s submission.
func presign(sub *ledger.Signer, execs []*ledger.Signer, m ledger.Model, n int, single bool) (submits, commits, reveals [][]byte, ids []ledger.TaskID, submitOf []int) {
	fp := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	spec := func(i int) ledger.SubmitTask {
		return ledger.SubmitTask{Kind: "text", Model: m, Prompt: binary.BigEndian.AppendUint64(nil, uint64(i)),
			Replicas: benchExecutors, Rule: quorum.Majority, FingerprintLen: uint32(len(fp)), Fee: 30}
	}
	// Prompts differ within a run (i) and between runs (the submitter's nonce).
	first := sub.Nonce() << 20
	if single || n == 1 {
		for i := range n {
			tx, id := sub.SubmitTask(spec(int(first) + i))
			submits, ids, submitOf = append(submits, tx), append(ids, id), append(submitOf, len(submits))
		}
	} else {
		for lo := 0; lo < n; lo += benchBatch {
			var tasks []ledger.SubmitTask
			for i := lo; i < min(lo+benchBatch, n); i++ {
				tasks = append(tasks, spec(int(first)+i))
			}
			tx, bids := sub.SubmitBatch(tasks)
			for range bids {
				submitOf = append(submitOf, len(submits))
			}
			submits, ids = append(submits, tx), append(ids, bids...)
		}
	}
	salt := func(id ledger.TaskID, j int) [32]byte { return sha256.Sum256(append(id[:], byte(j))) }
	for j, e := range execs {
		for lo := 0; lo < len(ids); lo += benchBatch {
			var b ledger.Batch
			for _, id := range ids[lo:min(lo+benchBatch, len(ids))] {
				c := ledger.Commit{Task: id, Commitment: ledger.CommitmentFor(id, e.Key(), fp, salt(id, j))}
				if single {
					commits = append(commits, e.Sign(&c))
				}
				b.Commits = append(b.Commits, c)
			}
			if !single {
				commits = append(commits, e.Batch(b))
			}
		}
	}
	for j, e := range execs {
		for lo := 0; lo < len(ids); lo += benchBatch {
			var b ledger.Batch
			for _, id := range ids[lo:min(lo+benchBatch, len(ids))] {
				r := ledger.Reveal{Task: id, Fingerprint: fp, Salt: salt(id, j), Artifact: sha256.Sum256(fp)}
				if single {
					reveals = append(reveals, e.Sign(&r))
				}
				b.Reveals = append(b.Reveals, r)
			}
			if !single {
				reveals = append(reveals, e.Batch(b))
			}
		}
	}
	return submits, commits, reveals, ids, submitOf
}

// broadcastAll hands txs to the validator's mempool in order, without waiting for blocks.
// (Broadcasting from 8 goroutines was measured no faster, on one validator or four: CheckTx is
// serialised on the validator and the run is CPU-bound.)
func broadcastAll(ctx context.Context, ep rpcclient.Client, txs [][]byte) error {
	for _, tx := range txs {
		res, err := ep.BroadcastTxSync(ctx, tx)
		if err != nil {
			return fmt.Errorf("devnet: bench: broadcast: %w", err)
		}
		if res.Code != 0 {
			return fmt.Errorf("devnet: bench: CheckTx code %d: %s", res.Code, res.Log)
		}
	}
	return nil
}

// blockWatch follows the chain as a client sees it: every block the application executed,
// when the client first saw it executed and the CPU time used by then, and the first block
// of every transaction in them. It reads blocks (their transactions), not their results, so
// that following the chain costs the client and the validator it asks little.
type blockWatch struct {
	ep     rpcclient.Client
	cpu    func() time.Duration
	height int64 // the highest height read
	seenAt map[int64]time.Time
	cpuAt  map[int64]time.Duration
	txAt   map[[32]byte]int64
}

// poll reads the blocks executed since the last poll. The application's height (ABCI info)
// is that of the last block whose FinalizeBlock returned; CometBFT stores a block before it
// executes it, so those blocks are all in the block store.
func (w *blockWatch) poll(ctx context.Context) error {
	info, err := w.ep.ABCIInfo(ctx)
	if err != nil {
		return fmt.Errorf("devnet: bench: abci info: %w", err)
	}
	for h := w.height + 1; h <= info.Response.LastBlockHeight; h++ {
		blk, err := w.ep.Block(ctx, &h)
		if err != nil {
			return fmt.Errorf("devnet: bench: block %d: %w", h, err)
		}
		w.seenAt[h], w.cpuAt[h] = time.Now(), w.cpu()
		for _, tx := range blk.Block.Txs {
			if hash := sha256.Sum256(tx); w.txAt[hash] == 0 {
				w.txAt[hash] = h
			}
		}
		w.height = h
	}
	return nil
}

// waitTxs polls until every tx is in an executed block.
func (w *blockWatch) waitTxs(ctx context.Context, txs [][]byte) error {
	for i := 0; ; {
		for i < len(txs) && w.txAt[sha256.Sum256(txs[i])] > 0 {
			i++
		}
		if i == len(txs) {
			return nil
		}
		if err := w.poll(ctx); err != nil {
			return err
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitHeight polls until block h is executed.
func (w *blockWatch) waitHeight(ctx context.Context, h int64) error {
	for w.height < h {
		if err := w.poll(ctx); err != nil {
			return err
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// results reads the results of the blocks that hold txs (all included, see waitTxs), once
// per block: rejected holds the indices of the txs whose first inclusion executed with a
// non-zero code (each logged), skipped the tasks whose submission was skipped inside an
// accepted SubmitBatch (EventItemRejected), verdictAt the height of each verdict event in
// those blocks (in an accepted transaction or at the end of the block). Accepted txs are
// observed by lag in block order.
func (w *blockWatch) results(ctx context.Context, logger *slog.Logger, txs [][]byte, lag *nonceLag) (rejected map[int]bool, skipped map[ledger.TaskID]bool,
	verdictAt map[ledger.TaskID]int64, err error) {
	index := make(map[[32]byte]int, len(txs))
	var heights []int64
	for i, tx := range txs {
		hash := sha256.Sum256(tx)
		index[hash] = i
		heights = append(heights, w.txAt[hash])
	}
	slices.Sort(heights)
	// A block's results are saved after it executed, before the next block is stored.
	if err := w.waitHeight(ctx, heights[len(heights)-1]+1); err != nil {
		return nil, nil, nil, err
	}
	rejected, skipped, verdictAt = map[int]bool{}, map[ledger.TaskID]bool{}, map[ledger.TaskID]int64{}
	note := func(h int64, evs []abci.Event) {
		for _, e := range evs {
			if ev, ok := chain.ParseLedgerEvent(e); ok {
				switch ev.Type {
				case ledger.EventItemRejected:
					skipped[ev.Task] = true
				case ledger.EventVerdict:
					verdictAt[ev.Task] = h
				}
			}
		}
	}
	for _, h := range slices.Compact(heights) {
		blk, err := w.ep.Block(ctx, &h)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("devnet: bench: block %d: %w", h, err)
		}
		br, err := w.ep.BlockResults(ctx, &h)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("devnet: bench: results of block %d: %w", h, err)
		}
		for k, tx := range blk.Block.Txs {
			hash := sha256.Sum256(tx)
			i, mine := index[hash]
			if !mine || w.txAt[hash] != h || k >= len(br.TxsResults) {
				continue // not the run's, or a duplicate inclusion (which does not count)
			}
			delete(index, hash)
			r := br.TxsResults[k]
			if r.Code != 0 {
				rejected[i] = true
				logger.Warn("bench: transaction rejected", "height", h, "code", r.Code, "log", r.Log)
				continue
			}
			lag.observe(tx)
			note(h, r.Events)
		}
		note(h, br.FinalizeBlockEvents)
	}
	return rejected, skipped, verdictAt, nil
}

// nonceLag follows, in block order, each signer's highest accepted nonce and the most by which
// an accepted nonce fell below it.
type nonceLag struct {
	highest map[ledger.PubKey]uint64
	max     uint64
}

func (l *nonceLag) observe(raw []byte) {
	tx, err := ledger.DecodeTx(raw)
	if err != nil {
		return
	}
	if h := l.highest[tx.Signer]; tx.Nonce < h {
		l.max = max(l.max, h-tx.Nonce)
	} else {
		l.highest[tx.Signer] = tx.Nonce
	}
}

// waitSettled waits until every task settled and returns how many did with a verdict and
// the highest height at which one settled. It asks for the tasks' states from 8 goroutines.
func waitSettled(ctx context.Context, cc *chain.Client, ids []ledger.TaskID) (settled int, at int64, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	const workers = 8
	for k := range workers {
		wg.Go(func() {
			for j := k; j < len(ids); j += workers {
				ok, h, werr := waitTaskSettled(ctx, cc, ids[j])
				mu.Lock()
				if werr != nil {
					err = errors.Join(err, werr)
				}
				if ok {
					settled++
				}
				at = max(at, h)
				mu.Unlock()
				if werr != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return settled, at, err
}

// waitTaskSettled waits until task id settled and reports whether it settled with a verdict
// and at which height.
func waitTaskSettled(ctx context.Context, cc *chain.Client, id ledger.TaskID) (bool, int64, error) {
	for {
		var tv chain.TaskView
		err := cc.QueryJSON(ctx, chain.QueryTask, id[:], &tv)
		if err == nil && tv.SettledAt > 0 {
			return tv.Status == ledger.StatusAccepted.String(), int64(tv.SettledAt), nil
		}
		if err != nil && strings.Contains(err.Error(), "unknown task") { // pruned (PruneAfter)
			if s, serr := cc.Settlement(ctx, id); serr == nil {
				return s.Event.Type == ledger.EventVerdict, s.Height, nil
			}
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return false, 0, err
		}
	}
}

func submitParallel(ctx context.Context, cc *chain.Client, txs [][]byte) error {
	_, err := submitParallelHeight(ctx, cc, txs)
	return err
}

// submitParallelHeight submits txs concurrently (they are from different signers) and returns
// the highest block they landed in.
func submitParallelHeight(ctx context.Context, cc *chain.Client, txs [][]byte) (int64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var height int64
	var errs error
	for _, tx := range txs {
		wg.Go(func() {
			in, err := cc.Submit(ctx, tx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = errors.Join(errs, err)
				return
			}
			height = max(height, in.Height)
		})
	}
	wg.Wait()
	return height, errs
}

// startBenchNetwork starts the validators and returns an RPC client for each, and a function
// that stops them all.
func startBenchNetwork(ctx context.Context, o BenchOptions, chainID string, appState []byte) ([]rpcclient.Client, func(), *benchLocal, error) {
	settings := chain.Settings{ChainID: chainID, AppState: appState, EmptyBlockInterval: 50 * time.Millisecond}
	if o.Validators == 1 {
		ports, err := freePorts(2)
		if err != nil {
			return nil, nil, nil, err
		}
		home := filepath.Join(o.Dir, "validator")
		settings.P2PAddr, settings.RPCAddr = fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])
		if err := chain.InitHome(home, settings); err != nil {
			return nil, nil, nil, err
		}
		l := chain.NewLedger()
		v, err := chain.StartNodeWith(ctx, home, l, o.Logger, chain.NodeOptions{RetainBlocks: o.RetainBlocks})
		if err != nil {
			return nil, nil, nil, err
		}
		return []rpcclient.Client{v.Local()}, func() { v.Stop() }, &benchLocal{ledger: l, home: home}, nil
	}
	if o.Spawn == nil {
		return nil, nil, nil, fmt.Errorf("devnet: bench of %d validators needs Spawn", o.Validators)
	}
	base, err := freeBasePort(2 * o.Validators)
	if err != nil {
		return nil, nil, nil, err
	}
	tn, err := chain.WriteTestnet(filepath.Join(o.Dir, "testnet"), chain.TestnetOptions{Validators: o.Validators, ChainID: chainID,
		BasePort: base, Settings: settings})
	if err != nil {
		return nil, nil, nil, err
	}
	var stops []func()
	stopAll := func() {
		for _, s := range stops {
			s()
		}
	}
	for _, h := range tn.Homes {
		s, err := o.Spawn(ctx, h)
		if err != nil {
			stopAll()
			return nil, nil, nil, fmt.Errorf("devnet: bench: start validator %s: %w", h, err)
		}
		stops = append(stops, s)
	}
	eps, err := chain.DialHTTP(tn.RPCAddrs...)
	if err != nil {
		stopAll()
		return nil, nil, nil, err
	}
	// Wait for every validator to serve RPC and the chain to make blocks.
	for _, ep := range eps {
		for {
			st, err := ep.Status(ctx)
			if err == nil && st.SyncInfo.LatestBlockHeight >= 2 {
				break
			}
			select {
			case <-ctx.Done():
				stopAll()
				return nil, nil, nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return eps, stopAll, nil, nil
}

// freeBasePort finds n consecutive free TCP ports on 127.0.0.1.
func freeBasePort(n int) (int, error) {
	for base := 30000 + os.Getpid()%2000*10; base < 60000; base += 97 {
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("devnet: no free port range")
}
