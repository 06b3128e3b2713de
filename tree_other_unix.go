//go:build unix && !linux

package childproc

import (
	"syscall"
	"time"
)

// Without /proc, a tree is its process group: descendants that left the
// group are not found, and there is no guardian (a SIGKILLed parent's
// grandchildren survive it).

func killTree(pid, pgid int, marker string, sig syscall.Signal) bool {
	return pgid > 1 && syscall.Kill(-pgid, sig) == nil
}

func groupAlive(pgid int) bool { return pgid > 1 && syscall.Kill(-pgid, 0) == nil }

func guardTree(pgid int, marker string, sig syscall.Signal, delay time.Duration) error { return nil }

func unguardTree(pgid int) {}
