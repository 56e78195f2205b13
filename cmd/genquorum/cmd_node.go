package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/cliconfig"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/metrics"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

type nodeOptions struct {
	engineOptions
	home       string
	profile    string
	class      string
	behaviour  string
	stake      uint64
	workers    int
	capacity   uint32
	p2pListen  []string
	noExecutor bool
	metrics    string
	config     string
}

func newNodeCommand(g *globalOptions) *cobra.Command {
	var o nodeOptions
	cmd := &cobra.Command{
		Use:   "node --home DIR",
		Short: "Run a validator and executor node from its home",
		Long: `node runs, in one process, the CometBFT validator of the home (see genquorum testnet) with
the genquorum ledger as its application, and the executor daemon: it registers the home's
identity on the ledger (bonding --stake), follows the chain, runs the tasks assigned to it
with its engines and --profile, commits to each artifact's fingerprint, reveals it when the
commit window closes, and keeps the artifacts in DIR/data/genquorum.db.

It stops cleanly on SIGINT or SIGTERM; restarted with the same home it replays the chain,
catches up and continues.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyNodeConfig(cmd, g, &o); err != nil {
				return err
			}
			return runNode(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.home, "home", "", "node home written by genquorum testnet (required)")
	f.StringVar(&o.profile, "profile", "exact", "numeric profile this node's hardware imitates")
	f.StringVar(&o.class, "class", "cpu", "hardware class label recorded on the ledger")
	f.StringVar(&o.behaviour, "behaviour", "honest", "honest, or for tests: guesser, copier, lazy, wrong-model, crashed, tamperer")
	f.Uint64Var(&o.stake, "stake", 10_000, "stake to bond at registration")
	f.IntVar(&o.workers, "workers", 1, "tasks run at once")
	f.Uint32Var(&o.capacity, "capacity", 0, fmt.Sprintf("most open assignments declared on the ledger, which assigns no more (default %d per worker)", node.DefaultCapacityPerWorker))
	f.StringSliceVar(&o.p2pListen, "p2p-listen", []string{p2p.DefaultListenAddr}, "libp2p multiaddrs where artifacts are served (announced on the ledger)")
	f.BoolVar(&o.noExecutor, "no-executor", false, "run only the validator: register no executor, run no task")
	f.StringVar(&o.config, "config", "", "TOML or YAML file setting any of these flags by name (default $GENQUORUM_CONFIG); $GENQUORUM_<FLAG> (e.g. GENQUORUM_LOG_LEVEL) overrides it, a flag overrides both")
	f.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; README: Operations)")
	o.engineOptions.addFlags(cmd)
	cmd.AddCommand(newNodeRollbackCommand(g), newNodeResetCommand(g))
	return cmd
}

func newNodeRollbackCommand(g *globalOptions) *cobra.Command {
	var home string
	var removeBlock bool
	cmd := &cobra.Command{
		Use:   "rollback --home DIR",
		Short: "Roll the validator's CometBFT state back one height (the node must be stopped)",
		Long: `rollback runs CometBFT's rollback on the home: the consensus state goes back one height (and
with --remove-block the last block is deleted), so that on the next start the validator
re-executes the last block. Use it when a node refuses to start because its state store is
ahead of its block store (e.g. "StateBlockHeight > StoreBlockHeight" after a crash). The ledger
keeps no state on disk (it is rebuilt from the blocks) and DIR/data/genquorum.db is left as is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if home == "" {
				return usagef("node rollback: --home is required")
			}
			h, hash, err := chain.Rollback(home, removeBlock)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "rolled back %s to height %d, app hash %X\n", home, h, hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home (required)")
	cmd.Flags().BoolVar(&removeBlock, "remove-block", false, "also delete the last block")
	return cmd
}

