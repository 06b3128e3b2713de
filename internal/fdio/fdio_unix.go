//go:build unix

package fdio

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// DupFd duplicates the parent's fd (close-on-exec) so that a child can be
// given a copy without touching the parent's.
func DupFd(fd int) (*os.File, error) {
	if fd < 0 {
		return nil, syscall.EBADF
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(nfd), "fd"), nil
}

// SocketPair makes a connected AF_UNIX stream pair, as Node does for its
// pipes above fd 2 and for IPC. The parent's end is non-blocking, so Go's
// poller serves it; the child's end is blocking.
func SocketPair() (parent, child *os.File, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	if err := parentNonblocking(fds[0], fds[1]); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "socketpair"), os.NewFile(uintptr(fds[1]), "socketpair"), nil
}

// PipeToChild makes a pipe that the child reads. The child's end is left
// blocking and out of Go's poller (it is only ever handed to the child),
// which saves the poller registration os.Pipe makes for both ends; the
// parent's end is non-blocking and polled.
func PipeToChild() (parent, child *os.File, err error) {
	return files(RawPipeToChild())
}

// PipeFromChild makes a pipe that the child writes, as PipeToChild.
func PipeFromChild() (parent, child *os.File, err error) {
	return files(RawPipeFromChild())
}

// RawPipeToChild is PipeToChild's descriptors: the parent's (the write
// end) non-blocking, the child's blocking, both close-on-exec.
func RawPipeToChild() (pfd, cfd int, err error) {
	r, w, err := Pipe2()
	if err != nil {
		return -1, -1, err
	}
	return w, r, parentNonblocking(w, r)
}

// RawPipeFromChild is PipeFromChild's descriptors: the parent's (the read
// end) non-blocking, the child's blocking, both close-on-exec.
func RawPipeFromChild() (pfd, cfd int, err error) {
	r, w, err := Pipe2()
	if err != nil {
		return -1, -1, err
	}
	return r, w, parentNonblocking(r, w)
}

// parentNonblocking makes the parent's end non-blocking, and closes both
// ends if it cannot.
func parentNonblocking(pfd, cfd int) error {
	if err := syscall.SetNonblock(pfd, true); err != nil {
		syscall.Close(pfd)
		syscall.Close(cfd)
		return err
	}
	return nil
}

// files wraps a pair of descriptors as files.
func files(pfd, cfd int, err error) (parent, child *os.File, _ error) {
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(pfd), "|1"), os.NewFile(uintptr(cfd), "|0"), nil
}
