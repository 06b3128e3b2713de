//go:build unix && !linux

package childproc

import "syscall"

// Without /proc, a tree is its process group: descendants that left the
// group are not found, and there is no guardian (a SIGKILLed parent's
// grandchildren survive it).

func killTree(pid, pgid int, marker string, sig syscall.Signal) bool {
	return pgid > 1 && syscall.Kill(-pgid, sig) == nil
}
