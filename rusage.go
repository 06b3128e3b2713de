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
