//go:build unix

package childproc

import (
	"os"
	"syscall"
)

// lazyChildPipe is childPipe with the parent's end left out of the poller
// until it is used (see pipeEnd).
func lazyChildPipe(childReads bool) (parent *pipeEnd, child *os.File, err error) {
	pfd, cfd, err := rawChildPipe(childReads)
	if err != nil {
		return nil, nil, err
	}
	return &pipeEnd{fd: pfd, name: "|1"}, os.NewFile(uintptr(cfd), "|0"), nil
}

// readNow reads what the pipe holds without waiting and without entering
// the poller; errNotReady when there is nothing yet, or when the end is
// already polled (its reader then waits in the poller as usual).
func (p *pipeEnd) readNow(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f != nil {
		return 0, errNotReady
	}
	if p.fd < 0 {
		return 0, os.ErrClosed
	}
	for {
		n, err := syscall.Read(p.fd, b)
		switch err {
		case nil:
			return n, nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, errNotReady
		}
		return 0, err
	}
}

func closeFd(fd int) error { return syscall.Close(fd) }

// setBlocking puts a pipe end in blocking mode.
func setBlocking(fd int) error { return syscall.SetNonblock(fd, false) }

// dupEnd duplicates a pipe end, close-on-exec.
func dupEnd(fd uintptr) (*os.File, error) { return dupFd(int(fd)) }
