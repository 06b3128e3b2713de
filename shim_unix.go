//go:build unix

package childproc

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The shim is how Limits are set before the target's first instruction.
// The child is first this very binary, started with shimEnv in its
// environment; childproc's init sees it, sets the limits, removes shimEnv
// and executes the target in the same process. A status pipe tells the
// parent whether that exec failed (it carries the errno) or succeeded (it
// is closed on exec). Only the package inits that Go runs before
// childproc's run in the shim; the program's main never does.
const shimEnv = "CHILDPROC_SHIM"

func init() {
	if spec, ok := os.LookupEnv(shimEnv); ok {
		runShim(spec)
	}
}

// shimOrders is what the shim is told to do: set limits, report an
// exec failure on the status descriptor, execute path.
type shimOrders struct {
	statusFd int
	limits   []rlimitOrder
	path     string
}

// rlimitOrder is one resource limit to set.
type rlimitOrder struct {
	res      int
	cur, max uint64
}

// shimSpec encodes the shim's orders for l.
func shimSpec(statusFd int, l *Limits, path string) string {
	o := shimOrders{statusFd: statusFd, path: path}
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
	return o.encode()
}

// encode writes the orders as "1\n<status fd>\n<res>=<cur>:<max>,...\n<path>".
func (o shimOrders) encode() string {
	lim := make([]string, len(o.limits))
	for i, l := range o.limits {
		lim[i] = strconv.Itoa(l.res) + "=" + strconv.FormatUint(l.cur, 10) + ":" + strconv.FormatUint(l.max, 10)
	}
	return "1\n" + strconv.Itoa(o.statusFd) + "\n" + strings.Join(lim, ",") + "\n" + o.path
}

// parseShimOrders reads what encode wrote; anything else is not ok.
// When only the limits are malformed, the status descriptor is still
// returned, for the shim to report the failure on.
func parseShimOrders(spec string) (shimOrders, bool) {
	fields := strings.SplitN(spec, "\n", 4)
	if len(fields) != 4 || fields[0] != "1" {
		return shimOrders{}, false
	}
	fd, err := strconv.Atoi(fields[1])
	if err != nil || fd < 3 || fields[1] != strconv.Itoa(fd) {
		return shimOrders{}, false
	}
	o := shimOrders{statusFd: fd, path: fields[3]}
	if fields[2] != "" {
		for _, item := range strings.Split(fields[2], ",") {
			l, ok := parseLimit(item)
			if !ok {
				return shimOrders{statusFd: fd}, false
			}
			o.limits = append(o.limits, l)
		}
	}
	return o, true
}

// runShim sets the limits and executes the target; it never returns.
func runShim(spec string) {
	o, ok := parseShimOrders(spec)
	if o.statusFd == 0 {
		os.Stderr.WriteString("childproc: malformed " + shimEnv + "\n")
		os.Exit(127)
	}
	fail := func(errno syscall.Errno) {
		unix.Write(o.statusFd, []byte(strconv.Itoa(int(errno))))
		os.Exit(127)
	}
	unix.CloseOnExec(o.statusFd)
	if !ok {
		fail(syscall.EINVAL)
	}
	for _, l := range o.limits {
		max := l.max
		var old unix.Rlimit
		if err := unix.Getrlimit(l.res, &old); err == nil && max > old.Max {
			max = old.Max // only lower: raising a hard limit needs privilege
		}
		if err := unix.Setrlimit(l.res, &unix.Rlimit{Cur: min(l.cur, max), Max: max}); err != nil {
			fail(errnoOf(err, syscall.EINVAL))
		}
	}
	env := os.Environ()
	kept := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, shimEnv+"=") {
			kept = append(kept, kv)
		}
	}
	runtime.LockOSThread()
	err := syscall.Exec(o.path, os.Args, kept)
	fail(errnoOf(err, syscall.EINVAL))
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

// shimStart prepares attr so that the child starts as the shim, which
// sets l and then executes path. It returns the program to start and the
// parent's end of the status pipe; closeAfter is the child's end.
func shimStart(l *Limits, path string, attr *os.ProcAttr) (self string, status, closeAfter *os.File, err error) {
	self, err = selfExe()
	if err != nil {
		return "", nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, nil, err
	}
	fd := len(attr.Files)
	attr.Files = append(attr.Files[:fd:fd], w)
	attr.Env = append(attr.Env[:len(attr.Env):len(attr.Env)], shimEnv+"="+shimSpec(fd, l, path))
	return self, r, w, nil
}

// shimResult waits until the shim has executed the target (the status
// pipe closes) or failed (it carries the errno). It closes status.
func shimResult(status *os.File) syscall.Errno {
	defer status.Close()
	data, _ := io.ReadAll(status)
	return parseShimStatus(data)
}

// parseShimStatus reads what the shim wrote on its status pipe: nothing
// when the target was executed, else the errno in decimal. Bytes that
// are neither are EINVAL.
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
