package fdio

import (
	"os"
	"syscall"
)

// DupFd is not done on Windows.
func DupFd(fd int) (*os.File, error) { return nil, syscall.EWINDOWS }

// SocketPair is not done on Windows.
func SocketPair() (parent, child *os.File, err error) { return nil, nil, syscall.EWINDOWS }

// PipeToChild makes an ordinary pipe that the child reads.
func PipeToChild() (parent, child *os.File, err error) {
	r, w, err := os.Pipe()
	return w, r, err
}

// PipeFromChild makes an ordinary pipe that the child writes.
func PipeFromChild() (parent, child *os.File, err error) {
	return os.Pipe()
}
