package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/cliconfig"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
)

type nodeOptions struct {
	engineOptions
	home       string
	profile    string
	class      string
	behaviour  string
	trainCheat string
	stake      uint64
	workers    int
	capacity   uint32
	fixedCap   bool
	p2pListen  []string
	noExecutor bool
	metrics    string
	config     string

	retainBlocks, snapshotEvery int64
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
	f.StringVar(&o.trainCheat, "train-cheat", "", "for tests: cheat as the trainer of training tasks with segment verification: skip-steps, fewer-steps, other-lr, other-seed, noise-weights or copy")
	f.Uint64Var(&o.stake, "stake", 10_000, "stake to bond at registration")
	f.IntVar(&o.workers, "workers", 1, "tasks run at once")
	f.Uint32Var(&o.capacity, "capacity", 0, fmt.Sprintf("most open assignments declared on the ledger, which assigns no more (default %d per worker); the node declares fewer while its runs are too slow to commit that many within the commit window's time floor", node.DefaultCapacityPerWorker))
	f.BoolVar(&o.fixedCap, "fixed-capacity", false, "always declare --capacity, however slow the runs")
	f.StringSliceVar(&o.p2pListen, "p2p-listen", []string{p2p.DefaultListenAddr}, "libp2p multiaddrs where artifacts are served (announced on the ledger)")
	f.BoolVar(&o.noExecutor, "no-executor", false, "run only the validator: register no executor, run no task")
	f.StringVar(&o.config, "config", "", "TOML or YAML file setting any of these flags by name (default $GENQUORUM_CONFIG); $GENQUORUM_<FLAG> (e.g. GENQUORUM_LOG_LEVEL) overrides it, a flag overrides both")
	f.Int64Var(&o.retainBlocks, "retain-blocks", 0, "keep only the newest N blocks of CometBFT's store (and every block above the ledger's older snapshot); 0 keeps all (README: Operations, pruning)")
	f.Int64Var(&o.snapshotEvery, "snapshot-every", chain.DefaultSnapshotEvery, "write the ledger state to DIR/data/ledger every N blocks (restarts replay only the blocks above it)")
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
			removed, err := node.ResetHome(home, store)
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
	return node.RunHome(ctx, node.HomeConfig{Home: o.home, Profile: o.profile, Class: o.class, Behaviour: b, Stake: o.stake,
		Workers: o.workers, Capacity: o.capacity, FixedCapacity: o.fixedCap, P2PListen: o.p2pListen, NoExecutor: o.noExecutor, Metrics: o.metrics,
		TrainCheat: o.trainCheat, RetainBlocks: o.retainBlocks, SnapshotEvery: o.snapshotEvery}, engines, g.logger)
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
