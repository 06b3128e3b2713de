package childproc

import (
	"bytes"
	"strconv"
	"syscall"
	"time"
)

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
// and the child gets SIGXFSZ (which Go programs ignore); past Memory or
// AddressSpace an allocation fails with ENOMEM, and the child fails in its
// own way (a Go program exits with status 2 and "fatal error: runtime: out
// of memory", C's malloc returns NULL, Python raises MemoryError); past
// Processes fork fails with EAGAIN (the count is per user, and it does not
// bind root: give such a child a UID); past OpenFiles open fails with
// EMFILE.
//
// # Which limit ended a child
//
// Error.Limit names a limit only on evidence that the child met it, and
// the error's message then ends with it: "exit status 2 (memory limit
// 100 MiB)", "killed by SIGXCPU (cpu limit 2s)". A child that childproc
// signalled (Kill, KillTree, Timeout, abort, MaxBuffer) names none. A
// child counts as ended by signal n when it was, or when it exited with
// status 128+n, which is how a shell reports a command that n ended. The
// evidence is, in this order:
//
//   - "cpu": CPUTime is set, the child was ended by SIGXCPU or SIGKILL
//     (the hard limit, one second later), and its CPU time (user and
//     system, with that of the descendants it waited for) reached half
//     of CPUTime rounded up to whole seconds (the kernel's count of it
//     runs up to a fifth short on a loaded machine).
//   - "filesize": FileSize is set and the child was ended by SIGXFSZ, or
//     it exited non-zero and its stderr holds "File too large" (EFBIG,
//     from a program that ignores SIGXFSZ).
//   - "memory": Memory or AddressSpace is set, the child exited non-zero
//     or was ended by SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGILL or
//     SIGKILL, and either its stderr says that an allocation failed (it
//     holds, in any case, one of "out of memory", "cannot allocate",
//     "failed to allocate", "allocation failed", "memory allocation",
//     "failed to reserve", "memory exhausted", "MemoryError",
//     "OutOfMemory" or "bad_alloc": the words of Go's runtime, strerror,
//     Python, Node and V8, Perl, Ruby, Rust, C++, Java and the GNU tools;
//     or Go's report of a fault in its runtime, a line "SIGSEGV:
//     segmentation violation" followed by one that starts with "PC="),
//     or its peak resident set size (Rusage.MaxRSS, with that of the
//     descendants it waited for) reached 90% of the cap (the smaller cap
//     when both are set) and exceeds the parent's own peak RSS: a child
//     that Linux starts sharing the parent's memory, as Go starts them,
//     counts the parent's peak in its own, which then says nothing of
//     the child (so a parent whose peak RSS is above 90% of the cap, its
//     own parent's counted in it the same way, sees this evidence never). RSS counts the pages of the program's own
//     files too, so under a cap close to a program's bare size any such
//     failure counts; and a child that failed on its first large
//     allocation, far below the cap, shows it only through its stderr.
//
// Stderr is evidence only where childproc keeps it: in Exec, ExecFile,
// ExecSync and ExecFileSync (with stderr a pipe). A Spawn or Fork child
// that fails on an allocation far below the cap names no limit.
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

// memoryCap returns the smaller of Memory and AddressSpace that is set,
// or 0.
func (l *Limits) memoryCap() uint64 {
	switch {
	case l.Memory == 0:
		return l.AddressSpace
	case l.AddressSpace == 0:
		return l.Memory
	}
	return min(l.Memory, l.AddressSpace)
}

// ending is how a child ended, and the evidence it left: what it used and,
// where childproc kept it, what it wrote to stderr.
type ending struct {
	code   int    // the exit status, -1 after a signal
	signal string // the signal that ended it, or ""
	usage  *Rusage
	stderr []byte // nil when not kept
}

