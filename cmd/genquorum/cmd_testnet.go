package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
	"github.com/spf13/cobra"
)

type testnetOptions struct {
	validators int
	out        string
	hosts      string
	basePort   int
	chainID    string

	nodeBalance, clientBalance uint64
	commitWindow, revealWindow uint64
}

// defaultLedgerParams are the ledger rules of generated networks: the defaults with commit and
// reveal windows of 30 blocks, room for engines that take seconds per task.
func defaultLedgerParams() ledger.Params {
	p := ledger.DefaultParams()
	p.CommitWindow, p.RevealWindow = 30, 30
	return p
}

func newTestnetCommand(g *globalOptions) *cobra.Command {
	var o testnetOptions
	cmd := &cobra.Command{
		Use:   "testnet --validators N --out DIR",
		Short: "Write the homes of an N-validator CometBFT network",
		Long: `testnet writes one home per validator (DIR/node0, DIR/node1, ...) with a shared genesis,
validator and node keys, and configs whose persistent peers name all the other validators.

Validator i uses P2P port BASE+2i and RPC port BASE+2i+1. Without --hosts every validator
listens on 127.0.0.1 (with the loopback settings CometBFT needs there); with --hosts (one
address per validator) each listens on all interfaces and dials the others by address.
The ledger genesis funds each validator's node identity (its CometBFT node key, which the
node daemon also uses on the ledger) and a client key written to DIR/client.key, for
genquorum submit --key.

Start each validator with: genquorum node --home DIR/nodeI`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTestnet(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.validators, "validators", 4, "number of validators (1..64)")
	f.StringVar(&o.out, "out", "", "directory to write the homes into (required)")
	f.StringVar(&o.hosts, "hosts", "", "comma-separated address of each validator (default: all on 127.0.0.1)")
	f.IntVar(&o.basePort, "base-port", 26656, "first P2P port")
	f.StringVar(&o.chainID, "chain-id", "genquorum-testnet", "chain ID of the network")
	f.Uint64Var(&o.commitWindow, "commit-window", defaultLedgerParams().CommitWindow, "blocks in which executors commit")
	f.Uint64Var(&o.revealWindow, "reveal-window", defaultLedgerParams().RevealWindow, "blocks in which executors reveal")
	f.Uint64Var(&o.nodeBalance, "node-balance", 1_000_000, "genesis balance of each validator's node identity")
	f.Uint64Var(&o.clientBalance, "client-balance", 1<<40, "genesis balance of the client key (DIR/client.key)")
	return cmd
}

func runTestnet(_ context.Context, g *globalOptions, o testnetOptions) error {
	if o.out == "" {
		return usagef("testnet: --out is required")
	}
	if o.validators < 1 || o.validators > 64 {
		return usagef("testnet: --validators %d, want 1..64", o.validators)
	}
	if o.basePort < 1024 || o.basePort+2*o.validators > 65535 {
		return usagef("testnet: --base-port %d leaves no room for %d validators", o.basePort, o.validators)
	}
	p := defaultLedgerParams()
	p.CommitWindow, p.RevealWindow = o.commitWindow, o.revealWindow
	if err := p.Validate(); err != nil {
		return usagef("testnet: %v", err)
	}
	opts := chain.TestnetOptions{Validators: o.validators, ChainID: o.chainID, BasePort: o.basePort}
	if o.hosts != "" {
		opts.Hosts = strings.Split(o.hosts, ",")
		if len(opts.Hosts) != o.validators {
			return usagef("testnet: %d --hosts for %d validators", len(opts.Hosts), o.validators)
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	clientKeyFile := filepath.Join(o.out, "client.key")
	clientKey, err := writeKeyFile(clientKeyFile)
	if err != nil {
		return err
	}
	opts.AppState = func(keys []ed25519.PublicKey) (json.RawMessage, error) {
		gen := ledger.Genesis{ChainID: o.chainID, Params: defaultLedgerParams()}
		gen.Params.CommitWindow, gen.Params.RevealWindow = o.commitWindow, o.revealWindow
		for _, k := range keys {
			gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: ledger.PubKey(k), Balance: o.nodeBalance})
		}
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: ledger.PubKey(clientKey.Public().(ed25519.PublicKey)), Balance: o.clientBalance})
		return json.Marshal(gen)
	}
	tn, err := chain.WriteTestnet(o.out, opts)
	if err != nil {
		return err
	}
	for i, h := range tn.Homes {
		fmt.Fprintf(g.stdout, "%s\trpc %s\n", h, tn.RPCAddrs[i])
	}
	fmt.Fprintf(g.stdout, "%s\tfunded client key\n", clientKeyFile)
	return nil
}
