package ipc

import (
	"net"
	"syscall"
	"time"
)

// canPassHandles: Windows has no SCM_RIGHTS (and Node does not pass
// handles over IPC there either).
const canPassHandles = false

var oobSize = 0

const maxRecvFds = 0

// readMsg reads data; Windows passes no descriptors, and spinning is
// left out there.
func readMsg(conn *net.UnixConn, buf, oob []byte, spin time.Duration) (int, []int, bool, error) {
	n, err := conn.Read(buf)
	return n, nil, false, err
}

func rights(fd int) []byte { return nil }

func closeFd(fd int) { syscall.Close(syscall.Handle(fd)) }

func writeNonblock(fd uintptr, b []byte) (int, error) { return 0, syscall.EWINDOWS }

func wouldBlock(err error) bool { return err == syscall.EWINDOWS }

// fileHandleType refuses: Windows cannot pass descriptors over the
// channel (Node does not support it either).
func fileHandleType(fd int) (string, error) { return "", ErrUnsupported }
