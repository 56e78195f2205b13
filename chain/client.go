package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/genquorum/genquorum/ledger"
)

// Client submits transactions to a network through one of several validators' RPC endpoints,
// failing over to the next when one is down or catching up, and waits for inclusion,
// resubmitting a transaction that a full mempool dropped. It is safe for concurrent use.
type Client struct {
	endpoints []rpcclient.Client
	logger    *slog.Logger
	// PollInterval is how often inclusion is checked (default 20 ms).
	PollInterval time.Duration
	// ResubmitAfter is how many blocks may pass without inclusion before the tx is sent again
	// (default 5).
	ResubmitAfter int64

	mu   sync.Mutex
	next int // index of the endpoint in use
}

// current returns the endpoint in use.
func (c *Client) current() rpcclient.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endpoints[c.next]
}

// NewClient returns a client over the given CometBFT RPC clients (e.g. Node.Local(), or
// HTTP clients from DialHTTP), tried in order.
func NewClient(logger *slog.Logger, endpoints ...rpcclient.Client) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("chain: client needs at least one RPC endpoint")
	}
	return &Client{endpoints: endpoints, logger: logger, PollInterval: 20 * time.Millisecond, ResubmitAfter: 5}, nil
}

// DialHTTP returns HTTP RPC clients for addresses like "tcp://127.0.0.1:26657" or
// "http://host:26657".
func DialHTTP(addrs ...string) ([]rpcclient.Client, error) {
	var out []rpcclient.Client
	for _, a := range addrs {
		c, err := rpchttp.New(RPCURL(a), "/websocket")
		if err != nil {
			return nil, fmt.Errorf("chain: rpc %s: %w", a, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// TxRejectedError reports a transaction the state machine refused, in CheckTx or in the block.
type TxRejectedError struct {
	Code uint32
	Log  string
}

func (e *TxRejectedError) Error() string {
	return fmt.Sprintf("chain: transaction rejected (code %d): %s", e.Code, e.Log)
}

// Inclusion is where a transaction landed and what it did.
type Inclusion struct {
	Height int64
	Hash   []byte
	Result TxResult
}

// Submit broadcasts tx and waits until it is in a block. A transaction refused by CheckTx or
// executed with a non-zero code returns *TxRejectedError. Submitting the same bytes twice is
// safe: the ledger's nonces reject a replay, and the mempool cache drops duplicates.
func (c *Client) Submit(ctx context.Context, tx []byte) (*Inclusion, error) {
	return c.SubmitAccepted(ctx, tx, nil)
}

// SubmitAccepted is Submit calling accepted (if not nil) once, when a validator's mempool
// first admits tx. Once admitted, the same bytes are resent when they are not included, and a
// resend refused for its nonce keeps waiting for the inclusion (the transaction itself may
// have been included meanwhile, on another validator) for nonceGrace blocks: if the index
// still does not show it then, another transaction took the nonce (one this signer sent before
// a restart, included in a block the validator had not yet synced when it admitted this one)
// and it returns *TxRejectedError with the ledger's nonce code, for the caller to sign again
// with the next nonce. A retry never signs anything new.
func (c *Client) SubmitAccepted(ctx context.Context, tx []byte, accepted func()) (*Inclusion, error) {
	hash := types.Tx(tx).Hash()
	var sentAt int64 = -1
	admitted := false
	nonceRefused, nonceLog := false, "" // a resend was refused for its nonce, and why
	var nonceAt int64 = -1              // the height then
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ep := c.current()
		if sentAt < 0 {
			res, err := ep.BroadcastTxSync(ctx, tx)
			switch {
			case err != nil && !isAlreadyInCache(err):
				c.failover(err)
				if err := c.sleep(ctx); err != nil {
					return nil, err
				}
				continue
			case err == nil && res.Code == ledger.Code(ledger.ErrNonce) && admitted:
				// Included since it was admitted, or another transaction took its nonce:
				// wait nonceGrace blocks for the index to show it.
				nonceRefused, nonceLog = true, res.Log
			case err == nil && res.Code != 0:
				return nil, &TxRejectedError{Code: res.Code, Log: res.Log}
			}
			if !admitted {
				admitted = true
				if accepted != nil {
					accepted()
				}
			}
			st, err := ep.Status(ctx)
			if err != nil {
				c.failover(err)
				continue
			}
			sentAt = st.SyncInfo.LatestBlockHeight
			if nonceRefused && nonceAt < 0 {
				nonceAt = sentAt
			}
		}
		res, err := ep.Tx(ctx, hash, false)
		if err == nil {
			return inclusion(res)
		}
		if err := c.sleep(ctx); err != nil {
			return nil, err
		}
		st, serr := ep.Status(ctx)
		if serr != nil {
			c.failover(serr)
			sentAt = -1 // the tx may have died with that validator's mempool: send again
			continue
		}
		if nonceAt >= 0 && st.SyncInfo.LatestBlockHeight-nonceAt >= nonceGrace {
			return nil, &TxRejectedError{Code: ledger.Code(ledger.ErrNonce),
				Log: fmt.Sprintf("admitted, then refused and not included within %d blocks: another transaction took its nonce: %s", nonceGrace, nonceLog)}
		}
		if st.SyncInfo.LatestBlockHeight-sentAt >= c.ResubmitAfter {
			c.logger.Debug("transaction not included, resubmitting", "tx", fmt.Sprintf("%X", hash[:6]), "blocks", st.SyncInfo.LatestBlockHeight-sentAt)
			sentAt = -1
		}
	}
}

// nonceGrace is how many blocks SubmitAccepted waits for a transaction whose resend was
// refused for its nonce to show in the index (CometBFT indexes a block's transactions just
// after committing it) before it takes the nonce as used by another transaction.
const nonceGrace = 2

// Broadcast hands tx to a validator's mempool without waiting for a block. A transaction
// CheckTx refuses returns *TxRejectedError with the refusal's code; one already in the
// mempool cache counts as accepted. Failing endpoints are skipped in turn.
func (c *Client) Broadcast(ctx context.Context, tx []byte) error {
	var lastErr error
	for range c.endpoints {
		res, err := c.current().BroadcastTxSync(ctx, tx)
		switch {
		case err != nil && isAlreadyInCache(err):
			return nil
		case err != nil:
			lastErr = err
			c.failover(err)
			continue
		case res.Code != 0:
			return &TxRejectedError{Code: res.Code, Log: res.Log}
		}
		return nil
	}
	return fmt.Errorf("chain: broadcast: every endpoint failed: %w", lastErr)
}

// Query runs an ABCI query on the first endpoint that answers.
func (c *Client) Query(ctx context.Context, path string, data []byte) ([]byte, error) {
	var lastErr error
	for range c.endpoints {
		res, err := c.current().ABCIQuery(ctx, path, data)
		if err != nil {
			lastErr = err
			c.failover(err)
			continue
		}
		if res.Response.Code != 0 {
			return nil, fmt.Errorf("chain: query %s: %s", path, res.Response.Log)
		}
		return res.Response.Value, nil
	}
	return nil, fmt.Errorf("chain: query %s: every endpoint failed: %w", path, lastErr)
}

// Height returns the latest block height known to the current endpoint.
func (c *Client) Height(ctx context.Context) (int64, error) {
	st, err := c.current().Status(ctx)
	if err != nil {
		c.failover(err)
		return 0, fmt.Errorf("chain: status: %w", err)
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

func (c *Client) failover(err error) {
	if len(c.endpoints) > 1 {
		c.logger.Debug("rpc endpoint failed, trying the next", "err", err)
	}
	c.mu.Lock()
	c.next = (c.next + 1) % len(c.endpoints)
	c.mu.Unlock()
}

func (c *Client) sleep(ctx context.Context) error {
	t := time.NewTimer(c.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isAlreadyInCache(err error) bool {
	return bytes.Contains([]byte(err.Error()), []byte("tx already exists in cache"))
}

// LedgerEvents returns the ledger events among the events of an included transaction, in
// order (ParseLedgerEvent on each).
func (in *Inclusion) LedgerEvents() []ledger.Event {
	var out []ledger.Event
	for _, e := range in.Result.Events {
		ae := abci.Event{Type: e.Type}
		for _, a := range e.Attributes {
			ae.Attributes = append(ae.Attributes, abci.EventAttribute{Key: a.Key, Value: a.Value})
		}
		if ev, ok := ParseLedgerEvent(ae); ok {
			out = append(out, ev)
		}
	}
	return out
}

func inclusion(res *ctypes.ResultTx) (*Inclusion, error) {
	in := &Inclusion{Height: res.Height, Hash: res.Hash, Result: TxResult{Code: res.TxResult.Code, Log: res.TxResult.Log}}
	for _, e := range res.TxResult.Events {
		ev := Event{Type: e.Type}
		for _, a := range e.Attributes {
			ev.Attributes = append(ev.Attributes, Attribute{Key: a.Key, Value: a.Value})
		}
		in.Result.Events = append(in.Result.Events, ev)
	}
	if res.TxResult.Code != 0 {
		return in, &TxRejectedError{Code: res.TxResult.Code, Log: res.TxResult.Log}
	}
	return in, nil
}

// BlockActivity is what a committed block did in the ledger: its accepted transactions (raw)
// and the ledger events of the block, transactions' first, then the end-of-block ones.
type BlockActivity struct {
	Height int64
	// Time is the block's consensus timestamp (the ledger's block time).
	Time   time.Time
	Txs    [][]byte // transactions that executed with code 0, in block order
	Events []ledger.Event
}

// Activity returns the ledger activity of the committed block at height.
func (c *Client) Activity(ctx context.Context, height int64) (*BlockActivity, error) {
	var lastErr error
	for range c.endpoints {
		ep := c.current()
		blk, err := ep.Block(ctx, &height)
		if err != nil {
			lastErr = err
			c.failover(err)
			continue
		}
		res, err := ep.BlockResults(ctx, &height)
		for tries := 0; err != nil && strings.Contains(err.Error(), "could not find results") && tries < 500; tries++ {
			// The block is stored before its results: they follow within the block's execution.
			if err := c.sleep(ctx); err != nil {
				return nil, err
			}
			res, err = ep.BlockResults(ctx, &height)
		}
		if err != nil {
			lastErr = err
			c.failover(err)
			continue
		}
		a := &BlockActivity{Height: height, Time: blk.Block.Time}
		for i, r := range res.TxsResults {
			if r.Code != 0 || i >= len(blk.Block.Txs) {
				continue
			}
			a.Txs = append(a.Txs, blk.Block.Txs[i])
			for _, e := range r.Events {
				if ev, ok := ParseLedgerEvent(e); ok {
					a.Events = append(a.Events, ev)
				}
			}
		}
		for _, e := range res.FinalizeBlockEvents {
			if ev, ok := ParseLedgerEvent(e); ok {
				a.Events = append(a.Events, ev)
			}
		}
		return a, nil
	}
	return nil, fmt.Errorf("chain: block %d: every endpoint failed: %w", height, lastErr)
}

// WaitHeight blocks until the chain has committed height, polling every PollInterval.
func (c *Client) WaitHeight(ctx context.Context, height int64) error {
	for {
		h, err := c.Height(ctx)
		if err == nil && h >= height {
			return nil
		}
		if err := c.sleep(ctx); err != nil {
			return err
		}
	}
}

// QueryJSON runs a query and decodes its JSON answer into v.
func (c *Client) QueryJSON(ctx context.Context, path string, data []byte, v any) error {
	b, err := c.Query(ctx, path, data)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("chain: query %s: %w", path, err)
	}
	return nil
}

// Settlement is what the indexed events say about how a task settled; it is how a task
// pruned from the ledger state (ledger.Params.PruneAfter) is still answered.
type Settlement struct {
	Height int64 // block of the settling event
	// Event is the "verdict" event (accepted: value, support, need, agreeing nodes) or the
	// last "no-verdict" event (reason). When only the block search found it and the block's
	// results are pruned, Event has its Type and Task only and Detailed is false.
	Event    ledger.Event
	InTx     bool // settled in a transaction (the last reveal or vote), not at a deadline
	Detailed bool
}

// ErrNoSettlement is returned by Settlement when no settling event of the task is indexed.
var ErrNoSettlement = errors.New("chain: no settlement event indexed for the task")

// Settlement searches the validators' event index (CometBFT's kv indexer: tx_search and
// block_search) for the event that settled task id: a verdict, else the last no-verdict.
// Transaction events come with their attributes from the index itself, which block pruning
// does not remove; end-of-block events (settlement at a deadline) are found only while their
// block is kept (block_search skips pruned blocks), with their attributes from the block's
// results.
func (c *Client) Settlement(ctx context.Context, id ledger.TaskID) (*Settlement, error) {
	ep := c.current()
	for _, typ := range []ledger.EventType{ledger.EventVerdict, ledger.EventNoVerdict} {
		q := fmt.Sprintf("%s.task='%s'", typ, id)
		find := func(evs []abci.Event) (ledger.Event, bool) {
			var found ledger.Event
			ok := false
			for _, e := range evs {
				if ev, isLedger := ParseLedgerEvent(e); isLedger && ev.Type == typ && ev.Task == id {
					found, ok = ev, true // the last one: a no-verdict of round 1 follows round 0's
				}
			}
			return found, ok
		}
		var best *Settlement
		per := 10
		txs, err := ep.TxSearch(ctx, q, false, nil, &per, "desc")
		if err != nil {
			return nil, fmt.Errorf("chain: search %s: %w", q, err)
		}
		for _, r := range txs.Txs {
			if ev, ok := find(r.TxResult.Events); ok && (best == nil || r.Height > best.Height) {
				best = &Settlement{Height: r.Height, Event: ev, InTx: true, Detailed: true}
			}
		}
		blocks, err := ep.BlockSearch(ctx, q, nil, &per, "desc")
		if err != nil {
			return nil, fmt.Errorf("chain: search %s: %w", q, err)
		}
		for _, b := range blocks.Blocks {
			h := b.Block.Height
			if best != nil && h <= best.Height {
				continue
			}
			s := &Settlement{Height: h, Event: ledger.Event{Type: typ, Task: id}}
			if res, err := ep.BlockResults(ctx, &h); err == nil {
				if ev, ok := find(res.FinalizeBlockEvents); ok {
					s.Event, s.Detailed = ev, true
				}
			}
			best = s
		}
		if best != nil {
			return best, nil
		}
	}
	return nil, fmt.Errorf("%w %s", ErrNoSettlement, id)
}
