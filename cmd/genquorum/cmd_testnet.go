package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	minCommitSec, minRevealSec float64
	txFee                      uint64
	jailAfter, jailSlashBPS    uint32
	genesisTime                string
	pruneAfter                 uint64
	emptyBlockInterval         time.Duration
	builtinPolicies            bool
	policies                   []string
	spotVerifiers              uint32
	escalate, escalateMargin   uint32
}

// defaultLedgerParams are the ledger rules of generated networks: the defaults with commit and
// reveal windows of 30 blocks and at least 60 s and 20 s of block time (blocks come faster
// under load: ledger/doc.go "Load"), a transaction fee of 1 (no free spam), and jailing after
// 3 missed windows in a row with a 1 % slash (ledger/doc.go "Downtime"), spot-checked tasks
// verified by 2 verifiers when drawn (ledger/doc.go "Spot checks and escalation").
func defaultLedgerParams() ledger.Params {
	p := ledger.DefaultParams()
	p.CommitWindow, p.RevealWindow = 30, 30
	p.MinCommitMillis, p.MinRevealMillis = 60_000, 20_000
	p.TxFee = 1
	p.JailAfterMisses, p.SlashJailBPS = 3, 100
	p.SpotVerifiers = 2
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
The genesis registers the verification policies of image models (ledger/policy.go): the
built-in base model's measured one (models/diffusion/policy-base.json: pHash/16 at tolerance
10) unless --builtin-policies=false, and those of --policy files (genquorum study policy's
tables/policy-MODEL.json). Image tasks on those models settle under them.

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
	f.BoolVar(&o.builtinPolicies, "builtin-policies", true, "register the built-in image model's measured verification policy at genesis")
	f.StringSliceVar(&o.policies, "policy", nil, "also register this measured policy (genquorum study policy's tables/policy-MODEL.json); repeatable")
	f.Uint64Var(&o.commitWindow, "commit-window", defaultLedgerParams().CommitWindow, "blocks in which executors commit")
	f.Uint64Var(&o.revealWindow, "reveal-window", defaultLedgerParams().RevealWindow, "blocks in which executors reveal")
	d := defaultLedgerParams()
	f.Float64Var(&o.minCommitSec, "min-commit-seconds", float64(d.MinCommitMillis)/1000, "least block time a commit window stays open, whatever the blocks")
	f.Float64Var(&o.minRevealSec, "min-reveal-seconds", float64(d.MinRevealMillis)/1000, "least block time a reveal window stays open")
	f.Uint64Var(&o.txFee, "tx-fee", d.TxFee, "fee every transaction pays (burned)")
	f.Uint32Var(&o.jailAfter, "jail-after", d.JailAfterMisses, "missed commit windows in a row that jail a node (0: slash each miss instead)")
	f.Uint32Var(&o.jailSlashBPS, "jail-slash-bps", d.SlashJailBPS, "stake slashed once at jailing, in basis points")
	f.Uint64Var(&o.pruneAfter, "prune-after", d.PruneAfter, "delete settled tasks from the ledger state this many blocks after settlement (0: keep; verdicts stay in the event index)")
	f.Uint32Var(&o.spotVerifiers, "spot-verifiers", d.SpotVerifiers, "verifiers drawn when a spot-checked task (submit --spot-ppm) is drawn for verification (0: spot checks refused)")
	f.Uint32Var(&o.escalate, "escalate-verifiers", d.EscalateVerifiers, "verifiers a thin or near-edge verdict draws before settling (0: no escalation)")
	f.Uint32Var(&o.escalateMargin, "escalate-margin", d.EscalateMarginBits, "bits from the tolerance edge at which an agreeing fingerprint escalates its verdict (0: only thin verdicts)")
	f.DurationVar(&o.emptyBlockInterval, "empty-block-interval", 0, "make an empty block after this long without transactions (0: no empty blocks; blocks are paced only while a task is open)")
	f.StringVar(&o.genesisTime, "genesis-time", "", "genesis time, RFC 3339 (default: now; a fixed time makes genesis files reproducible)")
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
	if o.minCommitSec < 0 || o.minRevealSec < 0 {
		return usagef("testnet: negative window time")
	}
	p.MinCommitMillis, p.MinRevealMillis = uint64(o.minCommitSec*1000), uint64(o.minRevealSec*1000)
	p.TxFee, p.JailAfterMisses, p.SlashJailBPS = o.txFee, o.jailAfter, o.jailSlashBPS
	p.PruneAfter = o.pruneAfter
	p.SpotVerifiers, p.EscalateVerifiers, p.EscalateMarginBits = o.spotVerifiers, o.escalate, o.escalateMargin
	if err := p.Validate(); err != nil {
		return usagef("testnet: %v", err)
	}
	policies, err := genesisPolicies(o.builtinPolicies, o.policies)
	if err != nil {
		return err
	}
	opts := chain.TestnetOptions{Validators: o.validators, ChainID: o.chainID, BasePort: o.basePort}
	opts.Settings.EmptyBlockInterval = o.emptyBlockInterval
	if o.genesisTime != "" {
		t, err := time.Parse(time.RFC3339, o.genesisTime)
		if err != nil {
			return usagef("testnet: --genesis-time: %v", err)
		}
		opts.Settings.GenesisTime = t
	}
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
		gen := ledger.Genesis{ChainID: o.chainID, Params: p, Policies: policies}
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
