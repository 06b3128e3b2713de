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

// shimSpec encodes the shim's orders: "1\n<status fd>\n<limits>\n<path>".
func shimSpec(statusFd int, l *Limits, path string) string {
	var lim []string
	add := func(res int, cur, max uint64) {
		lim = append(lim, strconv.Itoa(res)+"="+strconv.FormatUint(cur, 10)+":"+strconv.FormatUint(max, 10))
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
	return "1\n" + strconv.Itoa(statusFd) + "\n" + strings.Join(lim, ",") + "\n" + path
}

// runShim sets the limits and executes the target; it never returns.
func runShim(spec string) {
	fields := strings.SplitN(spec, "\n", 4)
	if len(fields) != 4 || fields[0] != "1" {
		os.Stderr.WriteString("childproc: malformed " + shimEnv + "\n")
		os.Exit(127)
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil || status < 3 {
		os.Stderr.WriteString("childproc: malformed " + shimEnv + "\n")
		os.Exit(127)
	}
	fail := func(errno syscall.Errno) {
		unix.Write(status, []byte(strconv.Itoa(int(errno))))
		os.Exit(127)
	}
	unix.CloseOnExec(status)
	if fields[2] != "" {
		for _, item := range strings.Split(fields[2], ",") {
			res, cur, max, ok := parseLimit(item)
			if !ok {
				fail(syscall.EINVAL)
			}
			var old unix.Rlimit
			if err := unix.Getrlimit(res, &old); err == nil && max > old.Max {
				max = old.Max // only lower: raising a hard limit needs privilege
			}
			if err := unix.Setrlimit(res, &unix.Rlimit{Cur: min(cur, max), Max: max}); err != nil {
				fail(errnoOf(err, syscall.EINVAL))
			}
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
	err = syscall.Exec(fields[3], os.Args, kept)
	fail(errnoOf(err, syscall.EINVAL))
}

func parseLimit(item string) (res int, cur, max uint64, ok bool) {
	r, rest, ok1 := strings.Cut(item, "=")
	c, m, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	res, err1 = strconv.Atoi(r)
	cur, err2 = strconv.ParseUint(c, 10, 64)
	max, err3 = strconv.ParseUint(m, 10, 64)
	return res, cur, max, err1 == nil && err2 == nil && err3 == nil
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
	if len(data) == 0 {
		return 0
	}
	n, err := strconv.Atoi(string(data))
	if err != nil || n <= 0 {
		return syscall.EINVAL
	}
	return syscall.Errno(n)
}
