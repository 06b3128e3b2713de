//go:build unix

package ipc

import "golang.org/x/sys/unix"

// A spill is the memory of one frame too long for the read buffer,
// mapped outside Go's heap: the mapping is as large as the largest frame
// allowed, but the kernel gives it pages only as bytes arrive, and they go
// back the moment the frame has been copied out or refused. Growing it
// copies nothing, and nothing of it waits for a garbage collection.
type spill struct {
	mem []byte // the mapping, or nil
}

// pageSize is the unit in which a spill's pages are given back.
var pageSize = unix.Getpagesize()

// moveChunk is how much of a frame is copied out of a spill between
// giving its pages back.
const moveChunk = 1 << 20

// alloc maps n bytes and returns them, or nil if the system refused.
func (s *spill) alloc(n int) []byte {
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	s.mem = mem
	return mem
}

// holds reports whether the spill is mapped.
func (s *spill) holds() bool { return s.mem != nil }

// free unmaps the spill.
func (s *spill) free() {
	if s.mem != nil {
		unix.Munmap(s.mem)
		s.mem = nil
	}
}

// moveOut returns a copy, in Go's heap, of the n bytes at off in the
// spill, giving back the spill's pages under them as it goes, so that a
// frame is at no time in memory twice over more than moveChunk. The
// bytes must not be read from the spill again.
func (s *spill) moveOut(off, n int) []byte {
	out := make([]byte, n)
	released := (off + pageSize - 1) / pageSize * pageSize // pages shared with bytes before stay
	for done := 0; done < n; {
		done += copy(out[done:], s.mem[off+done:off+min(n, done+moveChunk)])
		if end := (off + done) / pageSize * pageSize; end > released { // and pages shared with bytes after
			unix.Madvise(s.mem[released:end], unix.MADV_DONTNEED)
			released = end
		}
	}
	return out
}
