package childproc

import (
	"io"
	"sync"
)

// stream is the parent's end of a pipe that the user reads (Child.Stdout,
// Child.Stderr, or an extra pipe from Child.Stdio).
//
// Node's 'close' comes only once every such stream has ended, and Node
// resumes the streams nobody reads so that it always comes. A stream does
// the same without losing data: once the child has exited, the child's
// lifecycle drains what is left in the pipe into memory (up to a limit),
// where later Reads find it, and then closes the pipe. Reads and the drain
// take turns under mu, so bytes are delivered in order and exactly once.
type stream struct {
	f     io.ReadWriteCloser // a *pipeEnd, or an *os.File for a socketpair
	limit int                // most bytes the drain keeps; the rest is discarded

	mu   sync.Mutex
	buf  []byte // drained bytes not yet read
	off  int
	eof  bool  // the pipe has reported EOF
	err  error // a read error other than EOF (a close, usually)
	done bool  // the drain has finished and closed f
}

func newStream(f io.ReadWriteCloser, limit int) *stream { return &stream{f: f, limit: limit} }

// Read reads drained bytes first, then the pipe.
func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off < len(s.buf) {
		n := copy(p, s.buf[s.off:])
		s.off += n
		if s.off == len(s.buf) {
			s.buf, s.off = nil, 0
		}
		return n, nil
	}
	if s.eof {
		return 0, io.EOF
	}
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.f.Read(p)
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// Write writes to the pipe: an extra stdio entry is a duplex socket.
func (s *stream) Write(p []byte) (int, error) { return s.f.Write(p) }

// Close closes the parent's end; the child's writes then fail with EPIPE.
// Bytes already drained stay readable.
func (s *stream) Close() error {
	err := s.f.Close()
	if s.isDone() {
		return nil
	}
	return err
}

func (s *stream) isDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// drain reads the pipe to its end into memory, then closes it. It runs
// after the child has exited, so only grandchildren can keep it going.
func (s *stream) drain() {
	var small [512]byte
	chunk := small[:]
	for {
		s.mu.Lock()
		if s.eof || s.err != nil {
			s.finishLocked()
			s.mu.Unlock()
			return
		}
		n, err := s.f.Read(chunk)
		if n > 0 {
			s.keepLocked(chunk[:n])
			if len(chunk) < 32*1024 {
				chunk = make([]byte, 32*1024)
			}
		}
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
		}
		s.mu.Unlock()
	}
}

// drainNowReads bounds drainNow: a grandchild writing without pause is
// left to drain, which WaitDelay can cut short.
const drainNowReads = 64

// drainNow drains what a pipe holds without waiting for more, and
// reports whether it reached the end (the pipe is then closed). Once the
// child has exited its pipes are usually at their end already; this
// spares a goroutine, and the poller, for each. A pipe that a grandchild
// still holds, one that keeps yielding data, and one that a Read is
// waiting on (the reader holds mu) are left to drain.
func (s *stream) drainNow() bool {
	pe, ok := s.f.(*pipeEnd)
	if !ok || !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	var buf [4096]byte
	for reads := 0; !s.eof && s.err == nil; reads++ {
		if reads == drainNowReads {
			return false
		}
		n, err := pe.readNow(buf[:])
		switch {
		case n > 0:
			s.keepLocked(buf[:n])
		case err == errNotReady:
			return false
		case err != nil:
			s.err = err
		default:
			s.eof = true
		}
	}
	s.finishLocked()
	return true
}

// keepLocked keeps drained bytes for later Reads, up to the limit.
func (s *stream) keepLocked(b []byte) {
	if keep := min(len(b), s.limit-(len(s.buf)-s.off)); keep > 0 {
		s.buf = append(s.buf, b[:keep]...)
	}
}

func (s *stream) finishLocked() {
	if !s.done {
		s.done = true
		s.f.Close()
	}
}
