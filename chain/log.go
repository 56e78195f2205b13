package chain

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"

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

func (s slogAdapter) Debug(msg string, kv ...any) {
	s.l.Log(context.Background(), slog.LevelDebug-1, msg, kv...)
}
func (s slogAdapter) Info(msg string, kv ...any) { s.l.Debug(msg, kv...) }
func (s slogAdapter) Warn(msg string, kv ...any) { s.l.Warn(msg, kv...) }
func (s slogAdapter) Error(msg string, kv ...any) {
	switch {
	case shutdownNoise(msg, kv):
		s.l.Debug(msg, kv...)
	case peerLeft(msg, kv):
		// A peer that closed its connection went away (stopped or crashed): worth a
		// warning, not an error of this node; during this node's own stop, expected.
		if s.stopping != nil && s.stopping.Load() {
			s.l.Debug(msg, kv...)
		} else {
			s.l.Warn(msg, kv...)
		}
	default:
		s.l.Error(msg, kv...)
	}
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
	return slogAdapter{s.l.With(kv...), s.stopping}
}
