package childproc

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// lend returns a descriptor of the pipe for another child to read (its
// stdin). It is a new open of the same pipe through /proc, not a dup:
// the child gets a blocking descriptor while the parent's end keeps its
// non-blocking mode, its deadlines and the poller. A closed end gives
// EBADF.
func (p *pipeEnd) lend() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		if p.fd < 0 {
			return nil, syscall.EBADF
		}
		return reopenPipe(p.fd)
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		return nil, syscall.EBADF
	}
	var f *os.File
	cerr := rc.Control(func(fd uintptr) { f, err = reopenPipe(int(fd)) })
	if cerr != nil {
		return nil, syscall.EBADF
	}
	return f, err
}

// reopenPipe opens a pipe's read end anew, blocking and close-on-exec.
// O_NONBLOCK spares the open the wait for a writer that a FIFO would
// have; it is cleared once open.
func reopenPipe(fd int) (*os.File, error) {
	nfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(nfd, false); err != nil {
		unix.Close(nfd)
		return nil, err
	}
	return os.NewFile(uintptr(nfd), "|0"), nil
}
