package node

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// syncStatus answers Status with catching_up true for its first catching calls, then false;
// err, if set, is returned instead.
type syncStatus struct {
	catching, calls int
	err             error
}

func (s *syncStatus) Status(context.Context) (*coretypes.ResultStatus, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{CatchingUp: s.calls <= s.catching, LatestBlockHeight: int64(s.calls)}}, nil
}

// TestWaitCaughtUp: the executor starts only once its validator reports it caught up; a
// status error or the end of ctx stops the wait with that error.
func TestWaitCaughtUp(t *testing.T) {
	down := errors.New("rpc down")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, c := range []struct {
		name      string
		ctx       context.Context
		status    syncStatus
		want      error
		wantCalls int
	}{
		{"caught up at once", t.Context(), syncStatus{}, nil, 1},
		{"catching up for 2 polls", t.Context(), syncStatus{catching: 2}, nil, 3},
		{"status fails", t.Context(), syncStatus{err: down}, down, 1},
		{"ctx ends while catching up", cancelled, syncStatus{catching: 1 << 30}, context.Canceled, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := waitCaughtUp(c.ctx, &c.status, slog.New(slog.DiscardHandler))
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) || c.status.calls != c.wantCalls {
				t.Errorf("err %v after %d status calls, want %v after %d", err, c.status.calls, c.want, c.wantCalls)
			}
		})
	}
}
