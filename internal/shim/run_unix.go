//go:build unix

package shim

import (
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/reexec"
)

// Claim runs the shim when childproc started this process as one (a
// reexec.Claim for reexec.Shim), and then never returns. A handoff whose
// socket fails the proof (handoff.ErrForged) ends the process with
// status 127: it was started with the arguments of another program,
// which main must not be given. A handoff that proves nothing else is
// ignored (see handoff.Prove).
func Claim(sock *os.File, err error) {
	if err != nil {
		os.Stderr.WriteString("childproc: " + reexec.Key + "=" + string(reexec.Shim) + ": " + err.Error() + "; exiting rather than running main\n")
		os.Exit(127)
	}
	if sock != nil {
		run(sock)
	}
}

// run follows the orders that arrive on sock: it changes credentials,
// sets the limits and executes the target; it never returns. A failure
// is reported to the parent as an errno on sock.
func run(sock *os.File) {
	fd := int(sock.Fd())
	fail := func(err error) {
		// No allocation: the limits may already be in force.
		var digits [8]byte
		unix.Write(fd, appendErrno(digits[:0], err))
		os.Exit(127)
	}
	spec, err := handoff.ReadOrders(sock, maxOrders)
	if err != nil {
		fail(err)
	}
	o, ok := parseOrders(spec)
	if !ok {
		fail(syscall.EINVAL)
	}
	// One thread from here to exec. The shim keeps its pid through the
	// exec, so the guardian's pidfd of it is the target's.
	runtime.LockOSThread()
	// The limits come after the credentials, which needs no privilege
	// since they are only ever lowered: the other way round, a
	// Processes limit would be checked at exec against the user's count
	// with the shim's own threads in it (Linux counts threads), and the
	// exec would fail with EAGAIN where the same child started without
	// the shim runs.
	fail(execAfter(o.Path, os.Args, reexec.HandOn(os.Environ()), func() error {
		if o.Cred != nil {
			if err := o.Cred.change(); err != nil {
				return err
			}
		}
		return setLimits(o.Limits)
	}))
}

// setLimits sets each limit; a hard limit is only ever lowered, since
// raising one needs privilege.
func setLimits(limits []Limit) error {
	for _, l := range limits {
		hard := l.Max
		var old unix.Rlimit
		if err := unix.Getrlimit(l.Resource, &old); err == nil && hard > uint64(old.Max) {
			hard = uint64(old.Max)
		}
		r := unix.Rlimit{}
		r.Cur, r.Max = asField(min(l.Cur, hard), r.Cur), asField(hard, r.Max)
		if err := unix.Setrlimit(l.Resource, &r); err != nil {
			return err
		}
	}
	return nil
}

// asField converts v to the type of field, a unix.Rlimit field: uint64
// on most systems, int64 on FreeBSD and DragonFly. v is at most the hard
// limit the system reported, so it fits.
func asField[T int64 | uint64](v uint64, field T) T { return T(v) }
