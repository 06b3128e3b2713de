//go:build unix

package childproc

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/reexec"
	"golang.org/x/sys/unix"
)

// The shim is how Limits are set before the target's first instruction.
// The child is first this very binary, started with the parent's own
// credentials (so that it can execute this binary whatever its mode) and
// a handoff (see reexec.Offer) for reexec.Shim. childproc's init claims
// the handoff, reads its orders from the socket, takes on the child's
// credentials (UID, GID), sets the limits and executes the target in the
// same process. The same socket tells the
// parent whether that exec failed (it carries the errno) or succeeded
// (close-on-exec closes it). Only the package inits that Go runs before
// childproc's run in the shim; the program's main never does.

// maxShimOrders bounds the orders a shim reads: a path and a few limits.
const maxShimOrders = 1 << 16

// claimShim runs the shim when childproc started this process as one,
// and then never returns. A handoff whose socket fails the proof
// (handoff.ErrForged) ends the process with status 127: it was started
// with the arguments of another program, which main must not be given.
// A handoff that proves nothing else is ignored (see handoff.Prove).
func claimShim(sock *os.File, err error) {
	if err != nil {
		os.Stderr.WriteString("childproc: " + reexec.Key + "=" + string(reexec.Shim) + ": " + err.Error() + "; exiting rather than running main\n")
		os.Exit(127)
	}
	if sock != nil {
		runShim(sock)
	}
}

// shimOrders is what the shim is told to do: set limits, change
// credentials, execute path.
type shimOrders struct {
	limits []rlimitOrder
	cred   *shimCred // nil: keep the parent's
	path   string
}

// rlimitOrder is one resource limit to set.
type rlimitOrder struct {
	res      int
	cur, max uint64
}

// shimCred is the user and group the target runs as.
type shimCred struct {
	uid, gid uint32
}

// newShimOrders returns the orders that set l, change to cred when it is
// not nil, and execute path.
func newShimOrders(l *Limits, cred *syscall.Credential, path string) shimOrders {
	o := shimOrders{path: path}
	if cred != nil {
		o.cred = &shimCred{uid: cred.Uid, gid: cred.Gid}
	}
	add := func(res int, cur, max uint64) { o.limits = append(o.limits, rlimitOrder{res, cur, max}) }
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
	return o
}

// encode writes the orders as
// "2\n<res>=<cur>:<max>,...\n<uid>:<gid>\n<path>", the credentials empty
// when they stay the parent's.
func (o shimOrders) encode() string {
	lim := make([]string, len(o.limits))
	for i, l := range o.limits {
		lim[i] = strconv.Itoa(l.res) + "=" + strconv.FormatUint(l.cur, 10) + ":" + strconv.FormatUint(l.max, 10)
	}
	cred := ""
	if o.cred != nil {
		cred = strconv.FormatUint(uint64(o.cred.uid), 10) + ":" + strconv.FormatUint(uint64(o.cred.gid), 10)
	}
	return "2\n" + strings.Join(lim, ",") + "\n" + cred + "\n" + o.path
}

// parseShimOrders reads what encode wrote; anything else is not ok.
func parseShimOrders(spec string) (shimOrders, bool) {
	fields := strings.SplitN(spec, "\n", 4)
	if len(fields) != 4 || fields[0] != "2" {
		return shimOrders{}, false
	}
	o := shimOrders{path: fields[3]}
	if fields[1] != "" {
		for _, item := range strings.Split(fields[1], ",") {
			l, ok := parseLimit(item)
			if !ok {
				return shimOrders{}, false
			}
			o.limits = append(o.limits, l)
		}
	}
	if fields[2] != "" {
		cred, ok := parseCred(fields[2])
		if !ok {
			return shimOrders{}, false
		}
		o.cred = &cred
	}
	return o, true
}

// parseLimit reads one "<res>=<cur>:<max>" item, in canonical form only.
func parseLimit(item string) (rlimitOrder, bool) {
	r, rest, ok1 := strings.Cut(item, "=")
	c, m, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return rlimitOrder{}, false
	}
	res, err1 := strconv.Atoi(r)
	cur, err2 := strconv.ParseUint(c, 10, 64)
	max, err3 := strconv.ParseUint(m, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || res < 0 || r != strconv.Itoa(res) ||
		c != strconv.FormatUint(cur, 10) || m != strconv.FormatUint(max, 10) {
		return rlimitOrder{}, false
	}
	return rlimitOrder{res, cur, max}, true
}

