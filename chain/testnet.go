package chain

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

// TestnetOptions describe an N-validator network to generate.
type TestnetOptions struct {
	Validators int
	ChainID    string
	// Hosts gives each validator's address; empty means all on 127.0.0.1 with distinct ports.
	Hosts []string
	// BasePort is validator 0's P2P port; validator i uses BasePort+2i for P2P and
	// BasePort+2i+1 for RPC. Zero means 26656.
	BasePort int
	// MetricsBasePort is where validator i serves CometBFT's Prometheus metrics:
	// MetricsBasePort+i. Zero means right after the P2P and RPC ports (BasePort+2N+i);
	// negative switches the instrumentation off.
	MetricsBasePort int
	Settings        Settings
	// AppState, if set, is called with every validator's node key (the identity the node
	// daemon uses on the ledger) once the keys exist, and returns the genesis app_state.
	AppState func(keys []ed25519.PublicKey) (json.RawMessage, error)
}

// Testnet describes what WriteTestnet wrote.
type Testnet struct {
	Homes    []string // one home per validator, "node0" ...
	RPCAddrs []string // each validator's RPC listen address
	// MetricsAddrs are the validators' CometBFT Prometheus addresses (host:port), empty when
	// switched off.
	MetricsAddrs []string
}

// WriteTestnet writes one home per validator under out, with a shared genesis that gives every
// validator equal power, and configs whose persistent peers name all the others.
func WriteTestnet(out string, o TestnetOptions) (*Testnet, error) {
	if o.Validators < 1 || o.Validators > 64 {
		return nil, fmt.Errorf("chain: testnet of %d validators, want 1..64", o.Validators)
	}
	if len(o.Hosts) != 0 && len(o.Hosts) != o.Validators {
		return nil, fmt.Errorf("chain: %d hosts for %d validators", len(o.Hosts), o.Validators)
	}
	if o.BasePort == 0 {
		o.BasePort = 26656
	}
	if o.ChainID == "" {
		o.ChainID = "genquorum-testnet"
	}
	if o.MetricsBasePort == 0 {
		o.MetricsBasePort = o.BasePort + 2*o.Validators
	}
	host := func(i int) string {
		if len(o.Hosts) > 0 {
			return o.Hosts[i]
		}
		return "127.0.0.1"
	}
	loopback := len(o.Hosts) == 0
	for i := range o.Validators {
		if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("node%d", i), "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrHomeExists, filepath.Join(out, fmt.Sprintf("node%d", i)))
		}
	}

	tn := &Testnet{}
	var vals []types.GenesisValidator
	var peers []string
	var configs []*cfg.Config
	var identities []ed25519.PublicKey
	for i := range o.Validators {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		s := o.Settings.withDefaults()
		s.ChainID = o.ChainID
		s.P2PAddr = fmt.Sprintf("tcp://%s:%d", listenHost(host(i), loopback), o.BasePort+2*i)
		s.RPCAddr = fmt.Sprintf("tcp://%s:%d", listenHost(host(i), loopback), o.BasePort+2*i+1)
		s.Loopback = loopback
		if o.MetricsBasePort > 0 {
			s.PrometheusAddr = fmt.Sprintf("%s:%d", listenHost(host(i), loopback), o.MetricsBasePort+i)
			tn.MetricsAddrs = append(tn.MetricsAddrs, s.PrometheusAddr)
		}
		c := cometConfig(home, s)
		pk, err := writeKeys(c)
		if err != nil {
			return nil, err
		}
		nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
		if err != nil {
			return nil, fmt.Errorf("chain: %w", err)
		}
		identities = append(identities, ed25519.PublicKey(nk.PubKey().Bytes()))
		vals = append(vals, types.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: 10, Name: c.Moniker})
		peers = append(peers, p2p.IDAddressString(nk.ID(), fmt.Sprintf("%s:%d", host(i), o.BasePort+2*i)))
		configs = append(configs, c)
		tn.Homes = append(tn.Homes, home)
		tn.RPCAddrs = append(tn.RPCAddrs, s.RPCAddr)
	}
	appState := o.Settings.AppState
	if o.AppState != nil {
		var err error
		if appState, err = o.AppState(identities); err != nil {
			return nil, err
		}
	}
	gen := &types.GenesisDoc{
		ChainID:         o.ChainID,
		GenesisTime:     o.Settings.genesisTime(),
		ConsensusParams: types.DefaultConsensusParams(),
		Validators:      vals,
		AppState:        appState,
	}
	for i, c := range configs {
		if err := gen.SaveAs(c.GenesisFile()); err != nil {
			return nil, fmt.Errorf("chain: write genesis: %w", err)
		}
		others := make([]string, 0, len(peers)-1)
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		c.P2P.PersistentPeers = strings.Join(others, ",")
		cfg.WriteConfigFile(filepath.Join(tn.Homes[i], "config", "config.toml"), c)
	}
	return tn, nil
}

// listenHost is the address to listen on: the host itself on loopback, all interfaces otherwise.
func listenHost(host string, loopback bool) string {
	if loopback {
		return host
	}
	return "0.0.0.0"
}
