package chain

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dbm "github.com/cometbft/cometbft-db"

	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"

	cfg "github.com/cometbft/cometbft/config"
)

// Node is a CometBFT validator running in this process with a StateMachine as its app.
type Node struct {
	node   *node.Node
	config *cfg.Config
	local  *local.Local
	dbs    *dbTracker
	stop   context.CancelFunc // stops the pacer
	paced  sync.WaitGroup
	// stopping is set when Stop begins; the CometBFT logger reads it (peers going away
	// during this node's own stop are not errors).
	stopping *atomic.Bool
}

// NodeOptions are the node-local settings of StartNodeWith (not consensus rules: validators
// may differ).
type NodeOptions struct {
	// RetainBlocks, when > 0, prunes CometBFT's blocks (and the state kept per height) below
	// the newest RetainBlocks, through ABCI's Commit retain height; blocks a restart replays
	// (above the ledger's older kept snapshot) are always kept. 0 keeps every block. A pruned
	// node cannot serve old blocks to a validator syncing from genesis.
	RetainBlocks int64
	// TickInterval paces blocks on a chain that makes no empty blocks while the state machine
	// is Waiting (DefaultTickInterval when 0): when no block came for this long, the node puts
	// the tick of the next height in its mempool.
	TickInterval time.Duration
	// InMemory keeps the ledger state in memory only (no snapshots; restarts replay every
	// block from genesis), as before snapshots existed.
	InMemory bool
}

// DefaultTickInterval is the default NodeOptions.TickInterval: with the windows of generated
// testnets (30 blocks, floors of 60 s and 20 s) a commit window of an absent executor closes
// after about 60 s and a reveal window after 30-60 s of ticks.
const DefaultTickInterval = time.Second

// dbTracker opens CometBFT's databases and remembers them: CometBFT v0.40 does not close its
// transaction-index database on Stop, so a node restarted in the same process would find the
// LevelDB lock still held. Stop closes whatever is left open.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provide(ctx *cfg.DBContext) (dbm.DB, error) {
	db, err := cfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	sdb := &stopSafeDB{DB: db}
	t.mu.Lock()
	t.dbs = append(t.dbs, sdb)
	t.mu.Unlock()
	return sdb, nil
}

// stopSafeDB is a CometBFT database that reads as empty once closed, instead of failing.
// CometBFT v0.40's consensus reactor runs one queryMaj23Routine per peer, which Stop does not
// wait for: one that passed its "still running?" check just before Stop closes the block store
// reads it next and panics on goleveldb's "leveldb: closed" (BlockStore.LoadSeenCommit), so a
// node stopped by SIGTERM could exit with status 2 and a stack trace. That reader already
// handles a missing commit (it sends nothing), so after Close Get returns nothing and Has
// false; a read in flight finishes before Close closes the database (the lock). Writes,
// iterators and batches after Close still fail as before: nothing should write while
// stopping, and hiding that would lose data silently.
type stopSafeDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
}

// Get returns the value of key, or nothing once the database is closed.
func (d *stopSafeDB) Get(key []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(key)
}

// Has reports whether key is set; false once the database is closed.
func (d *stopSafeDB) Has(key []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(key)
}

// Close closes the database once reads in flight are done; later calls return nil.
func (d *stopSafeDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.DB.Close()
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close() // already closed by CometBFT for most: a second Close does nothing
	}
	t.dbs = nil
}

// StartNode starts the validator whose home is dir (see InitHome and WriteTestnet) with sm as
// its application. It returns once the node is started; blocks then follow on their own.
// Stop it with Stop.
func StartNode(ctx context.Context, home string, sm StateMachine, logger *slog.Logger) (*Node, error) {
	return StartNodeWith(ctx, home, sm, logger, NodeOptions{})
}

// StartNodeWith is StartNode with node-local options. A state machine with an Open(dir)
// method (Ledger) is opened on DIR/data/ledger first (snapshots), unless o.InMemory.
func StartNodeWith(ctx context.Context, home string, sm StateMachine, logger *slog.Logger, o NodeOptions) (_ *Node, err error) {
	defer func() {
		// CometBFT panics on some damaged stores (e.g. a block store behind the state store)
		// while it opens them: report it with what to do instead of a stack trace.
		if r := recover(); r != nil {
			err = fmt.Errorf("chain: the CometBFT data of %s is damaged (%v); try 'genquorum node rollback --home %s', "+
				"or 'genquorum node reset --keep-keys --home %s' to sync again from the other validators", home, r, home, home)
		}
	}()
	c, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("chain: node key of %s: %w", home, err)
	}
	if p, ok := sm.(interface{ Open(dir string) error }); ok && !o.InMemory {
		if err := p.Open(LedgerDir(c.DBDir())); err != nil {
			return nil, err
		}
	}
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	app := NewApp(sm, logger)
	app.retain = o.RetainBlocks
	dbs := &dbTracker{}
	stopping := new(atomic.Bool)
	n, err := node.NewNodeWithContext(ctx, c, pv, nodeKey,
		proxy.NewConnSyncLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(c),
		dbs.provide,
		node.DefaultMetricsProvider(c.Instrumentation),
		slogAdapter{logger.With("module", "cometbft"), stopping},
	)
	if err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("chain: create node %s: %w", home, err)
	}
	if err := n.Start(); err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("chain: start node %s: %w", home, err)
	}
	nd := &Node{node: n, config: c, local: local.New(n), dbs: dbs, stopping: stopping}
	if _, ok := sm.(Waiter); ok && !c.Consensus.CreateEmptyBlocks && c.Consensus.CreateEmptyBlocksInterval == 0 {
		every := o.TickInterval
		if every <= 0 {
			every = DefaultTickInterval
		}
		pctx, cancel := context.WithCancel(context.Background())
		nd.stop = cancel
		nd.paced.Add(1)
		go func() {
			defer nd.paced.Done()
			nd.pace(pctx, app, every)
		}()
	}
	return nd, nil
}

// pace puts the tick of the next height in the mempool whenever the app is Waiting and no
// block came for one interval: blocks keep coming, one per interval or two, while a task
// waits for a deadline, and none on an idle chain.
func (n *Node) pace(ctx context.Context, app *App, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h, waiting := app.waiting()
		if waiting && h == last {
			// Refusals are expected (the tick is already in the mempool, or the block
			// came meanwhile) and harmless.
			_, _ = n.local.BroadcastTxAsync(ctx, TickTx(h+1))
		}
		last = h
	}
}

// Local returns an RPC client that calls this node directly, without HTTP.
func (n *Node) Local() *local.Local { return n.local }

// RPCAddr returns the node's RPC listen address.
func (n *Node) RPCAddr() string { return n.config.RPC.ListenAddress }

// Stop stops the node and waits for it. It is safe to call more than once.
func (n *Node) Stop() error {
	if n.stop != nil {
		n.stop()
		n.paced.Wait()
	}
	if !n.node.IsRunning() {
		return nil
	}
	if n.stopping != nil {
		n.stopping.Store(true)
	}
	if err := n.node.Stop(); err != nil {
		return fmt.Errorf("chain: stop node: %w", err)
	}
	n.node.Wait()
	n.dbs.closeAll()
	return nil
}
