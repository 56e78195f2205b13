package chain

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
)

// StateMachine is the deterministic application that chain replicates; package ledger
// implements it through a thin adapter. Implementations must depend only on their previous
// state and the arguments: no clock, no randomness of their own, no I/O.
type StateMachine interface {
	// InitChain creates the genesis state from the app_state of CometBFT's genesis file and
	// returns its app hash (nil if it has none).
	InitChain(chainID string, appState []byte) ([]byte, error)
	// CheckTx validates tx against the last committed state without changing it (decoding,
	// size, signature, and whatever the state can tell: the signer can pay, the nonce is
	// unused...). A nil error admits it to the mempool; an error with an ABCICode() uint32
	// method gives the code CheckTx answers (CodeBadTx otherwise). App serialises it with
	// FinalizeBlock and Commit.
	CheckTx(tx []byte) error
	// FinalizeBlock applies a decided block to a staged copy of the state. randomness is the
	// block hash, timeMillis the block's consensus (BFT) time in milliseconds since the Unix
	// epoch. It returns one result per tx, the events of the block (tx-independent ones
	// such as settlements) and the app hash of the staged state.
	FinalizeBlock(height int64, randomness []byte, timeMillis uint64, txs [][]byte) (BlockResult, error)
	// Commit makes the staged state current.
	Commit() error
	// Query answers a read-only query against the committed state.
	Query(path string, data []byte) ([]byte, error)
	// Height and AppHash describe the committed state (0 and nil before the first block).
	Height() int64
	AppHash() []byte
}

// BlockResult is what FinalizeBlock returns.
type BlockResult struct {
	Txs     []TxResult
	Events  []Event
	AppHash []byte
}

// TxResult is the outcome of one transaction: Code 0 is success; any other code rejects the
// transaction (it stays in the block, with no effect on state) and Log says why.
type TxResult struct {
	Code   uint32
	Log    string
	Events []Event
}

// Event is a typed record of something that happened, indexed by CometBFT so clients can
// search for it (e.g. type "verdict", attribute "task").
type Event struct {
	Type       string
	Attributes []Attribute
}

// Attribute is one key/value pair of an Event.
type Attribute struct{ Key, Value string }

// CodeBadTx is the CheckTx code for a transaction the state machine refuses.
const CodeBadTx = 1

// App is the ABCI++ application: an adapter from CometBFT to a StateMachine. It is safe for
// CometBFT's concurrent connections: the consensus connection is serialised by CometBFT and
// takes the write lock; CheckTx (mempool) and queries take the read lock, so they see the
// state between blocks, never half a block.
type App struct {
	abci.BaseApplication
	mu     sync.RWMutex
	sm     StateMachine
	logger *slog.Logger
}

var _ abci.Application = (*App)(nil)

// NewApp wraps sm.
func NewApp(sm StateMachine, logger *slog.Logger) *App {
	return &App{sm: sm, logger: logger}
}

// Info reports the committed height and app hash, from which CometBFT replays blocks.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return &abci.ResponseInfo{
		Data:             "genquorum",
		Version:          "1",
		AppVersion:       1,
		LastBlockHeight:  a.sm.Height(),
		LastBlockAppHash: a.sm.AppHash(),
	}, nil
}

// InitChain creates the genesis state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, err := a.sm.InitChain(req.ChainId, req.AppStateBytes)
	if err != nil {
		return nil, fmt.Errorf("chain: init chain: %w", err)
	}
	return &abci.ResponseInitChain{AppHash: h}, nil
}

// CheckTx admits or refuses a transaction to the mempool.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.RLock()
	err := a.sm.CheckTx(req.Tx)
	a.mu.RUnlock()
	if err != nil {
		code := uint32(CodeBadTx)
		var c interface{ ABCICode() uint32 }
		if errors.As(err, &c) && c.ABCICode() != 0 {
			code = c.ABCICode()
		}
		return &abci.ResponseCheckTx{Code: code, Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Code: abci.CodeTypeOK}, nil
}

// FinalizeBlock applies the decided block.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	randomness := req.Hash
	if len(randomness) == 0 { // never expected from CometBFT; keep the state machine total
		h := sha256.Sum256(fmt.Appendf(nil, "height %d", req.Height))
		randomness = h[:]
	}
	var ms uint64
	if t := req.Time.UnixMilli(); t > 0 {
		ms = uint64(t)
	}
	res, err := a.sm.FinalizeBlock(req.Height, randomness, ms, req.Txs)
	if err != nil {
		// No deterministic way to make progress: halt (STYLE.md §4).
		return nil, fmt.Errorf("chain: finalize block %d: %w", req.Height, err)
	}
	if len(res.Txs) != len(req.Txs) {
		return nil, fmt.Errorf("chain: finalize block %d: %d results for %d txs", req.Height, len(res.Txs), len(req.Txs))
	}
	out := &abci.ResponseFinalizeBlock{
		TxResults: make([]*abci.ExecTxResult, len(res.Txs)),
		Events:    toABCIEvents(res.Events),
		AppHash:   res.AppHash,
	}
	for i, r := range res.Txs {
		out.TxResults[i] = &abci.ExecTxResult{Code: r.Code, Log: r.Log, Events: toABCIEvents(r.Events)}
	}
	return out, nil
}

// Commit persists the staged state.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.sm.Commit(); err != nil {
		return nil, fmt.Errorf("chain: commit: %w", err)
	}
	return &abci.ResponseCommit{}, nil
}

// Query answers read-only queries on the committed state.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	v, err := a.sm.Query(req.Path, req.Data)
	if err != nil {
		return &abci.ResponseQuery{Code: CodeBadTx, Log: err.Error(), Height: a.sm.Height()}, nil
	}
	return &abci.ResponseQuery{Code: abci.CodeTypeOK, Value: v, Height: a.sm.Height()}, nil
}

func toABCIEvents(evs []Event) []abci.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		attrs := make([]abci.EventAttribute, len(e.Attributes))
		for j, kv := range e.Attributes {
			attrs[j] = abci.EventAttribute{Key: kv.Key, Value: kv.Value, Index: true}
		}
		out[i] = abci.Event{Type: e.Type, Attributes: attrs}
	}
	return out
}
