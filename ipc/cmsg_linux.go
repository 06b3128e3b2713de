package ipc

import "syscall"

// readMsgFlags has descriptors received with SCM_RIGHTS arrive
// close-on-exec, as net.UnixConn's reads do.
const readMsgFlags = syscall.MSG_CMSG_CLOEXEC
