package node

import (
	"context"
	"fmt"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/p2p"
)

// FetchFromExecutor fetches an accepted task's artifact from one executor (by key), with the
// checks Fetch applies to each candidate, so that tests can reach every executor whatever the
// ledger's order.
func FetchFromExecutor(ctx context.Context, c *chain.Client, host *p2p.Host, id ledger.TaskID, executor string, opts FetchOptions) (*Fetched, error) {
	tv, p, accepted, err := acceptedTask(ctx, c, id)
	if err != nil {
		return nil, err
	}
	for _, e := range tv.Executors {
		if e.Node == executor {
			return fetchFrom(ctx, c, host, e, p, accepted, int(tv.Tolerance), opts)
		}
	}
	return nil, fmt.Errorf("node %s is no executor of task %s", executor[:12], tv.ID[:12])
}
