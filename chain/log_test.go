package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cometbft/cometbft/libs/service"
)

// TestShutdownNoiseIsDebug: the errors CometBFT logs when Stop closes its listeners, stops a
// stopped service, or sees its peers go away during its own stop are not ERROR lines (a peer
// going away otherwise is a warning); real errors still are ERROR lines. The messages are
// those a 4-validator testnet logged on SIGTERM (issue 18 README walk).
func TestShutdownNoiseIsDebug(t *testing.T) {
	closed := &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	const peerErr = "Stopping peer for error"
	tests := []struct {
		msg      string
		kv       []any
		stopping bool
		want     string // the level logged, "" for nothing at info
	}{
		{"Error serving server", []any{"err", closed}, false, ""},
		{"Error serving server", []any{"err", fmt.Errorf("wrapped: %w", closed)}, false, ""},
		{"Stopped accept routine, as transport is closed", []any{"numPeers", 0}, false, ""},
		{"Error stopping pool", []any{"err", service.ErrAlreadyStopped}, false, ""},
		{peerErr, []any{"peer", "Peer{MConn{127.0.0.1:26658} 5222 out}", "err", io.EOF}, true, ""},
		{peerErr, []any{"peer", "Peer{MConn{127.0.0.1:26658} 5222 out}", "err", io.EOF}, false, "WARN"},
		{peerErr, []any{"peer", "Peer{MConn{127.0.0.1:26658} 5222 out}", "err", errors.New("invalid message")}, true, "ERROR"},
		{"Error stopping pool", []any{"err", errors.New("disk full")}, true, "ERROR"},
		{"Error serving server", []any{"err", errors.New("tls: bad certificate")}, false, "ERROR"},
		{"CONSENSUS FAILURE!!!", []any{"err", "boom"}, true, "ERROR"},
		// Validators of a testnet starting one after another (issue 18 README walk):
		// another node not listening yet, a block-sync peer slow to answer.
		{"Error dialing peer", []any{"err", fmt.Errorf("auth failure: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})}, false, "WARN"},
		{"Error dialing peer", []any{"err", errors.New("dial tcp 127.0.0.1:26656: connect: connection refused")}, false, "WARN"},
		{"SendTimeout", []any{"reason", errors.New("peer did not send us anything"), "timeout", "15s"}, false, "WARN"},
		{"Error dialing peer", []any{"err", errors.New("auth failure: secret conn failed: bad signature")}, false, "ERROR"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		stopping := new(atomic.Bool)
		stopping.Store(tt.stopping)
		base := slogAdapter{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), stopping}
		a := base.With("module", "p2p") // derived loggers share the flag
		a.Error(tt.msg, tt.kv...)
		got := ""
		for _, lvl := range []string{"WARN", "ERROR"} {
			if strings.Contains(buf.String(), "level="+lvl) {
				got = lvl
			}
		}
		if got != tt.want {
			t.Errorf("Error(%q, %v) with stopping %v logged %q; want level %q", tt.msg, tt.kv, tt.stopping, buf.String(), tt.want)
		}
	}
	// A logger without a flag (nil) is never stopping.
	var buf bytes.Buffer
	slogAdapter{l: slog.New(slog.NewTextHandler(&buf, nil))}.Error(peerErr, "err", io.EOF)
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("nil stopping flag: logged %q, want a WARN line", buf.String())
	}
}

type testPeer struct {
	Logger struct{}
	Data   struct{}
	id     string
}

func (p *testPeer) String() string { return "Peer{" + p.id + "}" }

// TestJSONLogsPeersAsText: CometBFT's peers (fmt.Stringers whose exported fields say nothing)
// reach a JSON log as their String(), in a line and in With; a nil one does not panic.
func TestJSONLogsPeersAsText(t *testing.T) {
	var buf bytes.Buffer
	a := slogAdapter{l: slog.New(slog.NewJSONHandler(&buf, nil))}
	a.With("from", &testPeer{id: "abc"}).Warn("Stopping peer for error", "peer", &testPeer{id: "5222"}, "err", io.EOF, "n", 3)
	var nilPeer *testPeer
	a.Warn("nil peer", "peer", nilPeer)
	got := buf.String()
	for _, want := range []string{`"from":"Peer{abc}"`, `"peer":"Peer{5222}"`, `"err":"EOF"`, `"n":3`, `"msg":"nil peer"`} {
		if !strings.Contains(got, want) {
			t.Errorf("JSON log %q lacks %s", got, want)
		}
	}
	if strings.Contains(got, `"Logger"`) {
		t.Errorf("JSON log %q marshals a peer's fields", got)
	}
}
