package p2p

import (
	"testing"

	"github.com/genquorum/genquorum/store"
)

// benchmarkFetch measures one Fetch of size bytes over loopback on an open connection: the
// request, the transfer through the secure channel and muxer, and the client's SHA-256 check.
// The server reads from a real store (NoSync; reads are the same either way).
func benchmarkFetch(b *testing.B, size int, listen string) {
	data := randomBytes(1, size)
	st, ds := openStore(b, data)
	server := newTestHost(b, Config{Source: st, ListenAddrs: []string{listen}})
	client := newTestHost(b, Config{ListenAddrs: []string{listen}})
	if _, err := client.Fetch(b.Context(), server.AddrInfo(), ds[0]); err != nil { // connect
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Fetch(b.Context(), server.AddrInfo(), ds[0]); err != nil {
			b.Fatal(err)
		}
	}
}

const (
	tcpLoopback  = "/ip4/127.0.0.1/tcp/0"
	quicLoopback = "/ip4/127.0.0.1/udp/0/quic-v1"
)

func BenchmarkFetch1KiB(b *testing.B)     { benchmarkFetch(b, 1<<10, tcpLoopback) }
func BenchmarkFetch1MiB(b *testing.B)     { benchmarkFetch(b, 1<<20, tcpLoopback) }
func BenchmarkFetch8MiB(b *testing.B)     { benchmarkFetch(b, 8<<20, tcpLoopback) }
func BenchmarkFetch64MiB(b *testing.B)    { benchmarkFetch(b, 64<<20, tcpLoopback) }
func BenchmarkFetch8MiBQUIC(b *testing.B) { benchmarkFetch(b, 8<<20, quicLoopback) }

// BenchmarkFetchConnect8MiB includes dialling and the security handshake: a fresh client
// host per fetch, as for the first fetch from a peer.
func BenchmarkFetchConnect8MiB(b *testing.B) {
	data := randomBytes(1, 8<<20)
	st, ds := openStore(b, data)
	server := newTestHost(b, Config{Source: st})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		client, err := NewHost(b.Context(), Config{PrivateKey: testKey()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := client.Fetch(b.Context(), server.AddrInfo(), ds[0]); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		client.Close()
		b.StartTimer()
	}
}

var _ ArtifactSource = (*store.Store)(nil)
