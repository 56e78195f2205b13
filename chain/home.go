package chain

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"
	"github.com/spf13/viper"
)

// Settings are the CometBFT settings genquorum chooses; everything else keeps CometBFT's
// defaults. Zero fields take the defaults of DefaultSettings.
type Settings struct {
	// ChainID names the network; every validator of one network has the same.
	ChainID string
	// P2PAddr and RPCAddr are CometBFT's listen addresses, e.g. "tcp://127.0.0.1:26656".
	P2PAddr, RPCAddr string
	// PersistentPeers is CometBFT's "id@host:port,..." list.
	PersistentPeers string
	// EmptyBlockInterval, when > 0, makes CometBFT create a block with no transactions after
	// waiting this long (create_empty_blocks_interval: blocks come at this pace for ever, idle
	// or not; tests use tens of milliseconds). 0, the default, makes no empty blocks
	// (create_empty_blocks = false): an idle chain makes none, and while a task waits for a
	// deadline the node makes paced tick blocks instead (TickTx, NodeOptions.TickInterval).
	// See the package doc for the reasoning.
	EmptyBlockInterval time.Duration
	// TimeoutPropose bounds how long validators wait for a proposer (matters when one is down).
	TimeoutPropose time.Duration
	// Loopback relaxes address checks for networks whose validators share one host.
	Loopback bool
	// PrometheusAddr, when set (e.g. "127.0.0.1:26660"), switches on CometBFT's own
	// Prometheus instrumentation, served at that address (path /metrics).
	PrometheusAddr string
	// AppState is the application's genesis (for Ledger: JSON of ledger.Genesis), written into
	// genesis.json as app_state.
	AppState json.RawMessage
	// GenesisTime is the genesis time; zero means the time the home is written, which
	// CometBFT's light client needs (it refuses a trusted header older than its trusting
	// period). A fixed time makes genesis files reproducible.
	GenesisTime time.Time
}

// genesisTime returns s.GenesisTime, or now (UTC, whole milliseconds) when zero.
func (s Settings) genesisTime() time.Time {
	if !s.GenesisTime.IsZero() {
		return s.GenesisTime.UTC()
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// DefaultSettings are the measured defaults: one local validator on loopback.
func DefaultSettings() Settings {
	return Settings{
		ChainID:        "genquorum-local",
		P2PAddr:        "tcp://127.0.0.1:26656",
		RPCAddr:        "tcp://127.0.0.1:26657",
		TimeoutPropose: 500 * time.Millisecond,
		Loopback:       true,
	}
}

func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.ChainID == "" {
		s.ChainID = d.ChainID
	}
	if s.P2PAddr == "" {
		s.P2PAddr = d.P2PAddr
	}
	if s.RPCAddr == "" {
		s.RPCAddr = d.RPCAddr
	}
	if s.TimeoutPropose == 0 {
		s.TimeoutPropose = d.TimeoutPropose
	}
	return s
}

// cometConfig returns the CometBFT configuration for home with settings s applied.
func cometConfig(home string, s Settings) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = filepath.Base(home)
	c.LogLevel = "info"
	c.P2P.ListenAddress = s.P2PAddr
	c.RPC.ListenAddress = s.RPCAddr
	c.P2P.PersistentPeers = s.PersistentPeers
	c.P2P.PexReactor = false
	if s.Loopback {
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
	}
	c.Consensus.TimeoutCommit = 0
	c.Consensus.SkipTimeoutCommit = true
	c.Consensus.TimeoutPropose = s.TimeoutPropose
	c.Consensus.CreateEmptyBlocks = s.EmptyBlockInterval > 0
	c.Consensus.CreateEmptyBlocksInterval = max(s.EmptyBlockInterval, 0)
	c.Consensus.PeerGossipSleepDuration = 10 * time.Millisecond
	c.Mempool.Size = 50000
	c.Mempool.MaxTxsBytes = 256 << 20
	// Remember more transactions than the mempool holds: a transaction gossiped back after its
	// block must be recognised, or it is included again (and rejected as a replay).
	c.Mempool.CacheSize = 100_000
	c.TxIndex.Indexer = "kv"
	c.Instrumentation.Prometheus = s.PrometheusAddr != ""
	if s.PrometheusAddr != "" {
		c.Instrumentation.PrometheusListenAddr = s.PrometheusAddr
	}
	return c
}

// ErrHomeExists is returned by InitHome when the home already holds a genesis.
var ErrHomeExists = errors.New("chain: home already initialised")

// InitHome creates a single-validator home at dir: config/config.toml, config/genesis.json, the
// validator key and the node key. It refuses to overwrite an existing home.
func InitHome(dir string, s Settings) error {
	s = s.withDefaults()
	c := cometConfig(dir, s)
	if _, err := os.Stat(c.GenesisFile()); err == nil {
		return fmt.Errorf("%w: %s", ErrHomeExists, dir)
	}
	pubKey, err := writeKeys(c)
	if err != nil {
		return err
	}
	gen := &types.GenesisDoc{
		ChainID:         s.ChainID,
		GenesisTime:     s.genesisTime(),
		ConsensusParams: types.DefaultConsensusParams(),
		Validators:      []types.GenesisValidator{{Address: pubKey.Address(), PubKey: pubKey, Power: 10, Name: c.Moniker}},
		AppState:        s.AppState,
	}
	if err := gen.SaveAs(c.GenesisFile()); err != nil {
		return fmt.Errorf("chain: write genesis: %w", err)
	}
	cfg.WriteConfigFile(filepath.Join(dir, "config", "config.toml"), c)
	return nil
}

func writeKeys(c *cfg.Config) (crypto.PubKey, error) {
	for _, d := range []string{filepath.Dir(c.GenesisFile()), c.DBDir(), filepath.Dir(c.PrivValidatorStateFile())} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("chain: %w", err)
		}
	}
	pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	pv.Save()
	if _, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return nil, fmt.Errorf("chain: node key: %w", err)
	}
	pk, err := pv.GetPubKey()
	if err != nil {
		return nil, fmt.Errorf("chain: validator key: %w", err)
	}
	return pk, nil
}

// LoadConfig reads the CometBFT configuration of an initialised home.
func LoadConfig(home string) (*cfg.Config, error) {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("chain: read config of %s: %w", home, err)
	}
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("chain: decode config of %s: %w", home, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("chain: config of %s: %w", home, err)
	}
	return c, nil
}

// RPCURL returns the http URL of a CometBFT listen address such as "tcp://127.0.0.1:26657".
func RPCURL(listen string) string {
	return "http://" + strings.TrimPrefix(listen, "tcp://")
}

// Identity returns the ed25519 key of the home's CometBFT node key file: the one identity a
// genquorum node uses for consensus P2P, on the ledger and for artifact serving.
func Identity(home string) (ed25519.PrivateKey, error) {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("chain: identity of %s: %w", home, err)
	}
	b := nk.PrivKey.Bytes()
	if len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("chain: identity of %s: node key is not ed25519", home)
	}
	return ed25519.PrivateKey(b), nil
}

// GenesisChainID returns the chain ID of a genesis.json document.
func GenesisChainID(genesisJSON []byte) (string, error) {
	var doc struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal(genesisJSON, &doc); err != nil || doc.ChainID == "" {
		return "", fmt.Errorf("chain: genesis has no chain_id (%v)", err)
	}
	return doc.ChainID, nil
}
