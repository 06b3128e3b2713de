package childproc

import "time"

// traceSpawn tells [Options.Logger] that the child has started.
func (c *Child) traceSpawn() {
	if l := c.set.Logger; l != nil {
		c.began = time.Now()
		l.Info("childproc: spawn", "pid", c.proc.Pid, "file", c.spawnfile, "args", c.spawnargs[1:], "cwd", c.set.Cwd)
	}
}

// traceExit tells [Options.Logger] that the child has ended; the lifecycle
// calls it once the child has been reaped.
func (c *Child) traceExit() {
	if l := c.set.Logger; l != nil {
		code, signal := c.status()
		attrs := []any{"pid", c.proc.Pid, "file", c.spawnfile, "code", code, "ran", time.Since(c.began)}
		if signal != "" {
			attrs = append(attrs, "signal", signal)
		}
		l.Info("childproc: exit", attrs...)
	}
}

// traceFailure tells [Options.Logger] that the child of sp could not be
// started, and returns err.
func (sp *spec) traceFailure(err *Error) *Error {
	if l := sp.set.Logger; l != nil {
		l.Warn("childproc: spawn failed", "file", sp.file, "args", sp.args, "err", err)
	}
	return err
}
