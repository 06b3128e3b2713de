//go:build unix

package ipc

import (
	"syscall"
	"testing"
)

// SocketPair returns the descriptors of a new pair of connected Unix
// stream sockets, both close-on-exec, so that no child a test starts
// meanwhile holds one (set under syscall.ForkLock, as os/exec needs,
// since not every unix has SOCK_CLOEXEC). It is exported for the
// package's external tests.
func SocketPair(t testing.TB) [2]int {
	t.Helper()
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return [2]int(fds)
}
