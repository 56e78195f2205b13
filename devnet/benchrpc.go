package devnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
)

// RPCBenchResult is what BenchRPC measured on an existing network.
type RPCBenchResult struct {
	Tasks    int `json:"tasks"`
	Accepted int `json:"accepted"` // submissions that became tasks
	Refused  int `json:"refused"`  // refused at CheckTx or in their block (code in Codes)
	Settled  int `json:"settled"`  // accepted tasks settled with a verdict or without
	Verdicts int `json:"verdicts"` // settled with an accepted verdict
	// Unrunnable counts the verdicts (included in Verdicts) that the executors agreed the task
	// could not be run: a bench whose tasks really run reports 0.
	Unrunnable int            `json:"unrunnable"`
	Seconds    float64        `json:"seconds"` // first broadcast to last settlement
	TasksPerS  float64        `json:"tasks_per_s"`
	Codes      map[uint32]int `json:"codes"`
}

// BenchRPC measures an existing network through its RPC endpoints, with its own executors
// and engines: it signs n submissions of spec with key (prompts made distinct by the index),
// broadcasts them all at once, waits for each to be in a block or refused, then for every
// accepted task to settle, and reports settled tasks per second of wall time. The key's
// account pays the fees; the network's capacity may refuse part of the burst (code 21). With
// batch > 1 the submissions go batch to a ledger.SubmitBatch transaction, and a task skipped
// in its batch counts as refused with its code.
func BenchRPC(ctx context.Context, eps []rpcclient.Client, key ed25519.PrivateKey, chainID string, spec ledger.SubmitTask, n, batch int) (*RPCBenchResult, error) {
	cc, err := chain.NewClient(slog.New(slog.DiscardHandler), eps...)
	if err != nil {
		return nil, err
	}
	s := ledger.NewSigner(key, chainID)
	var acct ledger.Account
	k := s.Key()
	if err := cc.QueryJSON(ctx, chain.QueryAccount, k[:], &acct); err != nil {
		return nil, err
	}
	s.SetNonce(acct.Nonce)
	var txs [][]byte
	var ids [][]ledger.TaskID // the tasks of each transaction
	batch = max(batch, 1)
	for lo := 0; lo < n; lo += batch {
		var specs []ledger.SubmitTask
		for i := lo; i < min(lo+batch, n); i++ {
			sp, err := VaryPrompt(spec, i)
			if err != nil {
				return nil, err
			}
			specs = append(specs, sp)
		}
		if batch == 1 {
			tx, id := s.SubmitTask(specs[0])
			txs, ids = append(txs, tx), append(ids, []ledger.TaskID{id})
			continue
		}
		tx, bids := s.SubmitBatch(specs)
		txs, ids = append(txs, tx), append(ids, bids)
	}
	res := &RPCBenchResult{Tasks: n, Codes: map[uint32]int{}}
	start := time.Now()
	pending := map[int]bool{}
	for i, tx := range txs {
		err := cc.Broadcast(ctx, tx)
		var rej *chain.TxRejectedError
		switch {
		case errors.As(err, &rej):
			res.Codes[rej.Code] += len(ids[i])
			res.Refused += len(ids[i])
		case err != nil:
			return nil, err
		default:
			pending[i] = true
		}
	}
	var live []ledger.TaskID
	for round := 1; len(pending) > 0; round++ {
		for i := range pending {
			r, err := eps[0].Tx(ctx, types.Tx(txs[i]).Hash(), false)
			if err != nil {
				// CometBFT rechecks the mempool after each block and drops what the state now
				// refuses (capacity filled up): broadcast again now and then to learn it.
				var rej *chain.TxRejectedError
				if round%20 == 0 && errors.As(cc.Broadcast(ctx, txs[i]), &rej) && rej.Code != ledger.Code(ledger.ErrNonce) {
					delete(pending, i)
					res.Codes[rej.Code] += len(ids[i])
					res.Refused += len(ids[i])
				}
				continue
			}
			delete(pending, i)
			if r.TxResult.Code != 0 {
				res.Codes[r.TxResult.Code] += len(ids[i])
				res.Refused += len(ids[i])
				continue
			}
			skipped := map[ledger.TaskID]uint32{}
			for _, e := range r.TxResult.Events {
				if ev, ok := chain.ParseLedgerEvent(e); ok && ev.Type == ledger.EventItemRejected {
					skipped[ev.Task] = uint32(ev.Amount)
				}
			}
			for _, id := range ids[i] {
				if code, ok := skipped[id]; ok {
					res.Codes[code]++
					res.Refused++
					continue
				}
				res.Codes[0]++
				live = append(live, id)
			}
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	res.Accepted = len(live)
	for len(live) > 0 {
		rest := live[:0]
		for _, id := range live {
			var tv chain.TaskView
			if err := cc.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil || tv.SettledAt == 0 {
				rest = append(rest, id)
				continue
			}
			res.Settled++
			if tv.Status == ledger.StatusAccepted.String() {
				res.Verdicts++
				if tv.Reason == ledger.ReasonUnrunnable {
					res.Unrunnable++
				}
			}
		}
		live = rest
		if len(live) > 0 {
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.TasksPerS = float64(res.Settled) / res.Seconds
	return res, nil
}

// VaryPrompt returns spec with " #i" appended to its prompt, in the ledger's spec and, when
// spec.Params holds a node.Payload, in the engine task it carries too: executors refuse a task
// whose payload disagrees with the ledger's spec (as unrunnable), so both must change together.
func VaryPrompt(spec ledger.SubmitTask, i int) (ledger.SubmitTask, error) {
	sp := spec
	sp.Prompt = fmt.Appendf(append([]byte(nil), spec.Prompt...), " #%d", i)
	if len(spec.Params) == 0 {
		return sp, nil
	}
	var p node.Payload
	if err := p.UnmarshalBinary(spec.Params); err != nil {
		return sp, nil // not a node payload: opaque bytes, kept as they are
	}
	p.Task.Prompt = string(sp.Prompt)
	b, err := p.MarshalBinary()
	if err != nil {
		return ledger.SubmitTask{}, fmt.Errorf("devnet: vary prompt: %w", err)
	}
	sp.Params = b
	return sp, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
