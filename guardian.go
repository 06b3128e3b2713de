package childproc

import (
	"context"
	"log/slog"
	"sync/atomic"
)

var guardianLog atomic.Pointer[slog.Logger]

// SetGuardianLogger sets where childproc reports what happens to the
// guardian (see [Options.SurviveParent]) when no call is there to return
// an error: a guardian that died and was replaced (a warning), and one
// that could not be replaced (an error: the children already running no
// longer die with this process until a later spawn starts a guardian, and
// such a spawn fails with an *Error if it cannot). nil, the default, is
// silent. Linux only; elsewhere there is no guardian.
func SetGuardianLogger(l *slog.Logger) { guardianLog.Store(l) }

// logGuardian reports an event of the guardian, if anyone listens.
func logGuardian(level slog.Level, msg string, args ...any) {
	if l := guardianLog.Load(); l != nil {
		l.Log(context.Background(), level, msg, args...)
	}
}

// guardianError reports that no guardian could take a child.
func guardianError(err error) *Error {
	e := sysError("guardian", "", err)
	e.msg += ": " + err.Error()
	return e
}
