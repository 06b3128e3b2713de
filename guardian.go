package childproc

import (
	"log/slog"

	"github.com/childproc/childproc/internal/guardian"
)

// SetGuardianLogger sets where childproc reports what happens to the
// guardian (see [Options.SurviveParent]) when no call is there to return
// an error: a guardian that died and was replaced (a warning), and one
// that could not be replaced (an error: the children already running no
// longer die with this process until a later spawn starts a guardian, and
// such a spawn fails with an *Error if it cannot). nil, the default, is
// silent. Linux only; elsewhere there is no guardian.
func SetGuardianLogger(l *slog.Logger) { guardian.SetLogger(l) }

// A guardLink is a child's registration with the guardian.
type guardLink = guardian.Link

// isGuarded reports whether set asks for a child that dies with its
// parent, where there is a guardian to make it.
func isGuarded(set *settings) bool {
	return guardian.Supported && !set.Detached && !set.SurviveParent
}

// treeStop is how the guardian stops c's tree once the parent is gone:
// a negative ForceKillAfter counts as DefaultForceKillAfter there. It is
// the zero value for a child without KillTree.
func (c *Child) treeStop() guardian.Tree {
	if !c.set.KillTree {
		return guardian.Tree{}
	}
	delay := c.set.forceKillAfter
	if delay < 0 {
		delay = DefaultForceKillAfter
	}
	return guardian.Tree{Signal: sysSignal(c.set.killSignal), Delay: delay, Marker: c.tag.String()}
}

// guardianError reports that no guardian could take a child.
func guardianError(err error) *Error {
	e := sysError("guardian", "", err)
	e.msg += ": " + err.Error()
	return e
}
