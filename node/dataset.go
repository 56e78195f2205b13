package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// DatasetHolder is implemented by engines that train on content-addressed datasets
// (train.Engine). A node serves the datasets its engines hold over p2p like artifacts (their
// canonical encodings, by SHA-256, which is the digest tasks name), and fetches a dataset a
// training task names from the other nodes when its engine lacks it.
type DatasetHolder interface {
	HasDataset(d engine.Digest) bool
	AddDatasetBytes(b []byte) (engine.Digest, error)
	DatasetBytes() [][]byte
}

const mediaTypeDataset = "application/x-genquorum-dataset"

// ServeDataset puts a dataset's canonical encoding in the node's store, where peers fetch it
// by digest; it returns the digest.
func (n *Node) ServeDataset(ctx context.Context, b []byte) (store.Digest, error) {
	return n.store.Put(ctx, b, store.ArtifactMeta{MediaType: mediaTypeDataset})
}

// serveDatasets serves every dataset the engines hold.
func (n *Node) serveDatasets(ctx context.Context) error {
	if n.engines == nil {
		return nil
	}
	for _, e := range n.engines.Engines() {
		if h, ok := e.(DatasetHolder); ok {
			for _, b := range h.DatasetBytes() {
				if _, err := n.ServeDataset(ctx, b); err != nil {
					return fmt.Errorf("node: serve dataset: %w", err)
				}
			}
		}
	}
	return nil
}

// EnsureDataset makes sure the engine of a training task holds its dataset: from this node's
// store, or fetched over p2p (checked against the digest) from the registered nodes; the
// node then serves it too.
func (n *Node) EnsureDataset(ctx context.Context, task engine.Task) error {
	if task.Kind != engine.KindTrain || task.Train == nil {
		return nil
	}
	e, err := n.engines.ForTask(task)
	if err != nil {
		return nil // reported by the caller's run
	}
	h, ok := e.(DatasetHolder)
	d := task.Train.Dataset
	if !ok || h.HasDataset(d) {
		return nil
	}
	b, _, err := n.store.Get(store.Digest(d))
	if err != nil {
		if b, err = n.fetchDataset(ctx, d); err != nil {
			return fmt.Errorf("dataset %x: %w", d[:6], err)
		}
		if _, err := n.ServeDataset(ctx, b); err != nil {
			return err
		}
		n.logger.Info("dataset fetched over p2p", "dataset", fmt.Sprintf("%x", d[:6]), "bytes", len(b))
	}
	got, err := h.AddDatasetBytes(b)
	if err != nil {
		return err
	}
	if got != d {
		return fmt.Errorf("dataset %x: the bytes decode to %x", d[:6], got[:6])
	}
	return nil
}

// fetchDataset fetches the bytes with digest d from any registered node but this one.
func (n *Node) fetchDataset(ctx context.Context, d engine.Digest) ([]byte, error) {
	if n.cfg.Host == nil {
		return nil, errors.New("no p2p host")
	}
	var nodes []chain.NodeView
	if err := n.client.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err != nil {
		return nil, err
	}
	var peers []peer.AddrInfo
	for _, nv := range nodes {
		if nv.Key == n.key.String() {
			continue
		}
		for _, a := range nv.Addrs {
			if ai, err := p2p.ParseAddrInfo(a); err == nil {
				peers = append(peers, ai)
			}
		}
	}
	if len(peers) == 0 {
		return nil, errors.New("no peer to fetch it from")
	}
	return n.cfg.Host.FetchAny(ctx, peers, store.Digest(d))
}
