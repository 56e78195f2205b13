package p2p

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/store"
)

// Fetch asks one peer for the artifact with digest d and returns its bytes, which are known to
// hash to d. It connects to the peer at the addresses in p if not connected yet. ctx bounds
// the whole exchange: cancelling it aborts the stream.
//
// Errors wrap ErrNotFound, ErrTooLarge, ErrDigestMismatch, ErrBusy, ErrRemote or ErrProtocol
// when the peer answered, or the transport's error when it could not be reached.
func (h *Host) Fetch(ctx context.Context, p peer.AddrInfo, d store.Digest) ([]byte, error) {
	data, err := h.fetch(ctx, p, d)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("p2p: peer %s does not have artifact %s: %w", p.ID, d.Short(), err)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("p2p: fetch %s from peer %s: %w", d.Short(), p.ID, ctx.Err())
	default:
		return nil, fmt.Errorf("p2p: fetch %s from peer %s: %w", d.Short(), p.ID, err)
	}
}

func (h *Host) fetch(ctx context.Context, p peer.AddrInfo, d store.Digest) ([]byte, error) {
	if p.ID == h.h.ID() {
		return nil, errors.New("cannot fetch from self")
	}
	if err := h.h.Connect(ctx, p); err != nil {
		return nil, err
	}
	s, err := h.h.NewStream(ctx, p.ID, ProtocolID)
	if err != nil {
		return nil, err
	}
	// Cancelling ctx resets the stream, which unblocks any read or write below.
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		s.SetDeadline(deadline)
	}
	data, err := h.exchange(s, d)
	if err != nil {
		s.Reset()
		return nil, err
	}
	s.Close()
	return data, nil
}

// exchange sends the request on s and reads and checks the response.
func (h *Host) exchange(s network.Stream, d store.Digest) ([]byte, error) {
	if _, err := s.Write(d[:]); err != nil {
		return nil, err
	}
	if err := s.CloseWrite(); err != nil {
		return nil, err
	}
	data, err := readResponse(s, h.cfg.MaxArtifactSize)
	if err != nil {
		return nil, err
	}
	if got := store.Sum(data); got != d {
		return nil, fmt.Errorf("got %d bytes hashing to %s: %w", len(data), got.Short(), ErrDigestMismatch)
	}
	return data, nil
}

// FetchAny tries the peers in order and returns the first artifact that hashes to d. Each
// attempt is bounded by Config.PeerTimeout as well as ctx. If every peer fails, the error joins
// each peer's error (so errors.Is finds, for example, ErrDigestMismatch when one peer lied).
// The caller chooses the order: for example the agreeing verifiers of a task, nearest first.
func (h *Host) FetchAny(ctx context.Context, peers []peer.AddrInfo, d store.Digest) ([]byte, error) {
	if len(peers) == 0 {
		return nil, fmt.Errorf("p2p: fetch %s: no peers given: %w", d.Short(), ErrNotFound)
	}
	var errs []error
	for _, p := range peers {
		actx, cancel := context.WithTimeout(ctx, h.cfg.PeerTimeout)
		data, err := h.Fetch(actx, p, d)
		cancel()
		if err == nil {
			return data, nil
		}
		h.log.Info("artifact fetch failed, trying the next peer", "peer", p.ID, "digest", d.Short(), "err", err)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("p2p: no peer of %d served artifact %s: %w", len(peers), d.Short(), errors.Join(errs...))
}
