//go:build unix

package childproc

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/shim"
)

// startShim prepares attr so that the child starts as the Limits shim
// (see internal/shim), which takes on the credentials attr asked for,
// sets l and then executes path. It returns the program to start (this
// very binary) and the shim; closeAfter is the child's end of the
// handoff.
func startShim(l *Limits, path string, attr *os.ProcAttr) (self string, sh *shim.Shim, closeAfter *os.File, err error) {
	self, err = selfExe()
	if err != nil {
		return "", nil, nil, err
	}
	sh, closeAfter, err = shim.Start(l.rlimits(), path, attr)
	if err != nil {
		return "", nil, nil, err
	}
	return self, sh, closeAfter, nil
}

// rlimits returns the resource limits that set l.
func (l *Limits) rlimits() []shim.Limit {
	var limits []shim.Limit
	add := func(res int, cur, hard uint64) {
		limits = append(limits, shim.Limit{Resource: res, Cur: cur, Max: hard})
	}
	if l.Memory > 0 {
		add(unix.RLIMIT_DATA, l.Memory, l.Memory)
	}
	if l.AddressSpace > 0 {
		add(unix.RLIMIT_AS, l.AddressSpace, l.AddressSpace)
	}
	if s := l.cpuSeconds(); s > 0 {
		add(unix.RLIMIT_CPU, s, s+1) // SIGXCPU at the soft limit, SIGKILL a second later
	}
	if l.Processes > 0 {
		add(unix.RLIMIT_NPROC, l.Processes, l.Processes)
	}
	if l.OpenFiles > 0 {
		add(unix.RLIMIT_NOFILE, l.OpenFiles, l.OpenFiles)
	}
	if l.FileSize > 0 {
		add(unix.RLIMIT_FSIZE, l.FileSize, l.FileSize)
	}
	if l.DisableCoreDumps {
		add(unix.RLIMIT_CORE, 0, 0)
	} else if l.CoreSize > 0 {
		add(unix.RLIMIT_CORE, l.CoreSize, l.CoreSize)
	}
	return limits
}
