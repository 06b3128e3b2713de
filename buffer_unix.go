//go:build unix

package childproc

import "golang.org/x/sys/unix"

// newChunk returns size bytes of anonymous memory mapped off the Go heap,
// or heap bytes if mapping fails. freeChunk unmaps it at once, where the
// heap would keep it until a collection.
func newChunk(size int) []byte {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size)
	}
	return b
}

// freeChunk releases a chunk from newChunk. A heap chunk is left to the
// collector: Munmap refuses, with EINVAL, memory it did not map.
func freeChunk(b []byte) { unix.Munmap(b[:cap(b)]) }
