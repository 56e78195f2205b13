package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/userfile"
)

// A client key file holds the hex of a 32-byte ed25519 seed and a newline.

func writeKeyFile(path string) (ed25519.PrivateKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(seed)); err != nil {
		f.Close()
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func readKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := userfile.ReadFile(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key file %s: want %d hex-encoded bytes", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// throwawayHost starts a libp2p host under a fresh identity, for commands that only fetch
// (fetch, explorer): fetching needs none. The caller closes it.
func throwawayHost(ctx context.Context, g *globalOptions) (*p2p.Host, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return p2p.NewHost(ctx, p2p.Config{PrivateKey: key}, g.logger)
}
