package chain

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

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
}

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
	t.mu.Lock()
	t.dbs = append(t.dbs, db)
	t.mu.Unlock()
	return db, nil
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close() // already closed by CometBFT for most: the error says so and is expected
	}
	t.dbs = nil
}

// StartNode starts the validator whose home is dir (see InitHome and WriteTestnet) with sm as
// its application. It returns once the node is started; blocks then follow on their own.
// Stop it with Stop.
func StartNode(ctx context.Context, home string, sm StateMachine, logger *slog.Logger) (_ *Node, err error) {
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
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	app := NewApp(sm, logger)
	dbs := &dbTracker{}
	n, err := node.NewNodeWithContext(ctx, c, pv, nodeKey,
		proxy.NewConnSyncLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(c),
		dbs.provide,
		node.DefaultMetricsProvider(c.Instrumentation),
		slogAdapter{logger.With("module", "cometbft")},
	)
	if err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("chain: create node %s: %w", home, err)
	}
	if err := n.Start(); err != nil {
		dbs.closeAll()
		return nil, fmt.Errorf("chain: start node %s: %w", home, err)
	}
	return &Node{node: n, config: c, local: local.New(n), dbs: dbs}, nil
}

// Local returns an RPC client that calls this node directly, without HTTP.
func (n *Node) Local() *local.Local { return n.local }

// RPCAddr returns the node's RPC listen address.
func (n *Node) RPCAddr() string { return n.config.RPC.ListenAddress }

// Stop stops the node and waits for it. It is safe to call more than once.
func (n *Node) Stop() error {
	if !n.node.IsRunning() {
		return nil
	}
	if err := n.node.Stop(); err != nil {
		return fmt.Errorf("chain: stop node: %w", err)
	}
	n.node.Wait()
	n.dbs.closeAll()
	return nil
}
