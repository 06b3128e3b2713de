//go:build unix && !linux

package ipc

// readMsgFlags: outside Linux received descriptors are marked
// close-on-exec once they have arrived.
const readMsgFlags = 0