func newNodeResetCommand(g *globalOptions) *cobra.Command {
	var home string
	var keepKeys, store bool
	cmd := &cobra.Command{
		Use:   "reset --keep-keys --home DIR",
		Short: "Delete the validator's chain data, keeping its keys (the node must be stopped)",
		Long: `reset deletes the CometBFT databases of the home (DIR/data: blockstore.db, state.db, cs.wal,
evidence.db, tx_index.db) and resets the validator's last-signed state, keeping the validator
and node keys, the genesis and the config (CometBFT's unsafe-reset-all without the keys). On
the next start the node syncs the chain again from the other validators. --keep-keys is
required, to say that the keys stay. DIR/data/genquorum.db (artifacts and saved openings)
is kept unless --store is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if home == "" || !keepKeys {
				return usagef("node reset: --home and --keep-keys are required")
			}
			removed, err := chain.ResetData(home)
			if store && err == nil {
				p := filepath.Join(home, "data", "genquorum.db")
				if err = os.Remove(p); err == nil {
					removed = append(removed, p)
				} else if errors.Is(err, os.ErrNotExist) {
					err = nil
				}
			}
			for _, p := range removed {
				fmt.Fprintf(g.stdout, "removed %s\n", p)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home (required)")
	cmd.Flags().BoolVar(&keepKeys, "keep-keys", false, "keep the validator and node keys (required)")
	cmd.Flags().BoolVar(&store, "store", false, "also delete DIR/data/genquorum.db (artifacts and saved openings)")
	return cmd
}

func runNode(ctx context.Context, g *globalOptions, o nodeOptions) error {
	if o.home == "" {
		return usagef("node: --home is required")
	}
	b, err := node.ParseBehaviour(o.behaviour)
	if err != nil {
		return usagef("--behaviour: %v", err)
	}
	if err := checkProfile("--profile", o.profile); err != nil {
		return err
	}
	var engines *engine.Registry
	if !o.noExecutor {
		if engines, err = o.build(ctx, g.logger); err != nil {
			return err
		}
	}
	key, err := chain.Identity(o.home)
	if err != nil {
		return err
	}
	cfg, err := chain.LoadConfig(o.home)
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
	st, err := store.OpenVerified(ctx, filepath.Join(o.home, "data", "genquorum.db"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	var observer node.Observer
	if o.metrics != "" {
		m, stop, err := serveMetrics(ctx, g, o.metrics, key, filepath.Join(o.home, "data", "genquorum.db"))
		if err != nil {
			return err
		}
		defer stop()
		observer = m
	}

	v, err := chain.StartNode(ctx, o.home, chain.NewLedger(), g.logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := v.Stop(); err != nil {
			g.logger.Error("stop validator", "err", err)
		}
	}()
	if o.noExecutor {
		g.logger.Info("validator running, no executor", "home", o.home, "rpc", v.RPCAddr())
		<-ctx.Done()
		return nil
	}
	cc, err := chain.NewClient(g.logger, v.Local())
	if err != nil {
		return err
	}
	host, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: key, ListenAddrs: o.p2pListen, Source: st}, g.logger)
	if err != nil {
		return err
	}
	defer host.Close()
	n, err := node.New(node.Config{Key: key, Stake: o.stake, Profile: o.profile, Class: o.class, Behaviour: b, Workers: o.workers,
		Capacity: o.capacity, Addrs: host.P2PAddrs(), Observer: observer, Host: host},
		chainID, cc, engines, st, g.logger)
	if err != nil {
		return err
	}
	g.logger.Info("node starting", "home", o.home, "key", n.Key().String()[:16], "rpc", v.RPCAddr(), "profile", o.profile, "behaviour", b)
	if err := n.Register(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	err = n.Run(ctx)
	g.logger.Info("node stopping", "assigned", n.Stats.Assigned.Load(), "committed", n.Stats.Committed.Load(), "revealed", n.Stats.Revealed.Load())
	return err
}

// serveMetrics serves the node's metrics at addr until stop is called.
func serveMetrics(ctx context.Context, g *globalOptions, addr string, key ed25519.PrivateKey, storePath string) (*metrics.Node, func(), error) {
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
	g.logger.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := metrics.Serve(ctx, ln, metrics.Handler(m.Registry)); err != nil {
			g.logger.Warn("metrics server", "err", err)
		}
	}()
	return m, func() { cancel(); <-done }, nil
}

// applyNodeConfig fills the flags not given from $GENQUORUM_* and the --config file (package
// cliconfig), then rebuilds the logger in case they set --log-level or --log-format.
func applyNodeConfig(cmd *cobra.Command, g *globalOptions, o *nodeOptions) error {
	if o.config == "" {
		o.config = os.Getenv("GENQUORUM_CONFIG")
	}
	if err := cliconfig.Apply(cmd.Flags(), o.config, "GENQUORUM", "config", "help"); err != nil {
		return usageError{err}
	}
	logger, err := newLogger(g.stderr, g.logLevel, g.logFormat)
	if err != nil {
		return usageError{err}
	}
	g.logger = logger
	return nil
}
