package main

import (
	"context"
	"net"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/explorer"
)

type explorerOptions struct {
	rpcOptions
	listen string
}

func newExplorerCommand(g *globalOptions) *cobra.Command {
	var o explorerOptions
	cmd := &cobra.Command{
		Use:   "explorer [--rpc ADDR] [--listen ADDR]",
		Short: "Serve a live web page of a network's tasks, verdicts, artifacts, nodes and blocks",
		Long: `explorer follows the chain through --rpc and serves a web page at http://--listen/: the tasks
(status, verdict, executors with outcomes and fingerprints, odds of the verdict at the
network's observed agreement rate), each settled task's artifact fetched from an agreeing
executor over libp2p (images shown, text shown), the nodes (stake, record, profile, engines,
models, jailing) and the latest blocks. The page updates itself every two seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplorer(cmd.Context(), g, o)
		},
	}
	o.rpcOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the web page")
	return cmd
}

func runExplorer(ctx context.Context, g *globalOptions, o explorerOptions) error {
	cc, _, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	host, err := throwawayHost(ctx, g)
	if err != nil {
		return err
	}
	defer host.Close()
	x := explorer.New(cc, host, g.logger)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	g.logger.Info("explorer listening", "url", "http://"+ln.Addr().String()+"/")
	return x.Serve(ctx, ln)
}
