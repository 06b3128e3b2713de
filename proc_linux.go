package childproc

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const isLinux = true

// startProcess is the one call that creates child processes. It forks
// from the calling thread, as os/exec does: no child has a parent-death
// signal, which Linux would tie to that thread (see the guardian).
func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	closeOnExecAll()
	return os.StartProcess(path, argv, attr)
}

// canSetGroups reports whether this process may call setgroups(2): it has
// CAP_SETGID.
func canSetGroups() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	return data[0].Effective&(1<<unix.CAP_SETGID) != 0
}

// maxRSS returns the peak RSS in bytes; Linux counts it in KiB.
func maxRSS(state *os.ProcessState) int64 {
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// selfExe names the running binary; /proc/self/exe works even if the file
// was replaced or removed since.
func selfExe() (string, error) { return "/proc/self/exe", nil }

// pipe2 makes a close-on-exec pipe in one call.
func pipe2() (r, w int, err error) {
	var p [2]int
	err = syscall.Pipe2(p[:], syscall.O_CLOEXEC)
	return p[0], p[1], err
}

// closeOnExecAll marks every descriptor from 3 up close-on-exec, so that a
// child gets exactly the descriptors it is given. Go opens everything
// close-on-exec already; this catches descriptors the process inherited
// without it, or that code outside Go's os and net packages opened. The
// descriptors handed to the child are unaffected: os.StartProcess moves
// them into place and clears the flag on the copies. One close_range(2)
// call (Linux 5.11); on older kernels nothing is done.
func closeOnExecAll() {
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}
