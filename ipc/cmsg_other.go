//go:build unix && !linux

package ipc

import "runtime"

// readMsgFlags: outside Linux received descriptors are marked
// close-on-exec once they have arrived.
const readMsgFlags = 0

// spinYield yields the processor between two tries of a spinning Recv.
func spinYield() { runtime.Gosched() }
