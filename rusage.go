package childproc

import (
	"os"
	"time"
)

// Rusage is what a finished child used, as the kernel counted it (wait4's
// rusage): the child's own use and that of the descendants it waited for.
//
// On Linux, a child that Go starts shares the parent's memory until its
// exec (vfork), and the kernel counts that memory's peak in the child's:
// MaxRSS is at least the parent's peak RSS at the time of the start.
type Rusage struct {
	UserTime   time.Duration // CPU time in user mode
	SystemTime time.Duration // CPU time in the kernel
	MaxRSS     int64         // peak resident set size in bytes, of the child or of the largest of those descendants (0 where the platform does not say)
}

// rusageOf reads the usage of an ended process; nil for a nil state.
func rusageOf(state *os.ProcessState) *Rusage {
	if state == nil {
		return nil
	}
	return &Rusage{UserTime: state.UserTime(), SystemTime: state.SystemTime(), MaxRSS: maxRSS(state)}
}

// Rusage returns what the child used once it has exited, or nil while it
// runs or if it could not be reaped.
func (c *Child) Rusage() *Rusage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return rusageOf(c.state)
}

// RSS returns the resident set size of the running child in bytes, as the
// kernel counts it now (Linux: /proc/<pid>/statm). It returns an *Error
// with code ESRCH once the child has been reaped, and an error wrapping
// errors.ErrUnsupported where the platform does not say; after the exit,
// Rusage has the peak.
func (c *Child) RSS() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return 0, killError(os.ErrProcessDone)
	}
	return residentBytes(c.proc.Pid)
}
