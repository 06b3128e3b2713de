//go:build unix && !linux

package fdio

import "syscall"

// Pipe2 makes a close-on-exec pipe; without pipe2(2), the flag is set
// under syscall.ForkLock so that no child is forked in between.
func Pipe2() (r, w int, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	return p[0], p[1], err
}
