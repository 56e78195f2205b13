package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	// Accepted, if set, is called with the task ID as soon as a validator's mempool admits the
	// submission (before it is in a block).
	Accepted func(ledger.TaskID)
	// WaitBusy makes Submit retry, every BusyRetry, a submission refused because the network
	// is at capacity (ledger.ErrNoCapacity) until its context ends, instead of failing.
	WaitBusy  bool
	BusyRetry time.Duration
	// Journal, if set, is a file where Submit keeps the signed submission until it is in a
	// block. A Submit of the same request with the same journal (e.g. a retry after a timeout)
	// resends those bytes instead of signing a new transaction, so it cannot pay twice.
	Journal string
}

// NewClient returns a client signing with key on chainID.
func NewClient(key ed25519.PrivateKey, chainID string, c *chain.Client) *Client {
	return &Client{chain: c, signer: ledger.NewSigner(key, chainID), Poll: 25 * time.Millisecond, BusyRetry: 500 * time.Millisecond}
}

// Key returns the client's account key.
func (c *Client) Key() ledger.PubKey { return c.signer.Key() }

// journalEntry is a signed submission waiting for inclusion.
type journalEntry struct {
	Spec []byte `json:"spec"` // SHA-256 of the request's canonical spec
	Tx   []byte `json:"tx"`
}

// Submit submits r and returns the task's ID once the submission is in a block. The
// transaction is signed once: it is resent as the same bytes until included (see
// chain.Client.SubmitAccepted), so the fee is never paid twice. A submission refused for its
// nonce before any mempool admitted it (the account moved on) is signed again with a fresh
// nonce, at most 3 times.
func (c *Client) Submit(ctx context.Context, r Request) (ledger.TaskID, error) {
	spec, err := r.Spec()
	if err != nil {
		return ledger.TaskID{}, err
	}
	digest := specHash(spec)
	c.mu.Lock()
	defer c.mu.Unlock()
	tx := c.journaled(digest)
	for attempt := 0; ; attempt++ {
		if tx == nil {
			if !c.synced || attempt > 0 {
				var acct ledger.Account
				key := c.signer.Key()
				if err := c.chain.QueryJSON(ctx, chain.QueryAccount, key[:], &acct); err != nil {
					return ledger.TaskID{}, err
				}
				c.signer.SetNonce(max(acct.Nonce, c.signer.Nonce()))
				c.synced = true
			}
			tx, _ = c.signer.SubmitTask(spec)
			c.journal(digest, tx)
		}
		dec, err := ledger.DecodeTx(tx)
		if err != nil {
			return ledger.TaskID{}, err
		}
		id := ledger.TaskIDFor(dec.Signer, dec.Nonce)
		_, err = c.chain.SubmitAccepted(ctx, tx, func() {
			if c.Accepted != nil {
				c.Accepted(id)
			}
		})
		var rej *chain.TxRejectedError
		switch {
		case errors.As(err, &rej) && rej.Code == ledger.Code(ledger.ErrNonce) && attempt < 3:
			var tv chain.TaskView
			if c.chain.QueryJSON(ctx, chain.QueryTask, id[:], &tv) == nil { // it is in: done
				c.journal(digest, nil)
				return id, nil
			}
			tx = nil
			continue
		case errors.As(err, &rej) && rej.Code == ledger.Code(ledger.ErrNoCapacity) && c.WaitBusy:
			t := time.NewTimer(c.BusyRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return ledger.TaskID{}, fmt.Errorf("node: submit: %w (gave up waiting for capacity)", err)
			case <-t.C:
			}
			continue // same bytes: the nonce is still unused
		case err != nil:
			if rej != nil {
				c.journal(digest, nil) // refused or failed in its block: nothing to resend
			}
			return ledger.TaskID{}, fmt.Errorf("node: submit: %w", err)
		}
		c.journal(digest, nil)
		return id, nil
	}
}

// ItemRejectedError is why the ledger skipped one task of a SubmitBatch: its code
// (ledger.Code of the error) and message.
type ItemRejectedError struct {
	Code uint32
	Log  string
}

func (e *ItemRejectedError) Error() string {
	return fmt.Sprintf("task skipped in its batch (code %d): %s", e.Code, e.Log)
}

// SubmitBatch submits rs in one ledger.SubmitBatch transaction (one signature, nonce and
// transaction fee for all; each task pays its own fee) and returns, once it is in a block,
// every task's ID and, per task, nil or the *ItemRejectedError for which the ledger skipped it
// (no capacity left, funds, ...): a batch beyond the network's capacity is accepted up to it.
// Unlike Submit it keeps no Journal and does not wait for capacity (WaitBusy); the
// transaction is resent as the same bytes until included, so it is never paid twice.
func (c *Client) SubmitBatch(ctx context.Context, rs []Request) ([]ledger.TaskID, []error, error) {
	specs := make([]ledger.SubmitTask, len(rs))
	for i, r := range rs {
		spec, err := r.Spec()
		if err != nil {
			return nil, nil, fmt.Errorf("node: submit batch: task %d: %w", i, err)
		}
		specs[i] = spec
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var acct ledger.Account
	key := c.signer.Key()
	if err := c.chain.QueryJSON(ctx, chain.QueryAccount, key[:], &acct); err != nil {
		return nil, nil, err
	}
	c.signer.SetNonce(max(acct.Nonce, c.signer.Nonce()))
	c.synced = true
	tx, ids := c.signer.SubmitBatch(specs)
	in, err := c.chain.Submit(ctx, tx)
	if err != nil {
		return nil, nil, fmt.Errorf("node: submit batch: %w", err)
	}
	at := make(map[ledger.TaskID]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	errs := make([]error, len(ids))
	for _, ev := range in.LedgerEvents() {
		if ev.Type == ledger.EventItemRejected {
			if i, mine := at[ev.Task]; mine {
				errs[i] = &ItemRejectedError{Code: uint32(ev.Amount), Log: ev.Reason}
			}
		}
	}
	return ids, errs, nil
}

func specHash(spec ledger.SubmitTask) []byte {
	b, _ := json.Marshal(spec)
	h := sha256.Sum256(b)
	return h[:]
}

// journaled returns the journal's transaction if it was signed for the same request.
func (c *Client) journaled(digest []byte) []byte {
	if c.Journal == "" {
		return nil
	}
	b, err := os.ReadFile(c.Journal)
	if err != nil {
		return nil
	}
	var e journalEntry
	if json.Unmarshal(b, &e) != nil || !bytes.Equal(e.Spec, digest) {
		return nil
	}
	return e.Tx
}

// journal records tx for the request (removes the journal when tx is nil).
func (c *Client) journal(digest, tx []byte) {
	if c.Journal == "" {
		return
	}
	if tx == nil {
		os.Remove(c.Journal)
		return
	}
	b, _ := json.Marshal(journalEntry{Spec: digest, Tx: tx})
	tmp := c.Journal + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, c.Journal)
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
