package chain

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/genquorum/genquorum/ledger"
)

// fakeEndpoint is a validator's RPC as SubmitAccepted uses it: the chain grows one block per
// Status call; the first broadcast is admitted and any later one refused with the ledger's
// nonce code (the signer's nonce was used meanwhile). With included, the index shows the
// transaction from the block after the first refusal on (it was the one that used the
// nonce); otherwise never (another transaction used it). Past maxHeight it cancels the
// submission's context, so that a client that would wait forever ends.
type fakeEndpoint struct {
	rpcclient.Client // nil: only the methods below are called
	mu               sync.Mutex
	height           int64
	broadcasts       int
	refusedAt        int64 // height of the first refused broadcast (0: none)
	included         bool
	maxHeight        int64
	cancel           context.CancelFunc
}

func (f *fakeEndpoint) BroadcastTxSync(context.Context, types.Tx) (*ctypes.ResultBroadcastTx, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broadcasts++; f.broadcasts == 1 {
		return &ctypes.ResultBroadcastTx{Code: abci.CodeTypeOK}, nil
	}
	if f.refusedAt == 0 {
		f.refusedAt = f.height
	}
	return &ctypes.ResultBroadcastTx{Code: ledger.Code(ledger.ErrNonce), Log: "nonce used"}, nil
}

func (f *fakeEndpoint) Status(context.Context) (*ctypes.ResultStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.height++; f.height > f.maxHeight {
		f.cancel()
	}
	return &ctypes.ResultStatus{SyncInfo: ctypes.SyncInfo{LatestBlockHeight: f.height}}, nil
}

func (f *fakeEndpoint) Tx(_ context.Context, hash []byte, _ bool) (*ctypes.ResultTx, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.included && f.refusedAt > 0 && f.height > f.refusedAt {
		return &ctypes.ResultTx{Hash: hash, Height: f.refusedAt}, nil
	}
	return nil, errors.New("tx not found")
}

// TestSubmitNonceTakenByAnotherTx: a transaction admitted by a validator whose state was a
// block behind, whose nonce a transaction the signer sent before a restart took in that
// block, is dropped from the mempool and refused for its nonce when resent. Submit returns
// the nonce refusal (the caller signs again with the next nonce) instead of waiting forever
// for an inclusion that cannot come: a restarted node's re-registration hung so, and the node
// never acted again. A transaction that was itself included is still reported included.
func TestSubmitNonceTakenByAnotherTx(t *testing.T) {
	for _, tc := range []struct {
		name     string
		included bool
	}{
		{"nonce taken by another transaction", false},
		{"included meanwhile", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ep := &fakeEndpoint{included: tc.included, maxHeight: 100, cancel: cancel}
			c, err := NewClient(slog.New(slog.DiscardHandler), ep)
			if err != nil {
				t.Fatal(err)
			}
			c.PollInterval = 0
			admitted := 0
			in, err := c.SubmitAccepted(ctx, []byte("register"), func() { admitted++ })
			if admitted != 1 {
				t.Errorf("accepted called %d times, want 1", admitted)
			}
			var rej *TxRejectedError
			switch {
			case errors.Is(err, context.Canceled):
				t.Fatalf("still waiting at height %d after %d broadcasts", ep.height, ep.broadcasts)
			case tc.included:
				if err != nil || in == nil || in.Height != ep.refusedAt {
					t.Errorf("SubmitAccepted = %+v, %v; want included at height %d", in, err, ep.refusedAt)
				}
			case !errors.As(err, &rej) || rej.Code != ledger.Code(ledger.ErrNonce):
				t.Errorf("SubmitAccepted = %+v, %v; want a nonce refusal", in, err)
			default:
				// Resent once, after ResubmitAfter blocks; given up nonceGrace blocks after
				// the refusal.
				if ep.broadcasts != 2 || ep.height > ep.refusedAt+nonceGrace+1 {
					t.Errorf("%d broadcasts, refused at height %d, gave up at %d", ep.broadcasts, ep.refusedAt, ep.height)
				}
				t.Logf("refused at height %d, gave up at %d: %v", ep.refusedAt, ep.height, err)
			}
		})
	}
}
