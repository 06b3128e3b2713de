//go:build unix

package childproc

import (
	"os"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/fdio"
	"golang.org/x/sys/unix"
)

// lazyPipeToChild is fdio.PipeToChild with the parent's end left out of
// the poller until it is used (see pipeEnd).
func lazyPipeToChild() (parent *pipeEnd, child *os.File, err error) {
	return lazyEnd(fdio.RawPipeToChild())
}

// lazyPipeFromChild is fdio.PipeFromChild with the parent's end left out
// of the poller until it is used.
func lazyPipeFromChild() (parent *pipeEnd, child *os.File, err error) {
	return lazyEnd(fdio.RawPipeFromChild())
}

// lazyEnd makes the parent's descriptor a pipeEnd and the child's a file.
func lazyEnd(pfd, cfd int, err error) (parent *pipeEnd, child *os.File, _ error) {
	if err != nil {
		return nil, nil, err
	}
	return &pipeEnd{fd: pfd, name: "|1"}, os.NewFile(uintptr(cfd), "|0"), nil
}

// readNow reads what the pipe holds without waiting: errNotReady when
// there is nothing yet, io.EOF at the end. An end not yet polled stays
// out of the poller. (Only read ends are read, and those are never made
// blocking: see lend.)
func (p *pipeEnd) readNow(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.f != nil:
		return fdio.ReadNow(p.f, b)
	case p.fd < 0:
		return 0, os.ErrClosed
	}
	return fdio.ReadFdNow(p.fd, b)
}

// readNow reads what the parent's end of a stream's pipe holds, without
// waiting.
func readNow(f streamEnd, b []byte) (int, error) {
	switch f := f.(type) {
	case *pipeEnd:
		return f.readNow(b)
	case *os.File:
		return fdio.ReadNow(f, b)
	}
	return 0, errNotReady
}

func closeFd(fd int) error { return syscall.Close(fd) }

// setBlocking puts a pipe end in blocking mode.
func setBlocking(fd int) error { return syscall.SetNonblock(fd, false) }

// dupEnd duplicates a pipe end, close-on-exec.
func dupEnd(fd uintptr) (*os.File, error) { return fdio.DupFd(int(fd)) }

// drainWaits says that a drain can wait for its pipe without reading it
// (see waitReadable), so that Reads are never held up behind it.
const drainWaits = true

// waitReadable waits up to d for the parent's end of a stream's pipe to
// have something to read (or to reach its end), without reading it and
// without holding the end's locks, so that a Read may take what comes.
func waitReadable(f streamEnd, d time.Duration) {
	wait := func(fd int) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		unix.Poll(fds, int(d/time.Millisecond))
	}
	var file *os.File
	switch f := f.(type) {
	case *pipeEnd:
		f.mu.Lock()
		fd, polled := f.fd, f.f
		f.mu.Unlock()
		if polled == nil {
			if fd >= 0 {
				wait(fd) // a close meanwhile ends the wait early: the drain then sees it
			}
			return
		}
		file = polled
	case *os.File:
		file = f
	default:
		time.Sleep(d)
		return
	}
	if rc, err := file.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { wait(int(fd)) })
	}
}
