package chain

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// Waiter is implemented by state machines whose deadlines are counted in blocks: Waiting
// reports whether some open work needs more blocks to come (ledger: an open task has a window
// that has not ended). A chain that makes no empty blocks (see Settings.EmptyBlockInterval)
// then makes paced tick blocks (TickTx) while Waiting is true, and none while it is false.
type Waiter interface {
	Waiting() bool
}

// tickMagic starts a tick transaction; the 8 bytes after it are the height it is for.
const tickMagic = "genquorum/tick/v1:"

// TickTx returns the tick transaction for height: a transaction that only exists to make
// consensus produce a block while the state machine waits for a deadline. It carries no
// signature and no fee, changes no state and never reaches the state machine: App strips
// ticks from every block before FinalizeBlock (a pure function of the block's bytes, so every
// validator agrees). CheckTx admits it only for the next height and only while the state
// machine is Waiting, so the mempool holds at most one tick per height; a flood of ticks can
// at most make blocks come back to back while tasks are open, which windows' wall-time floors
// already absorb.
func TickTx(height int64) []byte {
	return binary.BigEndian.AppendUint64([]byte(tickMagic), uint64(height))
}

// parseTick reports the height of a tick transaction, and false if tx is not one.
func parseTick(tx []byte) (int64, bool) {
	if len(tx) != len(tickMagic)+8 || string(tx[:len(tickMagic)]) != tickMagic {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(tx[len(tickMagic):])), true
}

// App is the ABCI++ application: an adapter from CometBFT to a StateMachine. It is safe for
// CometBFT's concurrent connections: the consensus connection is serialised by CometBFT and
// takes the write lock; CheckTx (mempool) and queries take the read lock, so they see the
// state between blocks, never half a block.
type App struct {
	abci.BaseApplication
	mu     sync.RWMutex
	sm     StateMachine
	logger *slog.Logger
	// retain, when > 0, is how many of the newest blocks CometBFT keeps (see NodeOptions).
	retain int64
}

// Snapshotter is implemented by state machines that persist their state (Ledger.Open):
// SnapshotHeight is the height from which a restart replays blocks, so blocks above it must
// be kept.
type Snapshotter interface {
	SnapshotHeight() int64
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
	if h, ok := parseTick(req.Tx); ok {
		height, waiting := a.waiting()
		if h != height+1 || !waiting {
			return &abci.ResponseCheckTx{Code: CodeBadTx, Log: fmt.Sprintf("chain: tick for height %d not needed (height %d, waiting %v)", h, height, waiting)}, nil
		}
		return &abci.ResponseCheckTx{Code: abci.CodeTypeOK}, nil
	}
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
	// Ticks never reach the state machine (see TickTx).
	txs := req.Txs
	var at []int // at[j]: index in req.Txs of the j-th transaction handed on
	for i, tx := range req.Txs {
		if _, tick := parseTick(tx); tick && at == nil {
			at = make([]int, 0, len(req.Txs))
			for k := range i {
				at = append(at, k)
			}
			txs = slices.Clone(req.Txs[:i])
		} else if !tick && at != nil {
			at = append(at, i)
			txs = append(txs, tx)
		}
	}
	res, err := a.sm.FinalizeBlock(req.Height, randomness, ms, txs)
	if err != nil {
		// No deterministic way to make progress: halt (STYLE.md §4).
		return nil, fmt.Errorf("chain: finalize block %d: %w", req.Height, err)
	}
	if len(res.Txs) != len(txs) {
		return nil, fmt.Errorf("chain: finalize block %d: %d results for %d txs", req.Height, len(res.Txs), len(txs))
	}
	out := &abci.ResponseFinalizeBlock{
		TxResults: make([]*abci.ExecTxResult, len(req.Txs)),
		Events:    toABCIEvents(res.Events),
		AppHash:   res.AppHash,
	}
	for i := range out.TxResults {
		out.TxResults[i] = &abci.ExecTxResult{Code: abci.CodeTypeOK, Log: "tick"}
	}
	for j, r := range res.Txs {
		i := j
		if at != nil {
			i = at[j]
		}
		out.TxResults[i] = &abci.ExecTxResult{Code: r.Code, Log: r.Log, Events: toABCIEvents(r.Events)}
	}
	return out, nil
}

// waiting returns the committed height and whether the state machine waits for blocks.
func (a *App) waiting() (int64, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	w, ok := a.sm.(Waiter)
	return a.sm.Height(), ok && w.Waiting()
}

// Commit persists the staged state.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.sm.Commit(); err != nil {
		return nil, fmt.Errorf("chain: commit: %w", err)
	}
	return &abci.ResponseCommit{RetainHeight: a.retainHeight()}, nil
}

// retainHeight is the lowest height CometBFT must keep: the newest a.retain blocks, and every
// block a restart would replay (above the state machine's snapshot). 0 (keep all) when
// pruning is off or the state machine has no snapshots (it replays from genesis).
func (a *App) retainHeight() int64 {
	s, ok := a.sm.(Snapshotter)
	if a.retain <= 0 || !ok {
		return 0
	}
	h := min(a.sm.Height()-a.retain+1, s.SnapshotHeight()+1)
	if h <= 1 {
		return 0
	}
	return h
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

// indexedAttr is the one event attribute CometBFT's kv indexer indexes: every event of a task
// can be searched by its task ID (tx_search / block_search "verdict.task='...'", as
// Client.Settlement does). The other attributes (nodes, amounts, deadlines, values) are kept
// in each block's results and returned with the events found, but not indexed: indexing all
// of them made the index writes the largest cost of a validator under load (4-5 index
// entries per event, a dozen events per task).
const indexedAttr = attrTask

func toABCIEvents(evs []Event) []abci.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		attrs := make([]abci.EventAttribute, len(e.Attributes))
		for j, kv := range e.Attributes {
			attrs[j] = abci.EventAttribute{Key: kv.Key, Value: kv.Value, Index: kv.Key == indexedAttr}
		}
		out[i] = abci.Event{Type: e.Type, Attributes: attrs}
	}
	return out
}
