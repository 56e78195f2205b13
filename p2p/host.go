package p2p

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/genquorum/genquorum/store"
)

// Defaults for the zero fields of Config.
const (
	DefaultListenAddr      = "/ip4/127.0.0.1/tcp/0"
	DefaultMaxArtifactSize = store.DefaultMaxArtifactSize
	DefaultServeTimeout    = time.Minute
	DefaultPeerTimeout     = time.Minute
	DefaultMaxServing      = 8
)

// ArtifactSource is where a host finds the artifacts it serves. A *store.Store is one.
//
// Artifact returns the bytes stored under d, or an error for which errors.Is(err,
// store.ErrNotFound) or errors.Is(err, ErrNotFound) holds when there are none. It may be called
// from several goroutines at once, and must not keep or modify the returned slice afterwards
// while the host writes it out.
type ArtifactSource interface {
	Artifact(ctx context.Context, d store.Digest) ([]byte, error)
}

// Config configures a Host. The zero value of each field but PrivateKey means its default.
type Config struct {
	// PrivateKey is the node's ed25519 key; the host's peer ID derives from it. Required.
	PrivateKey ed25519.PrivateKey
	// ListenAddrs are multiaddrs to listen on, e.g. "/ip4/0.0.0.0/tcp/26660" or
	// "/ip4/127.0.0.1/udp/0/quic-v1". Default: DefaultListenAddr.
	ListenAddrs []string
	// Source serves artifacts to peers. Nil: the host only fetches.
	Source ArtifactSource
	// MaxArtifactSize bounds, in bytes, what the host fetches and what it serves.
	MaxArtifactSize int64
	// ServeTimeout bounds one served request, from stream open to the last byte written.
	ServeTimeout time.Duration
	// PeerTimeout bounds one attempt of FetchAny on one peer, so that a stalled peer does not
	// keep FetchAny from trying the next. Fetch itself is bounded only by its ctx.
	PeerTimeout time.Duration
	// MaxServing is how many requests the host serves at once; more are answered busy.
	MaxServing int
}

func (c Config) withDefaults() Config {
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = []string{DefaultListenAddr}
	}
	if c.MaxArtifactSize == 0 {
		c.MaxArtifactSize = DefaultMaxArtifactSize
	}
	if c.ServeTimeout == 0 {
		c.ServeTimeout = DefaultServeTimeout
	}
	if c.PeerTimeout == 0 {
		c.PeerTimeout = DefaultPeerTimeout
	}
	if c.MaxServing == 0 {
		c.MaxServing = DefaultMaxServing
	}
	return c
}

// Validate reports the first problem with c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case len(c.PrivateKey) != ed25519.PrivateKeySize:
		return fmt.Errorf("p2p: private key has %d bytes, want an ed25519 key of %d", len(c.PrivateKey), ed25519.PrivateKeySize)
	case c.MaxArtifactSize < 0 || c.MaxArtifactSize > store.MaxArtifactSizeLimit:
		return fmt.Errorf("p2p: max artifact size %d out of range [1, %d]", c.MaxArtifactSize, store.MaxArtifactSizeLimit)
	case c.ServeTimeout < 0 || c.PeerTimeout < 0:
		return errors.New("p2p: negative timeout")
	case c.MaxServing < 0:
		return fmt.Errorf("p2p: max serving %d is negative", c.MaxServing)
	}
	for _, s := range c.ListenAddrs {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("p2p: listen address %q: %w", s, err)
		}
	}
	return nil
}

// Host is a running libp2p host. Its methods are safe for concurrent use.
type Host struct {
	h   host.Host
	cfg Config
	log *slog.Logger

	sem chan struct{} // one token per request being served

	// base is the parent context of every served request; Close cancels it. Kept in the struct
	// (like http.Server's BaseContext) because libp2p calls the handler without a context.
	base   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	serving sync.WaitGroup // stream handlers in flight
}

