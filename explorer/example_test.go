package explorer_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/explorer"
)

// Serve the explorer of the network whose validator answers RPC at 127.0.0.1:26657 on
// http://127.0.0.1:8080/ until Ctrl-C (as genquorum explorer does, which also passes a
// libp2p host so that the page shows artifacts). It needs a running network, so it is
// compiled but not run.
func ExampleExplorer_Serve() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.Default()
	eps, err := chain.DialHTTP("http://127.0.0.1:26657")
	if err != nil {
		logger.Error("dial", "err", err)
		return
	}
	c, err := chain.NewClient(logger, eps...)
	if err != nil {
		logger.Error("client", "err", err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		logger.Error("listen", "err", err)
		return
	}
	if err := explorer.New(c, nil, logger).Serve(ctx, ln); err != nil {
		logger.Error("explorer", "err", err)
	}
}
