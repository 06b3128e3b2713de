//go:build unix

package ipc

import (
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// canPassHandles: descriptors travel as SCM_RIGHTS.
const canPassHandles = true

// maxRecvFds is how many descriptors one read takes. The kernel ends a
// read after the first message that carries descriptors, and a peer
// sends one per handle message, so more means a misbehaving peer.
const maxRecvFds = 16

// oobSize has room for maxRecvFds descriptors.
var oobSize = syscall.CmsgSpace(maxRecvFds * 4)

// readMsg reads data and any descriptors that came with it. With spin > 0
// it first tries the socket again and again, for up to spin, without
// parking the goroutine (see Options.SpinWait); spun reports whether that
// found something to read.
func readMsg(conn *net.UnixConn, buf, oob []byte, spin time.Duration) (n int, fds []int, spun bool, err error) {
	var oobn, flags int
	if spin > 0 {
		n, oobn, flags, spun, err = spinRead(conn, buf, oob, spin)
	}
	if !spun {
		n, oobn, flags, _, err = conn.ReadMsgUnix(buf, oob)
	}
	if n < 0 { // some failed reads report -1
		n = 0
	}
	if oobn < 0 {
		oobn = 0
	}
	if oobn > 0 {
		if msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn]); perr == nil {
			for _, m := range msgs {
				if got, rerr := syscall.ParseUnixRights(&m); rerr == nil {
					for _, fd := range got {
						syscall.CloseOnExec(fd)
					}
					fds = append(fds, got...)
				}
			}
		}
	}
	if flags&syscall.MSG_CTRUNC != 0 && err == nil && len(fds) > 0 {
		// More descriptors came than fit: the kernel dropped the rest.
		// (With none at all, the descriptor could not be installed here,
		// out of fds say: its handle message is NACKed and sent again,
		// as Node does.)
		for _, fd := range fds {
			closeFd(fd)
		}
		return n, nil, spun, errCtrunc
	}
	if n == 0 && err == nil && oobn == 0 {
		// A zero-byte read with no descriptors on a stream socket is EOF.
		return 0, fds, spun, errEOF
	}
	return n, fds, spun, err
}

// spinRead reads without waiting, over and over for up to spin, yielding
// the processor between tries. found is false when nothing came in time.
func spinRead(conn *net.UnixConn, buf, oob []byte, spin time.Duration) (n, oobn, flags int, found bool, err error) {
	rc, rerr := conn.SyscallConn()
	if rerr != nil {
		return 0, 0, 0, false, nil
	}
	deadline := monoNow() + int64(spin)
	rc.Read(func(fd uintptr) bool {
		for {
			var e error
			n, oobn, flags, _, e = syscall.Recvmsg(int(fd), buf, oob, readMsgFlags)
			if e != syscall.EAGAIN && e != syscall.EINTR {
				found, err = true, e
				return true
			}
			if monoNow() > deadline {
				return true
			}
			spinYield()
		}
	})
	return n, oobn, flags, found, err
}

func rights(fd int) []byte { return syscall.UnixRights(fd) }

func closeFd(fd int) { syscall.Close(fd) }

func writeNonblock(fd uintptr, b []byte) (int, error) {
	n, err := syscall.Write(int(fd), b)
	if n < 0 {
		n = 0
	}
	return n, err
}

func wouldBlock(err error) bool { return err == syscall.EAGAIN || err == syscall.EINTR }

// fileHandleType returns Node's handle type for the descriptor of an
// *os.File: a listening stream socket is a "net.Server", another stream
// socket a "net.Socket", a datagram socket "dgram.Native", a pipe
// "net.Native" (Node makes it a Pipe). Anything else is refused: libuv
// cannot wrap a regular file or a device, and a Node process sent one
// aborts (stream_wrap.cc "Assertion failed: (type) == (UV_UNKNOWN_HANDLE)").
func fileHandleType(fd int) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "net.Native", nil
	case unix.S_IFSOCK:
		typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
		if err != nil {
			return "", err
		}
		switch typ {
		case unix.SOCK_STREAM:
			if l, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil && l != 0 {
				return "net.Server", nil
			}
			return "net.Socket", nil
		case unix.SOCK_DGRAM:
			return "dgram.Native", nil
		}
	}
	return "", fmt.Errorf("%w: only sockets and pipes can be sent as handles (a Node peer aborts on anything else)", ErrUnsupported)
}
