// Package p2p is a node's data plane: a libp2p host that serves artifacts by digest to other
// nodes and fetches them from other nodes, checking every byte against the digest.
//
// It decides nothing. What an artifact means, whom to ask for it and whether a node was honest
// are the ledger's business; p2p only moves bytes whose SHA-256 the caller already knows, so a
// peer can refuse, stall or lie, but cannot make [Host.Fetch] return bytes that do not hash to
// the requested digest.
//
// # Identity
//
// A host's identity is the node's ed25519 key ([Config.PrivateKey]), so its libp2p peer ID is a
// function of the node's public key: [PeerID] computes it for any node registered on the
// ledger, without contacting it.
//
// # Protocol
//
// One request per libp2p stream, protocol [ProtocolID] ("/genquorum/artifact/1.0.0"):
//
//	request:  digest (32 bytes), then the client closes its write side
//	response: status (1 byte)
//	          if status is 0 (ok): length (8 bytes, big-endian uint64), then length bytes
//
// Status 1 means the server does not have the artifact, 2 that it exceeds the server's size
// limit, 3 that the server is busy (too many requests in flight), 4 any other server failure.
// A client rejects a length above its own limit before allocating, and rejects bytes whose
// SHA-256 is not the digest ([ErrDigestMismatch]). The server does not re-hash what its
// [ArtifactSource] returns: the store already does on read, and the client always does.
//
// # Network behaviour
//
// A host listens only where [Config.ListenAddrs] says (default /ip4/127.0.0.1/tcp/0) and dials
// only peers it is asked to fetch from. Relay, NAT port mapping, hole punching and metrics are
// off, and p2p starts no DHT, mDNS or pubsub: nothing reaches out to the network on its own.
// Transports are TCP and QUIC (v1); connections are secured with Noise or TLS and multiplexed
// with yamux, libp2p's defaults.
//
// go-libp2p logs to stderr through its own global handler, at error level unless the
// environment variable GOLOG_LOG_LEVEL says otherwise (go-libp2p's gologshim); the logger passed
// to [NewHost] gets this package's messages.
//
// # Use
//
//	h, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: nodeKey, Source: st}, logger) // st is a *store.Store
//	if err != nil { ... }
//	defer h.Close()
//	fmt.Println(h.AddrInfo()) // tell others where to find us (e.g. on the ledger)
//	data, err := h.FetchAny(ctx, peers, digest) // first peer that serves matching bytes wins
package p2p