// parseCred reads "<uid>:<gid>", in canonical form only.
func parseCred(s string) (shimCred, bool) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil || u != strconv.FormatUint(uid, 10) || g != strconv.FormatUint(gid, 10) {
		return shimCred{}, false
	}
	return shimCred{uint32(uid), uint32(gid)}, true
}

// runShim follows the orders that arrive on sock: it changes
// credentials, sets the limits and executes the target; it never returns. A
// failure is reported to the parent as an errno on sock.
func runShim(sock *os.File) {
	fd := int(sock.Fd())
	fail := func(err error) {
		// No allocation: the limits may already be in force.
		var digits [8]byte
		unix.Write(fd, appendErrno(digits[:0], err))
		os.Exit(127)
	}
	spec, err := handoff.ReadOrders(sock, maxShimOrders)
	if err != nil {
		fail(err)
	}
	o, ok := parseShimOrders(spec)
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
	fail(shimExec(o.path, os.Args, os.Environ(), func() error {
		if o.cred != nil {
			if err := o.cred.change(); err != nil {
				return err
			}
		}
		return setLimits(o.limits)
	}))
}

// setLimits sets each limit; a hard limit is only ever lowered, since
// raising one needs privilege.
func setLimits(limits []rlimitOrder) error {
	for _, l := range limits {
		hard := l.max
		var old unix.Rlimit
		if err := unix.Getrlimit(l.res, &old); err == nil && hard > old.Max {
			hard = old.Max
		}
		if err := unix.Setrlimit(l.res, &unix.Rlimit{Cur: min(l.cur, hard), Max: hard}); err != nil {
			return err
		}
	}
	return nil
}

// change makes the process run as c, as os.StartProcess does for a
// Credential: supplementary groups are dropped where this process may
// (it has CAP_SETGID), then the gid and the uid are set.
func (c *shimCred) change() error {
	if canSetGroups() {
		if err := syscall.Setgroups(nil); err != nil {
			return err
		}
	}
	if err := syscall.Setgid(int(c.gid)); err != nil {
		return err
	}
	return syscall.Setuid(int(c.uid))
}

// shim is the parent's side of a Limits shim: the handoff socket and the
// orders to send on it.
type shim struct {
	sock   *os.File
	orders shimOrders
}

// startShim prepares attr so that the child starts as the shim, which
// takes on the credentials attr asked for (the shim itself starts with
// the parent's, so that it can execute this binary whatever its mode),
// sets l and then executes path. It returns the program to start and the
// shim; closeAfter is the child's end of the handoff.
func startShim(l *Limits, path string, attr *os.ProcAttr) (self string, sh *shim, closeAfter *os.File, err error) {
	self, err = selfExe()
	if err != nil {
		return "", nil, nil, err
	}
	var cred *syscall.Credential
	if attr.Sys != nil {
		cred, attr.Sys.Credential = attr.Sys.Credential, nil
	}
	parent, child, err := reexec.Offer(reexec.Shim, attr)
	if err != nil {
		return "", nil, nil, err
	}
	return self, &shim{sock: parent, orders: newShimOrders(l, cred, path)}, child, nil
}

// started completes the start of a shim, given what starting its process
// returned: it returns the error of the whole start, the target's failed
// exec included (the shim is then reaped). It closes the socket.
func (sh *shim) started(proc *os.Process, err error) error {
	if err != nil {
		sh.sock.Close()
		return err
	}
	if errno := sh.result(); errno != 0 {
		proc.Wait()
		return errno
	}
	return nil
}

// result sends the shim its orders and waits until it has executed the
// target (its end of the socket closes) or failed (it carries the
// errno). It closes the socket.
func (sh *shim) result() syscall.Errno {
	defer sh.sock.Close()
	handoff.SendOrders(sh.sock, sh.orders.encode()) // a shim gone before it read them is seen below
	data, _ := io.ReadAll(io.LimitReader(sh.sock, 16))
	return parseShimStatus(data)
}

// parseShimStatus reads what the shim wrote on its socket: nothing when
// the target was executed, else the errno in decimal. Bytes that are
// neither are EINVAL.
func parseShimStatus(data []byte) syscall.Errno {
	if len(data) == 0 {
		return 0
	}
	n, err := strconv.Atoi(string(data))
	if err != nil || n <= 0 || n > 4095 {
		return syscall.EINVAL
	}
	return syscall.Errno(n)
}

// appendErrno appends err's errno in decimal (EINVAL when err has none)
// to b, without allocating when b has room.
func appendErrno(b []byte, err error) []byte {
	errno, ok := err.(syscall.Errno)
	if !ok {
		errno = errnoOf(err, syscall.EINVAL)
	}
	return strconv.AppendUint(b, uint64(errno), 10)
}
