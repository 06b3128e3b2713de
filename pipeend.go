package childproc

import (
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/fdio"
)

// pipeEnd is the parent's end of a stdio pipe (Child.Stdin, and what
// Child.Stdout and Child.Stderr read). It becomes an *os.File, and so
// enters Go's network poller, only when it is first read or written: most
// children's pipes are never touched before the child ends, and a polled
// pipe costs two more system calls and a poller wake-up when the child
// closes its end.
type pipeEnd struct {
	mu       sync.Mutex
	fd       int      // the descriptor while f is nil; -1 once closed
	f        *os.File // the descriptor as a polled file, once used
	name     string
	deadline time.Time // the read deadline, applied to f when it is made
}

// errNotReady: a pipe end has nothing to read yet.
var errNotReady = fdio.ErrNotReady

// file returns the end as an *os.File, making it one if need be.
func (p *pipeEnd) file() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		if p.fd < 0 {
			return nil, os.ErrClosed
		}
		p.f = os.NewFile(uintptr(p.fd), p.name)
		if !p.deadline.IsZero() {
			p.f.SetReadDeadline(p.deadline)
		}
	}
	return p.f, nil
}

// dup returns a copy of the end for another child to inherit (the
// caller closes it once that child has started). It is made under the
// lock, so a concurrent Close cannot leave the child a closed descriptor
// or one already reused. The child needs a blocking descriptor and the
// mode belongs to the pipe both share, so the end turns blocking for the
// parent too, as an *os.File does when os/exec hands it to a child: its
// Writes then hold a thread while they wait and ignore deadlines. A
// closed end gives EBADF, as dup(2) would.
func (p *pipeEnd) dup() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		if p.fd < 0 {
			return nil, syscall.EBADF
		}
		if err := setBlocking(p.fd); err != nil {
			return nil, err
		}
		return dupEnd(uintptr(p.fd))
	}
	fd := p.f.Fd() // blocking from now on
	if fd == ^uintptr(0) {
		return nil, syscall.EBADF
	}
	return dupEnd(fd)
}

// Read reads from the pipe, waiting for data.
func (p *pipeEnd) Read(b []byte) (int, error) {
	f, err := p.file()
	if err != nil {
		return 0, err
	}
	return f.Read(b)
}

// Write writes to the pipe, waiting for room.
func (p *pipeEnd) Write(b []byte) (int, error) {
	f, err := p.file()
	if err != nil {
		return 0, err
	}
	return f.Write(b)
}

// SetReadDeadline sets the deadline of Reads, those waiting included.
func (p *pipeEnd) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deadline = t
	if p.f != nil {
		return p.f.SetReadDeadline(t)
	}
	return nil
}

// Close closes the pipe end; a Read or Write in progress returns.
func (p *pipeEnd) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f != nil {
		return p.f.Close()
	}
	if p.fd < 0 {
		return os.ErrClosed
	}
	err := closeFd(p.fd)
	p.fd = -1
	return err
}
