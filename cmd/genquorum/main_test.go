package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns stdout, stderr and the exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"version"}, exitOK},
		{[]string{"no-such-command"}, exitUsage},
		{[]string{"version", "--no-such-flag"}, exitUsage},
		{[]string{"version", "--log-level", "loud"}, exitUsage},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.want {
			t.Errorf("genquorum %v: exit %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
		}
	}
}

func TestInterruptedExitCode(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := exitCode(ctx, context.Canceled); got != exitInterrupted {
		t.Errorf("exitCode(canceled) = %d, want %d", got, exitInterrupted)
	}
}

// TestInterruptedMessage: a command stopped by Ctrl-C or SIGTERM says "interrupted" on stderr
// and exits 130, not "genquorum: context canceled" (issue 18 README walk: diffusion train).
func TestInterruptedMessage(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"hash", "--kind", "average_hash", "../../testdata/imagehash/images"}, strings.NewReader(""), &out, &errb)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitInterrupted, errb.String())
	}
	if got := errb.String(); got != "genquorum: interrupted\n" {
		t.Errorf("stderr %q, want %q", got, "genquorum: interrupted\n")
	}
}

func TestErrorLine(t *testing.T) {
	tests := []struct {
		code int
		err  error
		want string
	}{
		{exitInterrupted, context.Canceled, "genquorum: interrupted"},
		{exitInterrupted, fmt.Errorf("study: table1: %w", context.Canceled), "genquorum: interrupted (study: table1: context canceled)"},
		{exitInterrupted, errors.New("store: closed"), "genquorum: interrupted (store: closed)"},
		{exitError, errors.New("boom"), "genquorum: boom"},
	}
	for _, tt := range tests {
		if got := errorLine(tt.code, tt.err); got != tt.want {
			t.Errorf("errorLine(%d, %v) = %q, want %q", tt.code, tt.err, got, tt.want)
		}
	}
}
