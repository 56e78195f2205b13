package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/genquorum/genquorum/chain"
	"github.com/spf13/cobra"
)

type testnetOptions struct {
	validators int
	out        string
	hosts      string
	basePort   int
	chainID    string
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
	opts := chain.TestnetOptions{Validators: o.validators, ChainID: o.chainID, BasePort: o.basePort}
	if o.hosts != "" {
		opts.Hosts = strings.Split(o.hosts, ",")
		if len(opts.Hosts) != o.validators {
			return usagef("testnet: %d --hosts for %d validators", len(opts.Hosts), o.validators)
		}
	}
	tn, err := chain.WriteTestnet(o.out, opts)
	if err != nil {
		return err
	}
	for i, h := range tn.Homes {
		fmt.Fprintf(g.stdout, "%s\trpc %s\n", h, tn.RPCAddrs[i])
	}
	return nil
}
