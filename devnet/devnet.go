// Package devnet starts a whole genquorum network inside one process: one CometBFT validator
// running the ledger, a set of nodes (each with its own key, store and profile, some of them
// misbehaving on purpose) and funded client accounts. The demo, the tests and the benchmarks
// use it; a real deployment runs the same pieces as separate processes.
//
// Keys are derived from fixed seeds so that a devnet is reproducible run to run: never use a
// devnet key for anything real.
package devnet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// NodeSpec describes one node.
type NodeSpec struct {
	Profile   string
	Class     string
	Behaviour node.Behaviour
	Stake     uint64 // default 10_000
	Workers   int    // default 1
	// Capacity is the most open assignments the node declares (node.Config.Capacity; 0: the
	// node's default, node.DefaultCapacityPerWorker per worker).
	Capacity uint32
	// FixedCapacity keeps the node's declared capacity fixed (node.Config.FixedCapacity).
	FixedCapacity bool
	// Observer, if set, watches the node (node.Config.Observer), e.g. a metrics.Node.
	Observer node.Observer
	// TrainCheat makes the node cheat when it trains (node.Config.TrainCheat).
	TrainCheat string
}

// Options describe a devnet.
type Options struct {
	// Dir holds the validator's home and the nodes' stores (required).
	Dir     string
	ChainID string // default "genquorum-devnet"
	// Params are the ledger rules (default ledger.DefaultParams with a commit window of 200
	// blocks, a reveal window of 20 and spot checks on: SpotVerifiers 2).
	Params ledger.Params
	Nodes  []NodeSpec
	// Clients is the number of funded client accounts (default 1), each with ClientBalance.
	Clients       int
	ClientBalance uint64
	// Engines serve every node; each node registers all their models.
	Engines *engine.Registry
	// Policies are registered at genesis: the models' verification policies (ledger.Policy).
	Policies []ledger.Policy
	// EmptyBlockInterval paces blocks while nothing happens (default 100 ms).
	EmptyBlockInterval time.Duration
	Logger             *slog.Logger
}

// Network is a running devnet.
type Network struct {
	ChainID   string
	Validator *chain.Node
	Chain     *chain.Client
	Nodes     []*node.Node
	Clients   []*node.Client

	// Hosts are the nodes' libp2p hosts (serving their stores), in node order; Client is a
	// fetch-only host for clients.
	Hosts      []*p2p.Host
	ClientHost *p2p.Host

	stores []*store.Store
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// Key returns the deterministic key of a devnet role ("node", "client") and index.
func Key(role string, i int) ed25519.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "genquorum devnet %s %d", role, i))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubKey(k ed25519.PrivateKey) ledger.PubKey {
	var p ledger.PubKey
	copy(p[:], k.Public().(ed25519.PublicKey))
	return p
}

