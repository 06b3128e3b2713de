package main

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// sendFile copies the size bytes of src from its offset to dst with
// sendfile(2), in the kernel. It reports handled false when the kernel
// cannot do it for these files and nothing was copied, so that the caller
// copies as usual.
func sendFile(dst, src *os.File, size int64) (written int64, handled bool, err error) {
	out, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	in, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var serr error
	cerr := in.Read(func(infd uintptr) bool {
		return out.Write(func(outfd uintptr) bool {
			for written < size {
				n, err := unix.Sendfile(int(outfd), int(infd), nil, int(min(size-written, 1<<30)))
				written += int64(max(n, 0))
				switch {
				case errors.Is(err, unix.EAGAIN):
					return false // wait until dst takes more
				case errors.Is(err, unix.EINTR):
				case err != nil:
					serr = err
					return true
				case n == 0:
					return true // src is shorter than size
				}
			}
			return true
		}) == nil
	})
	if written == 0 && (errors.Is(serr, unix.EINVAL) || errors.Is(serr, unix.ENOSYS)) {
		return 0, false, nil
	}
	if serr == nil {
		serr = cerr
	}
	if serr != nil {
		serr = &os.SyscallError{Syscall: "sendfile", Err: serr}
	}
	return written, true, serr
}

// fullDisk returns ENOSPC, as a write to f would, when f's filesystem has
// no block free; nil otherwise.
func fullDisk(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Bavail > 0 {
		return nil
	}
	return &os.PathError{Op: "write", Path: f.Name(), Err: unix.ENOSPC}
}
