package childproc

import (
	"io"
	"os"
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
	f     *os.File
	limit int // most bytes the drain keeps; the rest is discarded

	mu   sync.Mutex
	buf  []byte // drained bytes not yet read
	off  int
	eof  bool  // the pipe has reported EOF
	err  error // a read error other than EOF (a close, usually)
	done bool  // the drain has finished and closed f
}

func newStream(f *os.File, limit int) *stream { return &stream{f: f, limit: limit} }

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
			keep := min(n, s.limit-(len(s.buf)-s.off))
			if keep > 0 {
				s.buf = append(s.buf, chunk[:keep]...)
			}
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

func (s *stream) finishLocked() {
	if !s.done {
		s.done = true
		s.f.Close()
	}
}
