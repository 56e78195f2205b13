package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
)

type fetchOptions struct {
	rpcOptions
	out string
}

func newFetchCommand(g *globalOptions) *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch ID --out FILE",
		Short: "Fetch the accepted artifact of a task from an agreeing node",
		Long: `fetch looks the task up on the ledger, and fetches its artifact over libp2p from the
executors that agreed with the verdict, in turn, until one delivers bytes whose SHA-256 is
the digest it revealed and whose fingerprint (recomputed here) lies within the task's
tolerance of the accepted one. It writes the artifact to --out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFetch(cmd.Context(), g, o, args[0])
		},
	}
	o.rpcOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.out, "out", "", "file to write the artifact to (required)")
	return cmd
}

func runFetch(ctx context.Context, g *globalOptions, o fetchOptions, arg string) error {
	if o.out == "" {
		return usagef("fetch: --out is required")
	}
	id, err := parseTaskID(arg)
	if err != nil {
		return err
	}
	cc, _, err := o.client(ctx, g)
	if err != nil {
		return err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader) // a throwaway identity: fetching needs none
	if err != nil {
		return err
	}
	host, err := p2p.NewHost(ctx, p2p.Config{PrivateKey: key}, g.logger)
	if err != nil {
		return err
	}
	defer host.Close()
	f, err := node.Fetch(ctx, cc, host, id, fingerprint.Options{})
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, f.Data, 0o644); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	fmt.Fprintf(g.stdout, "%s\t%d bytes\tsha256 %s\tfrom %s\tdistance %d\n", o.out, len(f.Data), f.Digest, f.From[:16], f.Distance)
	return nil
}
