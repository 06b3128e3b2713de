//go:build unix

package ipc

import (
	"net"
	"syscall"
)

// oobSize has room for the descriptors of several handle messages.
var oobSize = syscall.CmsgSpace(16 * 4)

// readMsg reads data and any descriptors that came with it.
func readMsg(conn *net.UnixConn, buf, oob []byte) (int, []int, error) {
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if n < 0 { // some failed reads report -1
		n = 0
	}
	if oobn < 0 {
		oobn = 0
	}
	var fds []int
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
	if n == 0 && err == nil && oobn == 0 {
		// A zero-byte read with no descriptors on a stream socket is EOF.
		return 0, fds, errEOF
	}
	return n, fds, err
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