// Start starts the validator, registers every node and starts them. Stop releases everything.
func Start(ctx context.Context, o Options) (*Network, error) {
	if o.Dir == "" || o.Engines == nil {
		return nil, errors.New("devnet: Dir and Engines are required")
	}
	if o.ChainID == "" {
		o.ChainID = "genquorum-devnet"
	}
	if o.Params == (ledger.Params{}) {
		o.Params = ledger.DefaultParams()
		// Empty blocks come every few milliseconds (timeout_commit 0), so a busy machine can
		// let 20 blocks pass before an honest executor has run its task; a long commit window
		// costs nothing when everyone commits (the reveal phase then opens at once).
		o.Params.CommitWindow, o.Params.RevealWindow = 200, 20
		// Blocks also come every few milliseconds when transactions arrive, so 20 blocks can
		// pass in a second: too short for a check round's voters to score the candidates
		// (honest voters were slashed for no vote). Wall-time floors as testnet has (ledger
		// doc "Load"), smaller, so that a task waiting on a silent executor stays short.
		o.Params.MinCommitMillis, o.Params.MinRevealMillis = 5000, 2000
		o.Params.SpotVerifiers = 2
	}
	if o.Clients == 0 {
		o.Clients = 1
	}
	if o.ClientBalance == 0 {
		o.ClientBalance = 1 << 40
	}
	if o.EmptyBlockInterval == 0 {
		o.EmptyBlockInterval = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	gen := ledger.Genesis{ChainID: o.ChainID, Params: o.Params, Policies: o.Policies}
	for i, s := range o.Nodes {
		if s.Stake == 0 {
			o.Nodes[i].Stake = 10_000
		}
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: pubKey(Key("node", i)), Balance: 2 * o.Nodes[i].Stake})
	}
	for i := range o.Clients {
		gen.Accounts = append(gen.Accounts, ledger.GenesisAccount{Key: pubKey(Key("client", i)), Balance: o.ClientBalance})
	}
	appState, err := json.Marshal(gen)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(o.Dir, "validator")
	settings := chain.Settings{
		ChainID: o.ChainID, AppState: appState, EmptyBlockInterval: o.EmptyBlockInterval,
		P2PAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), RPCAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]),
	}
	if err := chain.InitHome(home, settings); err != nil {
		return nil, err
	}
	v, err := chain.StartNode(ctx, home, chain.NewLedger(), o.Logger)
	if err != nil {
		return nil, err
	}
	cc, err := chain.NewClient(o.Logger, v.Local())
	if err != nil {
		v.Stop()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	nw := &Network{ChainID: o.ChainID, Validator: v, Chain: cc, cancel: cancel}
	for i, s := range o.Nodes {
		st, err := store.Open(filepath.Join(o.Dir, fmt.Sprintf("node%d.db", i)), store.Options{NoSync: true})
		if err != nil {
			nw.Stop()
			return nil, err
		}
		nw.stores = append(nw.stores, st)
		b := s.Behaviour
		if b == "" {
			b = node.Honest
		}
		h, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: Key("node", i), Source: st}, o.Logger)
		if err != nil {
			nw.Stop()
			return nil, err
		}
		nw.Hosts = append(nw.Hosts, h)
		n, err := node.New(node.Config{Key: Key("node", i), Stake: s.Stake, Profile: s.Profile, Class: s.Class,
			Behaviour: b, Workers: s.Workers, Capacity: s.Capacity, FixedCapacity: s.FixedCapacity, Addrs: h.P2PAddrs(), Observer: s.Observer, Host: h, TrainCheat: s.TrainCheat}, o.ChainID, cc, o.Engines, st, o.Logger)
		if err != nil {
			nw.Stop()
			return nil, err
		}
		nw.Nodes = append(nw.Nodes, n)
	}
	// Register concurrently: each registration waits for its block.
	var regErr error
	var regMu sync.Mutex
	var rg sync.WaitGroup
	for _, n := range nw.Nodes {
		rg.Go(func() {
			if err := n.Register(ctx); err != nil {
				regMu.Lock()
				regErr = errors.Join(regErr, err)
				regMu.Unlock()
			}
		})
	}
	rg.Wait()
	if regErr != nil {
		nw.Stop()
		return nil, regErr
	}
	for _, n := range nw.Nodes {
		nw.wg.Go(func() {
			if err := n.Run(runCtx); err != nil {
				nw.mu.Lock()
				nw.errs = append(nw.errs, err)
				nw.mu.Unlock()
			}
		})
	}
	for i := range o.Clients {
		nw.Clients = append(nw.Clients, node.NewClient(Key("client", i), o.ChainID, cc))
	}
	if nw.ClientHost, err = p2p.NewHost(ctx, p2p.Config{PrivateKey: Key("client-host", 0)}, o.Logger); err != nil {
		nw.Stop()
		return nil, err
	}
	return nw, nil
}

// Stop stops the nodes, then the validator, and closes the stores. It returns the errors the
// nodes stopped with, if any.
func (nw *Network) Stop() error {
	nw.cancel()
	nw.wg.Wait()
	err := nw.Validator.Stop()
	for _, h := range append(nw.Hosts, nw.ClientHost) {
		if h != nil {
			err = errors.Join(err, h.Close())
		}
	}
	for _, st := range nw.stores {
		err = errors.Join(err, st.Close())
	}
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return errors.Join(append(nw.errs, err)...)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("devnet: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
