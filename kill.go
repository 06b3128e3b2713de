package childproc

import (
	"os"
	"syscall"
	"time"
)

// DefaultForceKillAfter is how long a graceful stop waits after
// KillSignal before it sends SIGKILL (Options.ForceKillAfter's default).
const DefaultForceKillAfter = 5 * time.Second

// treeEnv is the environment variable that carries a KillTree child's
// tree marker to all its descendants.
const treeEnv = "CHILDPROC_TREE"

// Kill sends sig to the child; nil means Options.KillSignal (SIGTERM by
// default). Signal 0 checks that the child can be signalled. Where Node's
// kill returns false, Kill returns an *Error: code ESRCH wrapping
// os.ErrProcessDone once the child has been reaped, EPERM, or
// ERR_UNKNOWN_SIGNAL. The signal goes through a pidfd where the kernel has
// one, so it never reaches another process that reused the pid. Kill
// reaches the child only and does not escalate; see KillTree.
func (c *Child) Kill(sig os.Signal) error {
	if sig == nil {
		sig = c.set.killSignal
	}
	if signalName(sig) == "" && !isSignalZero(sig) {
		return argError(CodeUnknownSignal, "Unknown signal: "+sig.String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signalLocked(sig)
}

// KillTree signals the child's whole process tree. With Options.KillTree
// the tree is the child's process group, its descendants, and every
// process that inherited its tree marker (Linux), even orphaned ones;
// without it, the child and the descendants found through their parent
// links while the child lives.
//
// A nil sig is a graceful stop: KillSignal to the tree, then SIGKILL to
// whatever of it is left after ForceKillAfter, the way Timeout, abort and
// MaxBuffer stop a child. It returns an *Error with code ESRCH when no
// process got the signal.
func (c *Child) KillTree(sig os.Signal) error {
	graceful := sig == nil
	if graceful {
		sig = c.set.killSignal
	}
	if signalName(sig) == "" && !isSignalZero(sig) {
		return argError(CodeUnknownSignal, "Unknown signal: "+sig.String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.signalTreeLocked(sig) {
		return killError(os.ErrProcessDone)
	}
	if graceful {
		c.armForceKillLocked()
	}
	return nil
}

// signalLocked delivers sig to the child and records that it was.
func (c *Child) signalLocked(sig os.Signal) error {
	if err := c.proc.Signal(sig); err != nil {
		return killError(err)
	}
	c.killed = true
	return nil
}

// signalTreeLocked delivers sig to the child and its tree; it reports
// whether any process got it.
func (c *Child) signalTreeLocked(sig os.Signal) bool {
	delivered := c.signalLocked(sig) == nil
	if s, ok := sig.(syscall.Signal); ok && killTree(c.proc.Pid, c.pgid, c.marker, s) {
		delivered = true
	}
	return delivered
}

// stop is the graceful stop of Timeout, abort and MaxBuffer: KillSignal
// to the child (to its tree with Options.KillTree), then SIGKILL after
// ForceKillAfter if it is still there. mark records why, once the signal
// was delivered. Once the child has exited, Wait waits for its stdio at
// most StopWaitDelay, so that a grandchild holding the pipes cannot delay
// it.
func (c *Child) stop(mark func()) {
	c.mu.Lock()
	var delivered bool
	if c.tree {
		delivered = c.signalTreeLocked(c.set.killSignal)
	} else {
		delivered = c.signalLocked(c.set.killSignal) == nil
	}
	if delivered {
		mark()
		c.armForceKillLocked()
	}
	c.mu.Unlock()
}

// armForceKillLocked schedules the SIGKILL of a graceful stop.
func (c *Child) armForceKillLocked() {
	d := c.set.forceKillAfter
	if d <= 0 || c.forceTimer != nil || c.set.killSignal == syscall.SIGKILL {
		return
	}
	c.forceTimer = time.AfterFunc(d, c.forceKill)
}

// forceKill sends SIGKILL to the child if it has not been reaped, and to
// what is left of its tree.
func (c *Child) forceKill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reaped && c.signalLocked(syscall.SIGKILL) == nil {
		c.forceKilled = true
	}
	if c.tree {
		killTree(c.proc.Pid, c.pgid, c.marker, syscall.SIGKILL)
	}
}
