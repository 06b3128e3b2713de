//go:build unix

package fdio

import (
	"io"
	"os"
	"syscall"
)

// ReadNow reads what a non-blocking file holds without waiting in
// the poller (a raw read whose function never asks to wait).
func ReadNow(f *os.File, b []byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, rerr = ReadFdNow(int(fd), b)
		return true
	}); err != nil {
		return 0, err
	}
	return n, rerr
}

// ReadFdNow is one read(2) of a non-blocking descriptor.
func ReadFdNow(fd int, b []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, ErrNotReady
		case err != nil:
			return 0, err
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
