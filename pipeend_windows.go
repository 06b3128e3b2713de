package childproc

import (
	"os"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/fdio"
)

// lazyPipeToChild makes an ordinary pipe on Windows: its parent's end is
// an *os.File from the start.
func lazyPipeToChild() (parent *pipeEnd, child *os.File, err error) {
	return fileEnd(fdio.PipeToChild())
}

// lazyPipeFromChild is lazyPipeToChild's other direction.
func lazyPipeFromChild() (parent *pipeEnd, child *os.File, err error) {
	return fileEnd(fdio.PipeFromChild())
}

// fileEnd makes the parent's file a pipeEnd.
func fileEnd(p, c *os.File, err error) (parent *pipeEnd, child *os.File, _ error) {
	if err != nil {
		return nil, nil, err
	}
	return &pipeEnd{fd: -1, f: p, name: p.Name()}, c, nil
}

// readNow leaves every pipe to the ordinary reads on Windows.
func (p *pipeEnd) readNow(b []byte) (int, error) { return 0, errNotReady }

// readNow leaves every pipe to the ordinary reads on Windows.
func readNow(f streamEnd, b []byte) (int, error) { return 0, errNotReady }

func closeFd(fd int) error { return syscall.EINVAL }

// setBlocking has nothing to do: Windows pipes have no such mode here.
func setBlocking(fd int) error { return nil }

// dupEnd duplicates a pipe end's handle, not inheritable (StartProcess
// makes the copies it hands to the child).
func dupEnd(h uintptr) (*os.File, error) {
	self, err := syscall.GetCurrentProcess()
	if err != nil {
		return nil, err
	}
	var d syscall.Handle
	if err := syscall.DuplicateHandle(self, syscall.Handle(h), self, &d, 0, false, syscall.DUPLICATE_SAME_ACCESS); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(d), "|dup"), nil
}

// lend returns a duplicate of the pipe's handle for another child to read
// (its stdin).
func (p *pipeEnd) lend() (*os.File, error) { return p.dup() }

// drainWaits is false on Windows: a drain reads its pipe directly.
const drainWaits = false

// waitReadable is not used on Windows (see drainWaits).
func waitReadable(f streamEnd, d time.Duration) {}
