package chain

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// slogAdapter lets CometBFT log through the process's slog.Logger. CometBFT's info level is
// chatty (every block), so it is logged at debug unless it is a warning or an error.
type slogAdapter struct{ l *slog.Logger }

var _ cmtlog.Logger = slogAdapter{}

func (s slogAdapter) Debug(msg string, kv ...any) {
	s.l.Log(context.Background(), slog.LevelDebug-1, msg, kv...)
}
func (s slogAdapter) Info(msg string, kv ...any)  { s.l.Debug(msg, kv...) }
func (s slogAdapter) Warn(msg string, kv ...any)  { s.l.Warn(msg, kv...) }
func (s slogAdapter) Error(msg string, kv ...any) { s.l.Error(msg, kv...) }
func (s slogAdapter) With(kv ...any) cmtlog.Logger {
	return slogAdapter{s.l.With(kv...)}
}
