//go:build unix

package childproc

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/internal/shim"
	"golang.org/x/sys/unix"
)

// DefaultShell is the shell of Exec, ExecSync and [Options.Shell]'s
// default: Node's shell: true.
const DefaultShell = "/bin/sh"

// shellArgs returns the arguments that make shell run command.
func shellArgs(shell, command string) []string { return []string{"-c", command} }

// defaultPath is execvp's search path when the environment has no PATH.
const defaultPath = "/usr/bin:/bin"

func sysProcAttr(set *settings) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setsid: set.Detached, Setpgid: set.KillTree && !set.Detached}
	if set.UID != nil || set.GID != nil {
		// The child drops its supplementary groups where it may (libuv
		// tries it and ignores the failure); without CAP_SETGID,
		// setgroups would fail with EPERM where setting one's own ids
		// is allowed.
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: !shim.CanSetGroups()}
		if set.UID != nil {
			cred.Uid = uint32(*set.UID)
		}
		if set.GID != nil {
			cred.Gid = uint32(*set.GID)
		}
		attr.Credential = cred
	}
	return attr
}

// exitStatus returns the exit code (-1 after a signal) and signal name.
func exitStatus(state *os.ProcessState) (int, string) {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return -1, signalName(ws.Signal())
	}
	return state.ExitCode(), ""
}

// signalName returns "SIGTERM" for syscall.SIGTERM, or "" for a signal the
// platform does not know (and for signal 0).
func signalName(sig os.Signal) string {
	s, ok := sig.(syscall.Signal)
	if !ok || s <= 0 {
		return ""
	}
	if name := unix.SignalName(s); name != "" {
		return name
	}
	if rtmin, rtmax := syscall.Signal(34), syscall.Signal(64); s >= rtmin && s <= rtmax && isLinux {
		return "SIGRT" + strings.TrimPrefix(s.String(), "signal ")
	}
	return ""
}

// signalNumber returns the signal named name ("SIGTERM", an alias of
// Node's os.constants.signals such as "SIGIOT", and on Linux "SIGRT34" as
// signalName names it), or 0.
func signalNumber(name string) syscall.Signal {
	if s, ok := signalAliases[name]; ok {
		return s
	}
	if n, ok := strings.CutPrefix(name, "SIGRT"); ok && isLinux {
		if s, err := strconv.Atoi(n); err == nil && signalName(syscall.Signal(s)) == name {
			return syscall.Signal(s)
		}
	}
	return unix.SignalNum(name)
}

// errnoName returns the symbolic name of errno ("ENOENT").
func errnoName(errno syscall.Errno) string {
	if name := unix.ErrnoName(errno); name != "" {
		return name
	}
	return "UNKNOWN"
}

// lookPath finds file as execvp in the child would, once it has changed
// to cwd: a name with a slash is used as is; otherwise each directory of
// env's PATH is tried in turn, an empty one meaning the current directory
// (PATH="" too). A relative directory is relative to cwd, and the path
// returned is valid from there, so the child's exec finds what was
// checked here. A candidate that exists but cannot be executed makes the
// result EACCES rather than ENOENT, as with execvp.
func lookPath(file string, env []string, cwd string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	path, ok := envlist.Lookup(env, "PATH")
	if !ok {
		path = defaultPath
	}
	denied := false
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		var st unix.Stat_t
		if err := unix.Stat(fromDir(cwd, p), &st); err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || unix.Access(fromDir(cwd, p), unix.X_OK) != nil {
			denied = true
			continue
		}
		return p, nil
	}
	if denied {
		return "", syscall.EACCES
	}
	return "", syscall.ENOENT
}

// fromDir returns the path that names, from this process's directory, what
// p names from dir. It does not clean the result: the kernel resolves
// ".." from the directory dir really is, which a symbolic link may make
// differ from its lexical parent.
func fromDir(dir, p string) string {
	if dir == "" || strings.HasPrefix(p, "/") {
		return p
	}
	return dir + "/" + p
}
