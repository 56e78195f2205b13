package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/libs/service"
)

// slogAdapter lets CometBFT log through the process's slog.Logger. CometBFT's info level is
// chatty (every block), so it is logged at debug unless it is a warning or an error.
// stopping, when set (by Node.Stop, shared by every logger With derives), marks the errors
// of peers going away as part of this node's own clean stop; nil means never.
type slogAdapter struct {
	l        *slog.Logger
	stopping *atomic.Bool
}

var _ cmtlog.Logger = slogAdapter{}

func (s slogAdapter) Debug(msg string, kv ...any) { s.log(slog.LevelDebug-1, msg, kv) }
func (s slogAdapter) Info(msg string, kv ...any)  { s.log(slog.LevelDebug, msg, kv) }
func (s slogAdapter) Warn(msg string, kv ...any)  { s.log(slog.LevelWarn, msg, kv) }
func (s slogAdapter) Error(msg string, kv ...any) {
	switch {
	case shutdownNoise(msg, kv):
		s.log(slog.LevelDebug, msg, kv)
	case peerUnreachable(msg, kv):
		// Another validator not up yet (or down), or slow to answer during block sync:
		// CometBFT retries; the network, not this node, is the problem.
		s.log(slog.LevelWarn, msg, kv)
	case peerLeft(msg, kv):
		// A peer that closed its connection went away (stopped or crashed): worth a
		// warning, not an error of this node; during this node's own stop, expected.
		if s.stopping != nil && s.stopping.Load() {
			s.log(slog.LevelDebug, msg, kv)
		} else {
			s.log(slog.LevelWarn, msg, kv)
		}
	default:
		s.log(slog.LevelError, msg, kv)
	}
}

// log logs at level when it is enabled, with CometBFT's values made loggable.
func (s slogAdapter) log(level slog.Level, msg string, kv []any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, msg, stringers(kv)...)
}

// stringers replaces the values that are fmt.Stringers (CometBFT's peers, IDs, heights)
// by their String(): a JSON handler would otherwise marshal their exported fields, e.g. a
// peer as {"Logger":{},"Data":{}}. Errors and slog's own values are kept.
func stringers(kv []any) []any {
	out, copied := kv, false
	for i, v := range kv {
		switch v.(type) {
		case error, slog.Value, slog.Attr, slog.LogValuer, string:
			continue
		case fmt.Stringer:
			if !copied {
				out, copied = append([]any(nil), kv...), true
			}
			out[i] = safeString(v.(fmt.Stringer))
		}
	}
	return out
}

// safeString is v.String(), or a note when it panics (a nil pointer, say), as fmt does.
func safeString(v fmt.Stringer) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%%!v(PANIC=String method: %v)", r)
		}
	}()
	return v.String()
}

// shutdownNoise reports whether an error CometBFT logs is only the sign of a clean stop: a
// listener or transport that Stop closed, or a service stopped a second time (the blocksync
// reactor stops its pool again after switching to consensus). Those go to debug, so that a
// clean SIGTERM prints no ERROR line.
func shutdownNoise(msg string, kv []any) bool {
	if msg == "Stopped accept routine, as transport is closed" {
		return true
	}
	for _, v := range kv {
		if err, ok := v.(error); ok && (errors.Is(err, net.ErrClosed) || errors.Is(err, service.ErrAlreadyStopped)) {
			return true
		}
	}
	return false
}

// peerUnreachable reports whether CometBFT's error is about another node that cannot be
// reached: a dial refused (the peer is not listening yet, e.g. while a testnet's validators
// start one after another, or is down) or a block-sync peer that sent nothing in time
// ("SendTimeout"). Both are retried by CometBFT; they are warnings.
func peerUnreachable(msg string, kv []any) bool {
	if msg == "SendTimeout" {
		return true
	}
	if msg != "Error dialing peer" {
		return false
	}
	for _, v := range kv {
		if err, ok := v.(error); ok && (errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")) {
			return true
		}
	}
	return false
}

// peerLeft reports whether CometBFT's error is a peer connection ended by the other side
// (EOF): the switch logs "Stopping peer for error" at error level for it.
func peerLeft(msg string, kv []any) bool {
	if msg != "Stopping peer for error" {
		return false
	}
	for _, v := range kv {
		if err, ok := v.(error); ok && errors.Is(err, io.EOF) {
			return true
		}
	}
	return false
}
func (s slogAdapter) With(kv ...any) cmtlog.Logger {
	return slogAdapter{s.l.With(stringers(kv)...), s.stopping}
}
