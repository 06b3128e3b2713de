package fdio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Pipe2 makes a close-on-exec pipe in one call.
func Pipe2() (r, w int, err error) {
	var p [2]int
	err = syscall.Pipe2(p[:], syscall.O_CLOEXEC)
	return p[0], p[1], err
}

// CloseOnExecAll marks every descriptor from 3 up close-on-exec, so that a
// child gets exactly the descriptors it is given. Go opens everything
// close-on-exec already; this catches descriptors the process inherited
// without it, or that code outside Go's os and net packages opened. The
// descriptors handed to a child are unaffected: os.StartProcess moves
// them into place and clears the flag on the copies. One close_range(2)
// call (Linux 5.11); on older kernels nothing is done.
func CloseOnExecAll() {
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}
