// Command genquorum makes generative-AI work reproducible and verifiable across machines that do
// not trust each other: it hashes and compares outputs, computes verification odds, and runs the
// verification network. Run `genquorum --help` for the subcommands.
//
// Exit statuses:
//
//	0   success
//	1   error
//	2   bad usage (unknown flag, missing argument)
//	3   partial failure: some inputs could not be processed, the rest were
//	130 interrupted (SIGINT or SIGTERM)
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	// The first SIGINT or SIGTERM cancels ctx, and every command winds down; a second one
	// gets the default action and ends the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
