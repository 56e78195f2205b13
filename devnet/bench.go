package devnet

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

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
	Logger  *slog.Logger
}

// BenchResult is what Bench measured.
type BenchResult struct {
	Validators     int     `json:"validators"`
	Tasks          int     `json:"tasks"`
	Settled        int     `json:"settled"`
	Txs            int     `json:"txs"`
	Rejected       int     `json:"rejected_txs"`
	Seconds        float64 `json:"seconds"`
	TasksPerS      float64 `json:"tasks_per_s"`
	TxsPerS        float64 `json:"txs_per_s"`
	Blocks         int64   `json:"blocks"`
	LatencyMsP50   float64 `json:"latency_ms_p50"`
	LatencyMsMax   float64 `json:"latency_ms_max"`
	VerdictBlocks  int64   `json:"verdict_blocks_after_last_reveal_max"`
	LatencySamples int     `json:"latency_samples"`
}

// benchExecutors is the number of executors: with exactly n=3 registered, every task is
// assigned all of them, so every commit and reveal can be signed before the timed run.
const benchExecutors = 3

// Bench measures the verification network without engines: n=3 tasks whose fingerprints are
// given, submitted, committed and revealed through a real CometBFT validator running the
// ledger, in this process. All transactions are signed before the clock starts. The throughput run sends every
// submission, then every commitment, then every reveal (each phase waits for the previous one
// to be in blocks, since a reveal is only valid after the commit window closed) and counts
// settled tasks per second of wall time. The latency run then settles tasks one at a time and
// reports the time from submission to verdict and the blocks between the last reveal and the
// verdict.
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
	// settles without a verdict; honest tasks settle as soon as every executor revealed.
	gen.Params.CommitWindow, gen.Params.RevealWindow = 40, 40
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
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(o.Dir, "validator")
	if err := chain.InitHome(home, chain.Settings{ChainID: chainID, AppState: appState, EmptyBlockInterval: 50 * time.Millisecond,
		P2PAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), RPCAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])}); err != nil {
		return nil, err
	}
	v, err := chain.StartNode(ctx, home, chain.NewLedger(), o.Logger)
	if err != nil {
		return nil, err
	}
	defer v.Stop()
	ep := v.Local()
	cc, err := chain.NewClient(o.Logger, ep)
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
	res := &BenchResult{Validators: 1, Tasks: o.Tasks}
	// Throughput run.
	submits, commits, reveals, ids := presign(sub, execs, m, o.Tasks)
	res.Txs = len(submits) + len(commits) + len(reveals)
	h0, _ := cc.Height(ctx)
	start := time.Now()
	for _, phase := range [][][]byte{submits, commits, reveals} {
		if err := broadcastAll(ctx, ep, phase); err != nil {
			return nil, err
		}
		rejected, err := waitAllIncluded(ctx, ep, phase)
		if err != nil {
			return nil, err
		}
		res.Rejected += rejected
	}
	settled, err := waitSettled(ctx, cc, ids)
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	h1, _ := cc.Height(ctx)
	res.Settled, res.Blocks = settled, h1-h0
	res.TasksPerS = float64(settled) / res.Seconds
	res.TxsPerS = float64(res.Txs) / res.Seconds

	// Latency run: one task at a time.
	var lat []float64
	for range o.Latency {
		s1, c1, r1, id := presign(sub, execs, m, 1)
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
	return res, nil
}

// presign signs n tasks' submissions, the executors' commitments and their reveals.
func presign(sub *ledger.Signer, execs []*ledger.Signer, m ledger.Model, n int) (submits, commits, reveals [][]byte, ids []ledger.TaskID) {
	fp := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for range n {
		tx, id := sub.SubmitTask(ledger.SubmitTask{Kind: "text", Model: m, Prompt: binary.BigEndian.AppendUint64(nil, sub.Nonce()),
			Replicas: benchExecutors, Rule: quorum.Majority, FingerprintLen: uint32(len(fp)), Fee: 30})
		submits = append(submits, tx)
		ids = append(ids, id)
	}
	salt := func(id ledger.TaskID, j int) [32]byte { return sha256.Sum256(append(id[:], byte(j))) }
	for j, e := range execs {
		for _, id := range ids {
			commits = append(commits, e.Sign(&ledger.Commit{Task: id, Commitment: ledger.CommitmentFor(id, e.Key(), fp, salt(id, j))}))
		}
	}
	for j, e := range execs {
		for _, id := range ids {
			reveals = append(reveals, e.Reveal(id, fp, salt(id, j), sha256.Sum256(fp)))
		}
	}
	return submits, commits, reveals, ids
}

// broadcastAll hands txs to the validator's mempool in order, without waiting for blocks.
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

// waitAllIncluded waits until every tx is in a block (with several validators, a later tx can
// land before an earlier one still travelling between mempools) and returns how many executed
// with a non-zero code.
func waitAllIncluded(ctx context.Context, ep rpcclient.Client, txs [][]byte) (rejected int, err error) {
	for _, tx := range txs {
		h := sha256.Sum256(tx)
		for {
			res, err := ep.Tx(ctx, h[:], false)
			if err == nil {
				if res.TxResult.Code != 0 {
					rejected++
				}
				break
			}
			select {
			case <-ctx.Done():
				return rejected, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return rejected, nil
}

func waitSettled(ctx context.Context, cc *chain.Client, ids []ledger.TaskID) (int, error) {
	settled := 0
	for _, id := range ids {
		for {
			var tv chain.TaskView
			if err := cc.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err == nil && tv.SettledAt > 0 {
				if tv.Status == ledger.StatusAccepted.String() {
					settled++
				}
				break
			}
			select {
			case <-ctx.Done():
				return settled, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return settled, nil
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
