package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
)

// resendAfter is how many blocks an item waits for inclusion before it is sent again in a new
// batch. A copy included twice is harmless: the second is skipped as already committed or
// revealed (and its batch pays one fee).
const resendAfter = 8

// maxBatchBytes bounds the body of one batch, well inside ledger.MaxTxBytes.
const maxBatchBytes = ledger.MaxTxBytes - 2048

// outbox holds the commitments and reveals waiting for inclusion. Items are added by the
// workers and the follower, sent by flush in one Batch per call (several when they do not fit
// one), and removed when the chain reports them (EventCommitted, EventRevealed,
// EventItemRejected) or their task settles.
type outbox struct {
	mu      sync.Mutex
	commits map[jobKey]*outItem
	reveals map[jobKey]*outItem
	kick    chan struct{}
}

type outItem struct {
	commit ledger.Commit
	reveal ledger.Reveal
	sentAt int64 // chain height when last sent; 0 = not sent
}

func newOutbox() *outbox {
	return &outbox{commits: map[jobKey]*outItem{}, reveals: map[jobKey]*outItem{}, kick: make(chan struct{}, 1)}
}

func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// addCommit queues a commitment (once).
func (o *outbox) addCommit(k jobKey, c ledger.Commit) {
	o.mu.Lock()
	if o.commits[k] == nil {
		o.commits[k] = &outItem{commit: c}
	}
	o.mu.Unlock()
	o.wake()
}

// addReveal queues a reveal (once).
func (o *outbox) addReveal(k jobKey, r ledger.Reveal) {
	o.mu.Lock()
	if o.reveals[k] == nil {
		o.reveals[k] = &outItem{reveal: r}
	}
	o.mu.Unlock()
	o.wake()
}

// done removes the task's items of round k.round (committed, revealed, rejected or settled).
func (o *outbox) doneCommit(k jobKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.commits[k]
	delete(o.commits, k)
	return ok
}

func (o *outbox) doneReveal(k jobKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.reveals[k]
	delete(o.reveals, k)
	return ok
}

// pending reports how many items wait.
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.commits) + len(o.reveals)
}

// due takes the items to send at height: never sent, or sent resendAfter blocks ago and not
// included, and marks them sent at height. It returns the batches to sign, within the size
// and item limits.
func (o *outbox) due(height int64) []ledger.Batch {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []ledger.Batch
	var cur ledger.Batch
	size := 0
	push := func(n int) {
		if len(cur.Commits)+len(cur.Reveals) >= ledger.MaxBatchItems || size+n > maxBatchBytes {
			out = append(out, cur)
			cur, size = ledger.Batch{}, 0
		}
		size += n
	}
	ready := func(it *outItem) bool {
		if it.sentAt == 0 || height-it.sentAt >= resendAfter {
			it.sentAt = max(height, 1)
			return true
		}
		return false
	}
	for _, k := range sortedJobs(o.commits) {
		if it := o.commits[k]; ready(it) {
			push(64)
			cur.Commits = append(cur.Commits, it.commit)
		}
	}
	for _, k := range sortedJobs(o.reveals) {
		if it := o.reveals[k]; ready(it) {
			push(32 + 4 + len(it.reveal.Fingerprint) + 64)
			cur.Reveals = append(cur.Reveals, it.reveal)
		}
	}
	if len(cur.Commits)+len(cur.Reveals) > 0 {
		out = append(out, cur)
	}
	return out
}

// unsend marks the items of b as not sent, to be sent again at the next flush.
func (o *outbox) unsend(b ledger.Batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range b.Commits {
		for k, it := range o.commits {
			if k.task == c.Task {
				it.sentAt = 0
			}
		}
	}
	for _, r := range b.Reveals {
		for k, it := range o.reveals {
			if k.task == r.Task {
				it.sentAt = 0
			}
		}
	}
}

// drop removes the items of b (the whole batch was refused for good).
func (o *outbox) drop(b ledger.Batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range b.Commits {
		for k := range o.commits {
			if k.task == c.Task {
				delete(o.commits, k)
			}
		}
	}
	for _, r := range b.Reveals {
		for k := range o.reveals {
			if k.task == r.Task {
				delete(o.reveals, k)
			}
		}
	}
}

// keysOf returns the jobs of the commitments of b still in the outbox.
func (o *outbox) keysOf(b ledger.Batch) []jobKey {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ks []jobKey
	for _, c := range b.Commits {
		for k := range o.commits {
			if k.task == c.Task {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

func sortedJobs(m map[jobKey]*outItem) []jobKey {
	keys := make([]jobKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // insertion sort: small maps, deterministic order
		for j := i; j > 0 && lessJob(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func lessJob(a, b jobKey) bool {
	if a.task != b.task {
		for i := range a.task {
			if a.task[i] != b.task[i] {
				return a.task[i] < b.task[i]
			}
		}
	}
	return a.round < b.round
}

// flush signs and broadcasts the due items as batches, each with the next nonce, without
// waiting for inclusion: several batches may be in flight. A batch refused for its nonce
// resynchronises the nonce and is sent again at the next flush; one refused because none of
// its items can apply any more is dropped; one that could not reach any validator waits.
func (n *Node) flush(ctx context.Context, height int64) {
	for _, b := range n.out.due(height) {
		err := n.broadcast(ctx, func(s *ledger.Signer) []byte { return s.Batch(b) })
		var rej *chain.TxRejectedError
		switch {
		case err == nil:
			n.traceSent(n.out.keysOf(b), height)
		case ctx.Err() != nil:
			return
		case errors.As(err, &rej) && (rej.Code == ledger.Code(ledger.ErrNonce) || rej.Code == ledger.Code(ledger.ErrInsufficientFunds)):
			n.logger.Warn("batch refused, will resend", "code", rej.Code, "err", rej.Log)
			n.out.unsend(b)
		case errors.As(err, &rej):
			n.logger.Warn("batch refused, dropping its items", "commits", len(b.Commits), "reveals", len(b.Reveals), "code", rej.Code, "err", rej.Log)
			n.out.drop(b)
			n.Stats.Failed.Add(int64(len(b.Commits) + len(b.Reveals)))
		default:
			n.logger.Warn("batch not sent, will resend", "err", err)
			n.out.unsend(b)
		}
	}
}

// broadcast signs one transaction with the next nonce and hands it to the mempool. The local
// nonce only grows (transactions in flight hold the ones between the committed nonce and it);
// after a nonce refusal it jumps to the committed nonce if that is ahead.
func (n *Node) broadcast(ctx context.Context, build func(*ledger.Signer) []byte) error {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	if err := n.syncNonce(ctx, false); err != nil {
		return err
	}
	err := n.client.Broadcast(ctx, build(n.signer))
	var rej *chain.TxRejectedError
	if errors.As(err, &rej) && rej.Code == ledger.Code(ledger.ErrNonce) {
		if serr := n.syncNonce(ctx, true); serr != nil {
			return fmt.Errorf("%w (and nonce sync: %v)", err, serr)
		}
	}
	return err
}

// syncNonce raises the signer's nonce to the account's committed one (always when force, else
// only before the first transaction). Call with sendMu held.
func (n *Node) syncNonce(ctx context.Context, force bool) error {
	if n.nonceSynced && !force {
		return nil
	}
	var acct ledger.Account
	if err := n.client.QueryJSON(ctx, chain.QueryAccount, n.key[:], &acct); err != nil {
		return err
	}
	if acct.Nonce > n.signer.Nonce() {
		n.signer.SetNonce(acct.Nonce)
	}
	n.nonceSynced = true
	return nil
}
