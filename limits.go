package childproc

import "time"

// Limits caps a child's resources with setrlimit(2). They are set in the
// child before it runs its first instruction: childproc starts a small
// re-execution of the running binary (the shim) that sets them and then
// executes the target in the same process (same pid), so there is no
// window in which the target runs unlimited. The shim starts with the
// parent's credentials, so a binary only its owner may execute works
// too; with UID or GID it then takes on the child's ids (dropping the
// supplementary groups where the parent may) before it sets the limits
// and executes the target, and a failed exec is reported for the target
// ("spawn prog EACCES"). A zero field means no limit. Limits apply to the
// child and are inherited by its own children. In a setuid, setgid or
// file-capability process Limits are an error (CodeSecureExec), since
// the shim never acts there (see the package doc).
//
// How a child meets a limit: past CPUTime it gets SIGXCPU (and SIGKILL one
// second later if it ignores that); past FileSize a write fails with EFBIG
// and the child gets SIGXFSZ; past Memory or AddressSpace an allocation fails
// with ENOMEM, and the child fails in its own way (a Go program exits with
// status 2 and "out of memory", C's malloc returns NULL); past Processes
// fork fails with EAGAIN (the count is per user, and it does not bind
// root: give such a child a UID); past OpenFiles open fails with EMFILE.
// Error.Limit names the limit that ended a child where it can be told.
//
// Unix only; on Windows a non-empty Limits is an error.
type Limits struct {
	Memory           uint64        // bytes of private writable memory: heap, anonymous mappings (RLIMIT_DATA; on Linux it counts every private writable mapping)
	AddressSpace     uint64        // bytes of virtual address space (RLIMIT_AS); note that runtimes such as Go's and V8 reserve far more than they use, so Memory suits them better
	CPUTime          time.Duration // CPU time, rounded up to whole seconds (RLIMIT_CPU)
	Processes        uint64        // processes of the child's user (RLIMIT_NPROC)
	OpenFiles        uint64        // open file descriptors (RLIMIT_NOFILE)
	FileSize         uint64        // bytes of the largest file the child may write (RLIMIT_FSIZE)
	CoreSize         uint64        // bytes of a core dump (RLIMIT_CORE)
	DisableCoreDumps bool          // no core dump at all (RLIMIT_CORE = 0)
}

func (l *Limits) empty() bool { return l == nil || *l == Limits{} }

// cpuSeconds returns CPUTime rounded up to whole seconds.
func (l *Limits) cpuSeconds() uint64 {
	return uint64((l.CPUTime + time.Second - 1) / time.Second)
}

// limitHit names the limit that ended the child, if one did: "cpu" for
// SIGXCPU (or the SIGKILL at the hard CPU limit), "filesize" for SIGXFSZ,
// "memory" for a child that failed while a memory cap was in force.
func (c *Child) limitHit() string {
	l := c.set.Limits
	if l.empty() || !c.reaped {
		return ""
	}
	switch c.signal {
	case "SIGXCPU":
		return "cpu"
	case "SIGXFSZ":
		return "filesize"
	case "SIGKILL":
		if ru := rusageOf(c.state); l.CPUTime > 0 && ru != nil && !c.killed && ru.UserTime+ru.SystemTime >= time.Duration(l.cpuSeconds())*time.Second {
			return "cpu"
		}
	}
	if (l.Memory > 0 || l.AddressSpace > 0) && (c.exitCode != 0 || c.signal != "") && !c.killed {
		return "memory"
	}
	return ""
}
