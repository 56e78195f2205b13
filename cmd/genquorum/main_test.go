package main

import (
	"bytes"
	"context"
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