// endedBy returns the signal that ended the child, taking exit status
// 128+n from a shell for signal n.
func (x ending) endedBy() string {
	if x.signal != "" || x.code <= 128 {
		return x.signal
	}
	return signalName(syscall.Signal(x.code - 128))
}

// says reports whether stderr holds one of phrases, in any case.
func (x ending) says(phrases ...string) bool {
	if len(x.stderr) == 0 {
		return false
	}
	lower := bytes.ToLower(x.stderr)
	for _, p := range phrases {
		if bytes.Contains(lower, []byte(p)) {
			return true
		}
	}
	return false
}

// ownPeakNear reports whether the child's own peak RSS reached 90% of
// limit. On Linux a child started with vfork, as Go starts them, counts
// this process's peak at its exec in its own, so only a peak above this
// process's shows the child's.
func (x ending) ownPeakNear(limit uint64) bool {
	if x.usage == nil || x.usage.MaxRSS <= selfPeakRSS() {
		return false
	}
	return uint64(x.usage.MaxRSS) >= limit-limit/10
}

// oomWords are what programs write when an allocation fails, in lower case.
var oomWords = []string{
	"out of memory",      // Go's runtime, V8, Perl, git
	"cannot allocate",    // strerror(ENOMEM), Go's runtime, bash
	"failed to allocate", // Ruby
	"allocation failed",  // V8's ArrayBuffer
	"memory allocation",  // Rust
	"failed to reserve",  // Go's runtime and V8 under an address-space cap
	"memory exhausted",   // the GNU tools, bison
	"memoryerror",        // Python's MemoryError, Ruby's NoMemoryError
	"outofmemory",        // Java's OutOfMemoryError
	"bad_alloc",          // C++'s std::bad_alloc
	// Go's runtime faulting in its own code, as it does when a mapping it
	// needs is refused; a program's own nil dereference reads
	// "[signal SIGSEGV: segmentation violation code=...".
	"sigsegv: segmentation violation\npc=",
}

// crashSignals are how a failed allocation can end a process: a write
// through a NULL pointer, an abort, a runtime's trap, the kernel's kill.
var crashSignals = map[string]bool{"SIGSEGV": true, "SIGBUS": true, "SIGABRT": true, "SIGTRAP": true, "SIGILL": true, "SIGKILL": true}

// exceeded names the limit of l that ended a child, on the evidence
// listed in the doc of Limits; "" when there is none.
func (l *Limits) exceeded(x ending) string {
	if l.empty() || (x.code == 0 && x.signal == "") {
		return ""
	}
	sig := x.endedBy()
	switch {
	case l.CPUTime > 0 && (sig == "SIGXCPU" || sig == "SIGKILL") && x.usage != nil &&
		x.usage.UserTime+x.usage.SystemTime >= time.Duration(l.cpuSeconds())*time.Second/2:
		return "cpu"
	case l.FileSize > 0 && (sig == "SIGXFSZ" || (sig == "" && x.says("file too large"))):
		return "filesize"
	}
	limit := l.memoryCap()
	if limit == 0 || !(sig == "" || crashSignals[sig]) {
		return ""
	}
	if x.says(oomWords...) || x.ownPeakNear(limit) {
		return "memory"
	}
	return ""
}

// describe names limit with its value: "memory limit 100 MiB".
func (l *Limits) describe(limit string) string {
	switch limit {
	case "cpu":
		return "cpu limit " + (time.Duration(l.cpuSeconds()) * time.Second).String()
	case "filesize":
		return "filesize limit " + sizeString(l.FileSize)
	case "memory":
		var s string
		if l.Memory > 0 {
			s = "memory limit " + sizeString(l.Memory)
		}
		if l.AddressSpace > 0 {
			if s != "" {
				s += ", "
			}
			s += "address space limit " + sizeString(l.AddressSpace)
		}
		return s
	}
	return ""
}

// sizeString writes n bytes in the largest binary unit that divides it.
func sizeString(n uint64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatUint(n, 10) + " bytes"
}
