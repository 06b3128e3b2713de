package guardian

import (
	"context"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"
)

// A Tree is how the guardian stops a KillTree tree once the parent is
// gone: Signal to every member, then SIGKILL after Delay (kept in whole
// milliseconds) to what is left. Marker is the tree marker its members
// carry (see internal/proctree). The zero value stands for a child that
// leads no tree.
type Tree struct {
	Signal syscall.Signal
	Delay  time.Duration
	Marker string
}

var logger atomic.Pointer[slog.Logger]

// SetLogger sets where the parent reports what happens to the guardian
// when no call is there to return an error; nil, the default, is silent.
func SetLogger(l *slog.Logger) { logger.Store(l) }

// logEvent reports an event of the guardian, if anyone listens.
func logEvent(level slog.Level, msg string, args ...any) {
	if l := logger.Load(); l != nil {
		l.Log(context.Background(), level, msg, args...)
	}
}
