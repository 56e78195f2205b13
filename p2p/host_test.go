package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/genquorum/genquorum/store"
)

var keySeed atomic.Uint64

// testKey returns a fresh deterministic ed25519 key.
func testKey() ed25519.PrivateKey {
	var seed [ed25519.SeedSize]byte
	binary.BigEndian.PutUint64(seed[:], keySeed.Add(1))
	return ed25519.NewKeyFromSeed(seed[:])
}

// newTestHost starts a host on 127.0.0.1 with a fresh key; it is closed when the test ends.
func newTestHost(t testing.TB, cfg Config) *Host {
	t.Helper()
	if cfg.PrivateKey == nil {
		cfg.PrivateKey = testKey()
	}
	h, err := NewHost(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// openStore opens a store in a temporary directory holding the given artifacts.
func openStore(t testing.TB, artifacts ...[]byte) (*store.Store, []store.Digest) {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "node.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var ds []store.Digest
	for _, a := range artifacts {
		d, err := s.Put(t.Context(), a, store.ArtifactMeta{})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return s, ds
}

// mapSource serves fixed bytes per digest, whether or not they match it (a lying peer).
type mapSource map[store.Digest][]byte

func (m mapSource) Artifact(ctx context.Context, d store.Digest) ([]byte, error) {
	if b, ok := m[d]; ok {
		return b, nil
	}
	return nil, ErrNotFound
}

// blockingSource blocks every request until release is closed or the request's ctx ends.
type blockingSource struct {
	entered chan struct{} // receives a value when a request starts waiting
	release chan struct{}
	data    []byte
}

func newBlockingSource(data []byte) *blockingSource {
	return &blockingSource{entered: make(chan struct{}, 16), release: make(chan struct{}), data: data}
}

func (b *blockingSource) Artifact(ctx context.Context, d store.Digest) ([]byte, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestFetch8MiBFromStore(t *testing.T) {
	data := randomBytes(1, 8<<20)
	st, ds := openStore(t, data)
	server := newTestHost(t, Config{Source: st})
	client := newTestHost(t, Config{})

	got, err := client.Fetch(t.Context(), server.AddrInfo(), ds[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("Fetch returned %d bytes that differ from the %d stored", len(got), len(data))
	}
	// A second fetch reuses the connection.
	if _, err := client.Fetch(t.Context(), server.AddrInfo(), ds[0]); err != nil {
		t.Errorf("second Fetch: %v", err)
	}
}

func TestFetchErrors(t *testing.T) {
	good := randomBytes(2, 1000)
	big := randomBytes(3, 3000)  // over the client's limit
	huge := randomBytes(9, 5000) // over the server's limit
	liar := randomBytes(4, 1000)
	src := mapSource{
		store.Sum(good): good,
		store.Sum(big):  big,
		store.Sum(huge): huge,
		store.Sum(liar): randomBytes(5, 1000), // wrong bytes for the digest
	}
	server := newTestHost(t, Config{Source: src, MaxArtifactSize: 4000})
	client := newTestHost(t, Config{MaxArtifactSize: 2000})
	bigClient := newTestHost(t, Config{})

	tests := []struct {
		name    string
		client  *Host
		digest  store.Digest
		wantErr error
		wantMsg string
	}{
		{"ok", client, store.Sum(good), nil, ""},
		{"unknown digest", client, store.Sum([]byte("nobody has this")), ErrNotFound, "does not have artifact"},
		{"wrong bytes", client, store.Sum(liar), ErrDigestMismatch, "do not match the digest"},
		{"over the client's limit", client, store.Sum(big), ErrTooLarge, "over the limit of 2000"},
		{"over the server's limit", bigClient, store.Sum(huge), ErrTooLarge, "over the server's limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.client.Fetch(t.Context(), server.AddrInfo(), tt.digest)
			if tt.wantErr == nil {
				if err != nil || store.Sum(got) != tt.digest {
					t.Errorf("Fetch = %d bytes, %v; want the artifact", len(got), err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Fetch error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Fetch returned %d bytes with an error", len(got))
			}
			for _, want := range []string{tt.wantMsg, server.ID().String(), tt.digest.Short()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Fetch error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// rawHandler makes h answer artifact requests with fixed bytes, breaking the protocol at will.
func rawHandler(h *Host, response []byte) {
	h.h.SetStreamHandler(ProtocolID, func(s network.Stream) {
		defer s.Close()
		if _, err := readRequest(s); err != nil {
			s.Reset()
			return
		}
		s.Write(response)
	})
}

func TestFetchProtocolViolations(t *testing.T) {
	data := []byte("twelve bytes")
	d := store.Sum(data)
	okHeader := func(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte{statusOK}, n) }
	tests := []struct {
		name     string
		response []byte
		wantErr  error
	}{
		{"well formed", append(okHeader(12), data...), nil},
		{"empty response", nil, ErrProtocol},
		{"unknown status", []byte{9}, ErrProtocol},
		{"short length", []byte{statusOK, 0, 0}, ErrProtocol},
		{"truncated body", append(okHeader(12), data[:5]...), ErrProtocol},
		{"trailing bytes", append(append(okHeader(12), data...), 'x'), ErrProtocol},
		{"huge length claimed", okHeader(1 << 40), ErrTooLarge},
		{"busy", []byte{statusBusy}, ErrBusy},
		{"server error", []byte{statusError}, ErrRemote},
	}
	client := newTestHost(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := newTestHost(t, Config{})
			rawHandler(server, tt.response)
			got, err := client.Fetch(t.Context(), server.AddrInfo(), d)
			if tt.wantErr == nil {
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("Fetch = %q, %v, want %q", got, err, data)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Fetch error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestFetchCancel(t *testing.T) {
	src := newBlockingSource([]byte("late"))
	defer close(src.release)
	server := newTestHost(t, Config{Source: src})
	client := newTestHost(t, Config{})

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := client.Fetch(ctx, server.AddrInfo(), store.Sum([]byte("late")))
		errc <- err
	}()
	<-src.entered // the request reached the server, which now stalls
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch after cancel: error = %v, want context.Canceled", err)
	}
}

func TestFetchFromClosedHostFails(t *testing.T) {
	client := newTestHost(t, Config{})
	dead := newTestHost(t, Config{Source: mapSource{}})
	info := dead.AddrInfo()
	dead.Close()
	if _, err := client.Fetch(t.Context(), info, store.Sum(nil)); err == nil {
		t.Error("Fetch from a closed host succeeded")
	}
}

func TestFetchAnyFailOver(t *testing.T) {
	data := randomBytes(6, 100_000)
	d := store.Sum(data)

	dead := newTestHost(t, Config{Source: mapSource{d: data}})
	deadInfo := dead.AddrInfo()
	dead.Close()
	liar := newTestHost(t, Config{Source: mapSource{d: randomBytes(7, len(data))}})
	empty := newTestHost(t, Config{Source: mapSource{}})
	st, _ := openStore(t, data)
	honest := newTestHost(t, Config{Source: st})
	client := newTestHost(t, Config{})

	peers := []peer.AddrInfo{deadInfo, liar.AddrInfo(), empty.AddrInfo(), honest.AddrInfo()}
	got, err := client.FetchAny(t.Context(), peers, d)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("FetchAny = %d bytes, %v; want the artifact from the honest peer", len(got), err)
	}

	_, err = client.FetchAny(t.Context(), peers[:3], d)
	for _, want := range []error{ErrDigestMismatch, ErrNotFound} {
		if !errors.Is(err, want) {
			t.Errorf("FetchAny without an honest peer: error = %v, want it to wrap %v", err, want)
		}
	}
	if _, err := client.FetchAny(t.Context(), nil, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("FetchAny with no peers: error = %v, want ErrNotFound", err)
	}
}

func TestFetchAnyPeerTimeout(t *testing.T) {
	data := []byte("artifact")
	stalled := newBlockingSource(data)
	defer close(stalled.release)
	slow := newTestHost(t, Config{Source: stalled})
	st, _ := openStore(t, data)
	honest := newTestHost(t, Config{Source: st})
	// The stalled peer never answers; its attempt must end at the peer timeout, leaving the
	// rest of ctx for the honest peer. The client is connected to both beforehand, so the
	// honest attempt needs one stream round trip, far below the timeout.
	client := newTestHost(t, Config{PeerTimeout: time.Second})
	for _, p := range []*Host{slow, honest} {
		if err := client.h.Connect(t.Context(), p.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := client.FetchAny(t.Context(), []peer.AddrInfo{slow.AddrInfo(), honest.AddrInfo()}, store.Sum(data))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("FetchAny past a stalled peer = %q, %v, want %q", got, err, data)
	}
	select {
	case <-stalled.entered:
	default:
		t.Error("the stalled peer was never asked")
	}
}

func TestServeBusy(t *testing.T) {
	data := []byte("popular")
	src := newBlockingSource(data)
	server := newTestHost(t, Config{Source: src, MaxServing: 1})
	client := newTestHost(t, Config{})

	var wg sync.WaitGroup
	var first error
	wg.Go(func() { _, first = client.Fetch(t.Context(), server.AddrInfo(), store.Sum(data)) })
	<-src.entered // the only serving slot is taken
	_, err := client.Fetch(t.Context(), server.AddrInfo(), store.Sum(data))
	if !errors.Is(err, ErrBusy) {
		t.Errorf("second concurrent Fetch: error = %v, want ErrBusy", err)
	}
	close(src.release)
	wg.Wait()
	if first != nil {
		t.Errorf("first Fetch: %v", first)
	}
}

func TestCloseWhileServing(t *testing.T) {
	src := newBlockingSource([]byte("never sent"))
	server := newTestHost(t, Config{Source: src})
	client := newTestHost(t, Config{})
	errc := make(chan error, 1)
	go func() {
		_, err := client.Fetch(t.Context(), server.AddrInfo(), store.Sum([]byte("never sent")))
		errc <- err
	}()
	<-src.entered
	if err := server.Close(); err != nil { // must not wait for src.release
		t.Errorf("Close: %v", err)
	}
	if err := <-errc; err == nil {
		t.Error("Fetch from a host closed mid-request succeeded")
	}
	if err := server.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestQUIC(t *testing.T) {
	data := randomBytes(8, 1<<20)
	st, ds := openStore(t, data)
	server := newTestHost(t, Config{Source: st, ListenAddrs: []string{"/ip4/127.0.0.1/udp/0/quic-v1"}})
	client := newTestHost(t, Config{ListenAddrs: []string{"/ip4/127.0.0.1/udp/0/quic-v1"}})
	got, err := client.Fetch(t.Context(), server.AddrInfo(), ds[0])
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Fetch over QUIC = %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
}

func TestIdentity(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	h := newTestHost(t, Config{PrivateKey: key})
	pub := key.Public().(ed25519.PublicKey)
	id, err := PeerID(pub)
	if err != nil {
		t.Fatal(err)
	}
	if id != h.ID() {
		t.Errorf("PeerID(pub) = %s, want the host's %s", id, h.ID())
	}
	// libp2p peer-id spec: keys of at most 42 encoded bytes use the identity multihash
	// (0x00, length 0x24) of the protobuf PublicKey{Type: Ed25519 (1), Data: 32 bytes}.
	want := "\x00\x24\x08\x01\x12\x20" + string(pub)
	if string(id) != want {
		t.Errorf("peer id bytes = %x, want %x", []byte(id), want)
	}
	if _, err := PeerID(pub[:5]); err == nil {
		t.Error("PeerID of a short key succeeded")
	}

	addrs := h.P2PAddrs()
	if len(addrs) == 0 {
		t.Fatal("P2PAddrs is empty")
	}
	info, err := ParseAddrInfo(addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != h.ID() || len(info.Addrs) != 1 || !strings.HasPrefix(info.Addrs[0].String(), "/ip4/127.0.0.1/tcp/") {
		t.Errorf("ParseAddrInfo(%q) = %v, want %s at 127.0.0.1", addrs[0], info, h.ID())
	}
	if _, err := ParseAddrInfo("/ip4/127.0.0.1/tcp/1"); err == nil {
		t.Error("ParseAddrInfo without /p2p/ succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	key := testKey()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{PrivateKey: key}, true},
		{"no key", Config{}, false},
		{"short key", Config{PrivateKey: key[:32]}, false},
		{"bad listen address", Config{PrivateKey: key, ListenAddrs: []string{"127.0.0.1:26656"}}, false},
		{"negative size", Config{PrivateKey: key, MaxArtifactSize: -1}, false},
		{"size over the store's limit", Config{PrivateKey: key, MaxArtifactSize: store.MaxArtifactSizeLimit + 1}, false},
		{"negative timeout", Config{PrivateKey: key, PeerTimeout: -1}, false},
		{"negative serving", Config{PrivateKey: key, MaxServing: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if _, err := NewHost(t.Context(), Config{}, nil); err == nil {
		t.Error("NewHost without a key succeeded")
	}
}

func TestFetchFromHostWithoutSource(t *testing.T) {
	fetchOnly := newTestHost(t, Config{})
	client := newTestHost(t, Config{})
	_, err := client.Fetch(t.Context(), fetchOnly.AddrInfo(), store.Sum(nil))
	if err == nil {
		t.Fatal("Fetch from a host without a source succeeded")
	}
	if !strings.Contains(err.Error(), fetchOnly.ID().String()) {
		t.Errorf("Fetch error %q does not name the peer", err)
	}
	t.Log(err)
}

// TestOnlyArtifactAndIdentifyServed checks that the host offers no relay, hole-punching,
// AutoNAT or ping service: only identify (which libp2p needs) and the artifact protocol.
func TestOnlyArtifactAndIdentifyServed(t *testing.T) {
	h := newTestHost(t, Config{Source: mapSource{}})
	got := h.h.Mux().Protocols()
	slices.Sort(got)
	want := []protocol.ID{ProtocolID, "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0"}
	if !slices.Equal(got, want) {
		t.Errorf("protocols served = %v, want %v", got, want)
	}
	for _, a := range h.AddrInfo().Addrs {
		if !strings.HasPrefix(a.String(), "/ip4/127.0.0.1/") {
			t.Errorf("host listens on %s, want only 127.0.0.1", a)
		}
	}
}
