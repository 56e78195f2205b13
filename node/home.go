package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/metrics"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// HomeConfig is what RunHome needs besides the engines: a node home (genquorum testnet) and
// the node's settings as genquorum node's flags give them.
type HomeConfig struct {
	Home      string
	Profile   string
	Class     string
	Behaviour Behaviour
	Stake     uint64
	Workers   int
	Capacity  uint32
	// FixedCapacity keeps the declared capacity at Capacity (Config.FixedCapacity).
	FixedCapacity bool
	P2PListen     []string
	// NoExecutor runs only the validator: no registration, no task.
	NoExecutor bool
	// Metrics, if set, is the address where Prometheus metrics are served (/metrics).
	Metrics string
	// TrainCheat: Config.TrainCheat (tests and demos).
	TrainCheat string
	// RetainBlocks and SnapshotEvery: chain.NodeOptions.RetainBlocks and
	// chain.Ledger.SnapshotEvery (0: keep every block; snapshot every
	// chain.DefaultSnapshotEvery blocks).
	RetainBlocks, SnapshotEvery int64
}

// StorePath is where a home keeps its artifacts and saved openings.
func StorePath(home string) string { return filepath.Join(home, "data", "genquorum.db") }

// RunHome runs, in this process, the CometBFT validator of the home with the genquorum ledger
// and (unless NoExecutor) the executor: it opens the home's store, serves artifacts over
// libp2p, registers the home's identity and runs tasks with engines until ctx ends.
func RunHome(ctx context.Context, c HomeConfig, engines *engine.Registry, logger *slog.Logger) error {
	key, err := chain.Identity(c.Home)
	if err != nil {
		return err
	}
	cfg, err := chain.LoadConfig(c.Home)
	if err != nil {
		return err
	}
	gen, err := os.ReadFile(cfg.GenesisFile())
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	chainID, err := chain.GenesisChainID(gen)
	if err != nil {
		return err
	}
	st, err := store.OpenVerified(ctx, StorePath(c.Home), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	var observer Observer
	if c.Metrics != "" {
		m, stop, err := ServeMetrics(ctx, logger, c.Metrics, key, StorePath(c.Home))
		if err != nil {
			return err
		}
		defer stop()
		observer = m
	}

	l := chain.NewLedger()
	l.SnapshotEvery = c.SnapshotEvery
	v, err := chain.StartNodeWith(ctx, c.Home, l, logger, chain.NodeOptions{RetainBlocks: c.RetainBlocks})
	if err != nil {
		return err
	}
	defer func() {
		if err := v.Stop(); err != nil {
			logger.Error("stop validator", "err", err)
		}
	}()
	if c.NoExecutor {
		logger.Info("validator running, no executor", "home", c.Home, "rpc", v.RPCAddr())
		<-ctx.Done()
		return nil
	}
	cc, err := chain.NewClient(logger, v.Local())
	if err != nil {
		return err
	}
	host, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: key, ListenAddrs: c.P2PListen, Source: st}, logger)
	if err != nil {
		return err
	}
	defer host.Close()
	n, err := New(Config{Key: key, Stake: c.Stake, Profile: c.Profile, Class: c.Class, Behaviour: c.Behaviour, Workers: c.Workers,
		Capacity: c.Capacity, FixedCapacity: c.FixedCapacity, Addrs: host.P2PAddrs(), Observer: observer, Host: host, TrainCheat: c.TrainCheat},
		chainID, cc, engines, st, logger)
	if err != nil {
		return err
	}
	logger.Info("node starting", "home", c.Home, "key", n.Key().String()[:16], "rpc", v.RPCAddr(), "profile", c.Profile, "behaviour", c.Behaviour)
	if err := waitCaughtUp(ctx, v.Local(), logger); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	if err := n.Register(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	err = n.Run(ctx)
	logger.Info("node stopping", "assigned", n.Stats.Assigned.Load(), "committed", n.Stats.Committed.Load(), "revealed", n.Stats.Revealed.Load())
	return err
}

// caughtUpPoll is how often waitCaughtUp asks the validator whether it caught up.
const caughtUpPoll = 200 * time.Millisecond

// waitCaughtUp returns once the local validator has caught up with the network (CometBFT's
// catching_up is false: its block sync found no peer ahead), or ctx ends. The executor reads
// everything from the local validator's state, and a validator restarted after a time down,
// or reset, syncs the chain first: acting on that stale state would register the node again
// (bonding its stake twice), unjail or not by an old record, or drop saved openings of tasks
// the old state does not know yet. A validator that is the network's only one never catches
// up from anyone and reports caught up at once; one whose peers are all down waits for them
// (it could make no block anyway).
func waitCaughtUp(ctx context.Context, c interface {
	Status(context.Context) (*coretypes.ResultStatus, error)
}, logger *slog.Logger) error {
	logged := false
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("node: validator status: %w", err)
		}
		if !st.SyncInfo.CatchingUp {
			if logged {
				logger.Info("validator caught up", "height", st.SyncInfo.LatestBlockHeight)
			}
			return nil
		}
		if !logged {
			logger.Info("waiting for the validator to catch up with the network before acting on its state", "height", st.SyncInfo.LatestBlockHeight)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(caughtUpPoll):
		}
	}
}

// ServeMetrics serves the metrics of the node with key at http://addr/metrics until stop is
// called; the store's size is read from storePath.
func ServeMetrics(ctx context.Context, logger *slog.Logger, addr string, key ed25519.PrivateKey, storePath string) (*metrics.Node, func(), error) {
	var pub ledger.PubKey
	copy(pub[:], key.Public().(ed25519.PublicKey))
	m := metrics.New(pub, func() float64 {
		st, err := os.Stat(storePath)
		if err != nil {
			return 0
		}
		return float64(st.Size())
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics: %w", err)
	}
	logger.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := metrics.Serve(ctx, ln, metrics.Handler(m.Registry)); err != nil {
			logger.Warn("metrics server", "err", err)
		}
	}()
	return m, func() { cancel(); <-done }, nil
}

// ResetHome deletes the home's CometBFT data, keeping its keys (chain.ResetData), and with
// withStore also its artifact store; it returns the paths removed.
func ResetHome(home string, withStore bool) ([]string, error) {
	removed, err := chain.ResetData(home)
	if withStore && err == nil {
		p := StorePath(home)
		if err = os.Remove(p); err == nil {
			removed = append(removed, p)
		} else if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	return removed, err
}
