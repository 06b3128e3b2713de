package proctree

import "syscall"

// Windows has no process groups to signal: a tree kill reaches the child
// only (a Job object would be the way; not done).

// AwaitExit cannot wait without reaping here; a process handle, like a
// pidfd, never names another process anyway.
func AwaitExit(pid int) bool { return false }

func ClockTick() uint64 { return 0 }

func (t Tree) Find() []Member { return nil }

func (t Tree) Signal(members []Member, sig syscall.Signal) int { return 0 }

// Release closes m's pidfd, where it has one.
func (m Member) Release() {}

func (t Tree) GroupLeft() bool { return false }

func (t Tree) SignalGroup(sig syscall.Signal) {}
