package ipc

import "syscall"

// readMsgFlags has descriptors received with SCM_RIGHTS arrive
// close-on-exec, as net.UnixConn's reads do.
const readMsgFlags = syscall.MSG_CMSG_CLOEXEC

// spinYield gives the CPU to another thread between two tries of a
// spinning Recv, the peer's perhaps, rather than to another goroutine:
// runtime.Gosched would wake an idle thread of this process to look for
// work at each try, and keep the peer from the CPU all the same.
func spinYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
