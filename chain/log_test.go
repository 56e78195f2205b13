package chain

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestShutdownNoiseIsDebug: the errors CometBFT logs when Stop closes its listeners are not
// ERROR lines; real errors still are.
func TestShutdownNoiseIsDebug(t *testing.T) {
	closed := &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	tests := []struct {
		msg   string
		kv    []any
		error bool
	}{
		{"Error serving server", []any{"err", closed}, false},
		{"Error serving server", []any{"err", fmt.Errorf("wrapped: %w", closed)}, false},
		{"Stopped accept routine, as transport is closed", []any{"numPeers", 0}, false},
		{"Error serving server", []any{"err", errors.New("tls: bad certificate")}, true},
		{"CONSENSUS FAILURE!!!", []any{"err", "boom"}, true},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		a := slogAdapter{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
		a.Error(tt.msg, tt.kv...)
		if got := strings.Contains(buf.String(), "level=ERROR"); got != tt.error {
			t.Errorf("Error(%q, %v) logged %q; want an ERROR line: %v", tt.msg, tt.kv, buf.String(), tt.error)
		}
	}
}