// NewHost starts a host listening on cfg.ListenAddrs. ctx bounds only the start; the host runs
// until Close. A nil logger discards this package's messages.
func NewHost(ctx context.Context, cfg Config, logger *slog.Logger) (*Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("p2p: new host: %w", err)
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("p2p: private key: %w", err)
	}
	h, err := libp2p.New(
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.UserAgent("genquorum"),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.Ping(false),
		// No NATPortMap, EnableHolePunching, EnableAutoRelay or EnableNATService: all off
		// unless asked for.
	)
	if err != nil {
		return nil, fmt.Errorf("p2p: new host: %w", err)
	}
	base, cancel := context.WithCancel(context.Background())
	hst := &Host{
		h:      h,
		cfg:    cfg,
		log:    logger,
		sem:    make(chan struct{}, cfg.MaxServing),
		base:   base,
		cancel: cancel,
	}
	if cfg.Source != nil {
		h.SetStreamHandler(ProtocolID, hst.serve)
	}
	logger.Info("p2p host started", "peer", h.ID(), "addrs", h.Addrs(), "serving", cfg.Source != nil)
	return hst, nil
}

// Close stops serving, closes every connection and waits for requests in flight to end.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()

	h.h.RemoveStreamHandler(ProtocolID)
	h.cancel()
	err := h.h.Close() // resets open streams, so handlers blocked on I/O return
	h.serving.Wait()
	if err != nil {
		return fmt.Errorf("p2p: close: %w", err)
	}
	return nil
}

// ID returns the host's peer ID.
func (h *Host) ID() peer.ID { return h.h.ID() }

// AddrInfo returns the host's peer ID and listen addresses: what another host needs to fetch
// from it. With port 0 in the config, the addresses carry the ports actually chosen.
func (h *Host) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: h.h.ID(), Addrs: h.h.Addrs()}
}

// P2PAddrs returns the listen addresses with /p2p/<peer ID> appended, as strings that
// ParseAddrInfo reads back.
func (h *Host) P2PAddrs() []string {
	info := h.AddrInfo()
	addrs, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		panic(err) // only for an empty peer ID, which a running host never has
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// PeerID returns the libp2p peer ID of the node whose ed25519 public key is pub: the ID a host
// started with that node's private key has.
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("p2p: public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("p2p: public key: %w", err)
	}
	id, err := peer.IDFromPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("p2p: peer id: %w", err)
	}
	return id, nil
}

// ParseAddrInfo parses a multiaddr ending in /p2p/<peer ID>, such as one of P2PAddrs.
func ParseAddrInfo(s string) (peer.AddrInfo, error) {
	info, err := peer.AddrInfoFromString(s)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("p2p: address %q: %w", s, err)
	}
	return *info, nil
}

// serve answers one request on stream s. libp2p calls it in its own goroutine.
func (h *Host) serve(s network.Stream) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.Reset()
		return
	}
	h.serving.Add(1)
	h.mu.Unlock()
	defer h.serving.Done()

	remote := s.Conn().RemotePeer()
	if err := s.SetDeadline(time.Now().Add(h.cfg.ServeTimeout)); err != nil {
		h.log.Debug("set stream deadline", "peer", remote, "err", err)
	}
	d, err := readRequest(s)
	if err != nil {
		h.log.Debug("bad artifact request", "peer", remote, "err", err)
		s.Reset()
		return
	}
	log := h.log.With("peer", remote, "digest", d.Short())

	status, data := h.lookup(d, log)
	if err := writeResponse(s, status, data); err != nil {
		log.Debug("artifact response failed", "err", err)
		s.Reset()
		return
	}
	if err := s.Close(); err != nil {
		log.Debug("close stream", "err", err)
	}
	log.Debug("artifact request served", "status", status, "bytes", len(data))
}

// lookup finds the artifact for a request and picks the response status.
func (h *Host) lookup(d store.Digest, log *slog.Logger) (byte, []byte) {
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	default:
		return statusBusy, nil
	}
	ctx, cancel := context.WithTimeout(h.base, h.cfg.ServeTimeout)
	defer cancel()
	data, err := h.cfg.Source.Artifact(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrNotFound):
		return statusNotFound, nil
	case err != nil:
		log.Warn("artifact source failed", "err", err)
		return statusError, nil
	case int64(len(data)) > h.cfg.MaxArtifactSize:
		return statusTooLarge, nil
	}
	return statusOK, data
}
