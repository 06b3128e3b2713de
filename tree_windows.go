package childproc

import "syscall"

// Windows has no process groups to signal: a tree kill reaches the child
// only (a Job object would be the way; not done).

// awaitExit cannot wait without reaping here; a process handle, like a
// pidfd, never names another process anyway.
func awaitExit(pid int) bool { return false }

func clockTick() uint64 { return 0 }

func (t tree) find() []member { return nil }

func (t tree) signal(members []member, sig syscall.Signal) int { return 0 }

// release closes m's pidfd, where it has one.
func (m member) release() {}
