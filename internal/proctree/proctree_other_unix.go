//go:build unix && !linux

package proctree

import "syscall"

// Without /proc, a tree is its process group: descendants that left the
// group are not found, and there is no guardian (a SIGKILLed parent's
// grandchildren survive it). The group is signalled only while the child
// is not reaped. Without a way to watch for the exit and not reap, the
// reap is recorded under the caller's lock just after it happened: a signal sent
// in between could reach a group that reused the number only if every
// pid had been handed out again in that instant.

// AwaitExit cannot wait without reaping here.
func AwaitExit(pid int) bool { return false }

// ClockTick is unused: after the reap nothing of a tree can be checked.
func ClockTick() uint64 { return 0 }

// Find finds no members: without /proc there is only the group.
func (t Tree) Find() []Member { return nil }

// Signal signals the child's group while the child is not reaped, and
// returns 1 if the group got the signal.
func (t Tree) Signal(members []Member, sig syscall.Signal) int {
	if t.Leader != 0 && t.Pgid > 1 && syscall.Kill(-t.Pgid, sig) == nil {
		return 1
	}
	return 0
}

// Release closes m's pidfd, where it has one.
func (m Member) Release() {}

// GroupLeft reports whether a process is left in t's group: kill(-pgid)
// with signal 0, which delivers nothing, so it is safe after the child's
// reap too (a group that reused the number only makes it true). One
// call sees the whole group at once, where a look through /proc can miss
// a member that forks its successor and exits during the look.
func (t Tree) GroupLeft() bool {
	return t.Pgid > 1 && syscall.Kill(-t.Pgid, 0) != syscall.ESRCH
}

// SignalGroup sends sig to t's group, only while the child is not reaped
// (the caller holds the lock under which it is reaped).
func (t Tree) SignalGroup(sig syscall.Signal) {
	if t.Leader != 0 && t.Pgid > 1 {
		syscall.Kill(-t.Pgid, sig)
	}
}
