//go:build unix && !linux

package childproc

import "syscall"

// Without /proc, a tree is its process group: descendants that left the
// group are not found, and there is no guardian (a SIGKILLed parent's
// grandchildren survive it). The group is signalled only while the child
// is not reaped. Without a way to watch for the exit and not reap, the
// reap is recorded under Child.mu just after it happened: a signal sent
// in between could reach a group that reused the number only if every
// pid had been handed out again in that instant.

// awaitExit cannot wait without reaping here.
func awaitExit(pid int) bool { return false }

// clockTick is unused: after the reap nothing of a tree can be checked.
func clockTick() uint64 { return 0 }

// find finds no members: without /proc there is only the group.
func (t tree) find() []member { return nil }

// signal signals the child's group while the child is not reaped, and
// returns 1 if the group got the signal.
func (t tree) signal(members []member, sig syscall.Signal) int {
	if t.leader != 0 && t.pgid > 1 && syscall.Kill(-t.pgid, sig) == nil {
		return 1
	}
	return 0
}

// release closes m's pidfd, where it has one.
func (m member) release() {}
