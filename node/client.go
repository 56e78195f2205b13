package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
)

// Client submits tasks and waits for their verdicts. It is safe for concurrent use.
type Client struct {
	chain  *chain.Client
	mu     sync.Mutex
	signer *ledger.Signer
	synced bool
	// Poll is how often Wait checks a task (default 25 ms).
	Poll time.Duration
}

// NewClient returns a client signing with key on chainID.
func NewClient(key ed25519.PrivateKey, chainID string, c *chain.Client) *Client {
	return &Client{chain: c, signer: ledger.NewSigner(key, chainID), Poll: 25 * time.Millisecond}
}

// Key returns the client's account key.
func (c *Client) Key() ledger.PubKey { return c.signer.Key() }

// Submit submits r and returns the task's ID once the submission is in a block.
func (c *Client) Submit(ctx context.Context, r Request) (ledger.TaskID, error) {
	spec, err := r.Spec()
	if err != nil {
		return ledger.TaskID{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !c.synced || attempt > 0 {
			var acct ledger.Account
			key := c.signer.Key()
			if err := c.chain.QueryJSON(ctx, chain.QueryAccount, key[:], &acct); err != nil {
				return ledger.TaskID{}, err
			}
			c.signer.SetNonce(acct.Nonce)
			c.synced = true
		}
		tx, id := c.signer.SubmitTask(spec)
		_, err := c.chain.Submit(ctx, tx)
		var rej *chain.TxRejectedError
		if errors.As(err, &rej) && rej.Code == ledger.Code(ledger.ErrNonce) && attempt < 3 {
			continue
		}
		if err != nil {
			return ledger.TaskID{}, fmt.Errorf("node: submit: %w", err)
		}
		return id, nil
	}
}

// Task returns the task's current view.
func (c *Client) Task(ctx context.Context, id ledger.TaskID) (chain.TaskView, error) {
	var tv chain.TaskView
	err := c.chain.QueryJSON(ctx, chain.QueryTask, id[:], &tv)
	return tv, err
}

// Wait polls the task until it is settled (accepted or no verdict) and returns it.
func (c *Client) Wait(ctx context.Context, id ledger.TaskID) (chain.TaskView, error) {
	t := time.NewTicker(c.Poll)
	defer t.Stop()
	for {
		tv, err := c.Task(ctx, id)
		if err == nil && (tv.Status == ledger.StatusAccepted.String() || tv.Status == ledger.StatusNoVerdict.String()) {
			return tv, nil
		}
		select {
		case <-ctx.Done():
			return tv, ctx.Err()
		case <-t.C:
		}
	}
}
