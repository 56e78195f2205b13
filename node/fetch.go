package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/store"
)

// Fetched is an artifact fetched for an accepted task, and where it came from.
type Fetched struct {
	Data     []byte
	Digest   store.Digest
	From     string // the executor's key
	Distance int    // Hamming distance of its fingerprint to the accepted one
}

// ErrNotAccepted is returned by Fetch for a task without an accepted verdict.
var ErrNotAccepted = errors.New("node: task has no accepted verdict")

// Fetch fetches the artifact of an accepted task from its agreeing executors, in the order
// the ledger lists them, over host. Each candidate must match the digest its executor revealed
// (checked by p2p) and its fingerprint, recomputed here, must lie within the task's tolerance
// of the accepted fingerprint; otherwise the next executor is tried.
func Fetch(ctx context.Context, c *chain.Client, host *p2p.Host, id ledger.TaskID, opts fingerprint.Options) (*Fetched, error) {
	var tv chain.TaskView
	if err := c.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil {
		return nil, err
	}
	if tv.Status != ledger.StatusAccepted.String() {
		return nil, fmt.Errorf("%w: task %s is %s", ErrNotAccepted, tv.ID[:12], tv.Status)
	}
	digest, _ := hex.DecodeString(tv.ModelDigest)
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return nil, err
	}
	accepted, err := hex.DecodeString(tv.Value)
	if err != nil {
		return nil, fmt.Errorf("node: accepted value: %w", err)
	}
	var errs []error
	for _, e := range tv.Executors {
		if e.Outcome != ledger.OutcomeAgreed.String() {
			continue
		}
		f, err := fetchFrom(ctx, c, host, e, p, accepted, int(tv.Tolerance), opts)
		if err == nil {
			return f, nil
		}
		errs = append(errs, fmt.Errorf("executor %s: %w", e.Node[:12], err))
	}
	return nil, fmt.Errorf("node: no agreeing executor delivered task %s's artifact: %w", tv.ID[:12], errors.Join(errs...))
}

func fetchFrom(ctx context.Context, c *chain.Client, host *p2p.Host, e chain.ExecutorView, p Payload, accepted []byte, tol int, opts fingerprint.Options) (*Fetched, error) {
	d, err := store.ParseDigest(e.Artifact)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(e.Node)
	if err != nil {
		return nil, err
	}
	var nv chain.NodeView
	if err := c.QueryJSON(ctx, chain.QueryNode, key, &nv); err != nil {
		return nil, err
	}
	if len(nv.Addrs) == 0 {
		return nil, errors.New("announced no address")
	}
	var peers []peer.AddrInfo
	for _, a := range nv.Addrs {
		ai, err := p2p.ParseAddrInfo(a)
		if err == nil {
			peers = append(peers, ai)
		}
	}
	data, err := host.FetchAny(ctx, peers, d)
	if err != nil {
		return nil, err
	}
	art := &engine.Artifact{Data: data}
	if p.Scheme.Family == fingerprint.Tokens {
		// A text artifact's Data is its text; the token digest needs the ids, which the
		// artifact file does not carry, so only the revealed digest vouches for it.
		return &Fetched{Data: data, Digest: d, From: e.Node}, nil
	}
	fp, err := fingerprint.Of(art, p.Scheme, opts)
	if err != nil {
		return nil, err
	}
	if len(fp) != len(accepted) {
		return nil, fmt.Errorf("fingerprint of %d bytes, accepted one has %d", len(fp), len(accepted))
	}
	dist := quorum.Distance(fp, accepted)
	if dist > tol {
		return nil, fmt.Errorf("artifact's fingerprint is %d bits from the accepted one (tolerance %d)", dist, tol)
	}
	return &Fetched{Data: data, Digest: d, From: e.Node, Distance: dist}, nil
}
