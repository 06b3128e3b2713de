package ipc

import (
	"net"
	"syscall"
)

// Windows has no SCM_RIGHTS: handles cannot be passed.
var oobSize = 0

func readMsg(conn *net.UnixConn, buf, oob []byte) (int, []int, error) {
	n, err := conn.Read(buf)
	return n, nil, err
}

func rights(fd int) []byte { return nil }

func closeFd(fd int) { syscall.Close(syscall.Handle(fd)) }

func writeNonblock(fd uintptr, b []byte) (int, error) { return 0, syscall.EWINDOWS }

func wouldBlock(err error) bool { return err == syscall.EWINDOWS }
