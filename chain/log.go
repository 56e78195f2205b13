package chain

import (
	"context"
	"errors"
	"log/slog"
	"net"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// slogAdapter lets CometBFT log through the process's slog.Logger. CometBFT's info level is
// chatty (every block), so it is logged at debug unless it is a warning or an error.
type slogAdapter struct{ l *slog.Logger }

var _ cmtlog.Logger = slogAdapter{}

func (s slogAdapter) Debug(msg string, kv ...any) {
	s.l.Log(context.Background(), slog.LevelDebug-1, msg, kv...)
}
func (s slogAdapter) Info(msg string, kv ...any) { s.l.Debug(msg, kv...) }
func (s slogAdapter) Warn(msg string, kv ...any) { s.l.Warn(msg, kv...) }
func (s slogAdapter) Error(msg string, kv ...any) {
	if shutdownNoise(msg, kv) {
		s.l.Debug(msg, kv...)
		return
	}
	s.l.Error(msg, kv...)
}

// shutdownNoise reports whether an error CometBFT logs is only the sign of a clean stop: a
// listener or transport that Stop closed. Those go to debug, so that a clean SIGTERM prints
// no ERROR line.
func shutdownNoise(msg string, kv []any) bool {
	if msg == "Stopped accept routine, as transport is closed" {
		return true
	}
	for _, v := range kv {
		if err, ok := v.(error); ok && errors.Is(err, net.ErrClosed) {
			return true
		}
	}
	return false
}
func (s slogAdapter) With(kv ...any) cmtlog.Logger {
	return slogAdapter{s.l.With(kv...)}
}
