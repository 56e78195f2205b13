package p2p_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// artifacts is an in-memory p2p.ArtifactSource; a node uses its *store.Store.
type artifacts map[store.Digest][]byte

func (a artifacts) Artifact(ctx context.Context, d store.Digest) ([]byte, error) {
	if b, ok := a[d]; ok {
		return b, nil
	}
	return nil, p2p.ErrNotFound
}

func Example() {
	ctx := context.Background()
	data := []byte("an artifact")
	d := store.Sum(data)

	// Two nodes on loopback, each with its own node key.
	server, err := p2p.NewHost(ctx, p2p.Config{
		PrivateKey: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)),
		Source:     artifacts{d: data},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	client, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	got, err := client.FetchAny(ctx, []peer.AddrInfo{server.AddrInfo()}, d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", got)

	_, err = client.Fetch(ctx, server.AddrInfo(), store.Sum([]byte("something else")))
	fmt.Println(errors.Is(err, p2p.ErrNotFound))
	// Output:
	// an artifact
	// true
}

func ExamplePeerID() {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	id, err := p2p.PeerID(key.Public().(ed25519.PublicKey))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
	// Output:
	// 12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5
}
