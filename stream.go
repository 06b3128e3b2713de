package childproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrTruncated is the cause of the error a Read of Child.Stdout, Stderr or
// an extra pipe returns, after the bytes that were kept, when output was
// discarded: nobody had read the stream when the child exited, so Wait
// kept its first MaxBuffer bytes and discarded the rest.
var ErrTruncated = errors.New("output truncated")

// streamEnd is the parent's end of a pipe that a stream reads: a
// *pipeEnd, or an *os.File for a socketpair.
type streamEnd interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
}

// stream is the parent's end of a pipe that the user reads (Child.Stdout,
// Child.Stderr, or an extra pipe from Child.Stdio).
//
// Node's 'close' comes only once every such stream has ended, and Node
// resumes the streams nobody reads so that it always comes. A stream does
// the same without losing what a reader will read: once the child has
// exited, the child's lifecycle drains what is left in the pipe into
// memory, where later Reads find it, and then closes the pipe. A stream
// that has been read is drained with back-pressure: at most MaxBuffer
// bytes wait in memory, and the drain waits for Reads to take them. A
// stream nobody has read keeps its first MaxBuffer bytes and discards the
// rest, so that Wait returns; a later Read then gets the kept bytes and
// an error wrapping ErrTruncated. Reads and the drain take turns under
// mu, so bytes are delivered in order and exactly once.
type stream struct {
	f     streamEnd
	name  string // "stdout", "stderr", "stdio[3]"
	limit int    // the most bytes the drain keeps ahead of the reader

	used atomic.Bool // a Read has begun: the drain no longer discards
	cut  atomic.Bool // the stdio is being cut: nobody waits on the pipe

	mu        sync.Mutex
	room      sync.Cond // a Read took kept bytes, a loan ended, or the stream ended
	buf       []byte    // drained bytes not yet read
	off       int
	discarded int64 // bytes the drain threw away
	lent      int   // children reading the pipe as their stdin
	eof       bool  // the pipe has reported EOF
	err       error // a read error other than EOF, or the cut
	done      bool  // f is closed
}

func newStream(f streamEnd, name string, limit int) *stream {
	s := &stream{f: f, name: name, limit: limit}
	s.room.L = &s.mu
	return s
}

// Read reads drained bytes first, then the pipe.
func (s *stream) Read(p []byte) (int, error) {
	s.used.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.off < len(s.buf):
			n := copy(p, s.buf[s.off:])
			s.off += n
			if s.off == len(s.buf) {
				s.buf, s.off = nil, 0
			}
			s.room.Broadcast()
			return n, nil
		case s.discarded > 0:
			for !s.done {
				s.room.Wait()
			}
			return 0, s.truncated()
		case s.eof:
			return 0, io.EOF
		case s.err != nil:
			return 0, s.err
		case s.cut.Load():
			s.cutLocked()
			continue
		}
		n, err := s.f.Read(p)
		switch {
		case err == io.EOF:
			s.eof = true
		case s.cut.Load() && errors.Is(err, os.ErrDeadlineExceeded):
			if n == 0 {
				continue // the cut reads the rest
			}
			err = nil
		}
		return n, err
	}
}

// truncated is the error of a Read past the kept bytes of a stream whose
// drain discarded output.
func (s *stream) truncated() error {
	return fmt.Errorf("%s: %w: %d bytes after the first %d (MaxBuffer) were discarded, since nobody read them before the child exited", s.name, ErrTruncated, s.discarded, s.limit)
}

// Write writes to the pipe: an extra stdio entry is a duplex socket.
func (s *stream) Write(p []byte) (int, error) { return s.f.Write(p) }

// Close closes the parent's end; the child's writes then fail with EPIPE.
// Bytes already drained stay readable.
func (s *stream) Close() error {
	err := s.f.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		err = nil // the drain had closed it
	}
	s.done = true
	s.room.Broadcast() // a drain waiting for room ends
	return err
}

// drain reads the pipe to its end into memory, then closes it. It runs
// after the child has exited, so only grandchildren can keep it going.
func (s *stream) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var chunk []byte
	for !s.endedLocked() {
		switch {
		case s.cut.Load():
			s.cutLocked()
		case s.lent > 0 || s.fullLocked():
			s.room.Wait()
		default:
			if chunk == nil {
				chunk = make([]byte, 32*1024)
			}
			n, err := readNow(s.f, chunk)
			if err == errNotReady && drainWaits {
				// Wait for more without holding mu, so that a Read
				// takes what comes as it comes.
				s.mu.Unlock()
				waitReadable(s.f, drainPoll)
				s.mu.Lock()
				continue
			}
			if err == errNotReady {
				n, err = s.f.Read(chunk)
			}
			s.takeLocked(chunk[:n], err)
		}
	}
	s.closeLocked()
}

// drainPoll is how long a drain waits for its pipe before it looks again
// whether the stream was cut or closed.
const drainPoll = 50 * time.Millisecond

// drainNowReads bounds drainNow and the cut: a grandchild writing without
// pause is left to drain, which a cut can stop.
const drainNowReads = 64

// drainNow drains what a pipe holds without waiting for more, and
// reports whether it reached the end (the pipe is then closed). Once the
// child has exited its pipes are usually at their end already; this
// spares a goroutine, and the poller, for each. A pipe that a grandchild
// still holds, one that keeps yielding data, one that must wait for a
// reader or for a child that reads it as stdin, and one that a Read is
// waiting on (the reader holds mu) are left to drain.
func (s *stream) drainNow() bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	var buf [4096]byte
	for reads := 0; !s.endedLocked(); reads++ {
		if reads == drainNowReads || s.lent > 0 || s.fullLocked() {
			return false
		}
		n, err := readNow(s.f, buf[:])
		if err == errNotReady {
			return false
		}
		s.takeLocked(buf[:n], err)
	}
	s.closeLocked()
	return true
}

// cutOff ends the stream at once: whoever waits on the pipe is woken, what
// the pipe holds now is kept (as the drain would keep it), and the pipe is
// closed. A later Read gets the kept bytes, then EOF if the pipe had
// reached its end, else an error wrapping ErrWaitDelay.
func (s *stream) cutOff() {
	s.cut.Store(true)
	s.f.SetReadDeadline(time.Unix(1, 0)) // wakes a Read or the drain waiting on the pipe
	s.mu.Lock()
	defer s.mu.Unlock()
	s.room.Broadcast()
	s.cutLocked()
}

// cutLocked reads what the pipe holds without waiting, then closes it.
func (s *stream) cutLocked() {
	if s.done {
		return
	}
	// What the pipe holds of a loan is the borrowing child's to read.
	if s.lent == 0 && s.f.SetReadDeadline(time.Time{}) == nil {
		buf := make([]byte, 32*1024)
		for reads := 0; reads < drainNowReads && !s.endedLocked(); reads++ {
			n, err := readNow(s.f, buf)
			if err == errNotReady {
				break
			}
			s.takeLocked(buf[:n], err)
		}
	}
	if !s.endedLocked() {
		s.err = fmt.Errorf("%s closed by childproc: %w", s.name, ErrWaitDelay)
	}
	s.closeLocked()
}

// takeLocked records one read of the pipe: what it yielded and how it
// ended.
func (s *stream) takeLocked(b []byte, err error) {
	if len(b) > 0 {
		s.keepLocked(b)
	}
	switch {
	case err == nil:
	case err == io.EOF:
		s.eof = true
	case s.cut.Load() && errors.Is(err, os.ErrDeadlineExceeded):
		// The cut reads the rest.
	default:
		s.err = err
	}
}

// keepLocked keeps drained bytes for later Reads. A stream that has been
// read keeps them all (the drain waits for room before it reads more); a
// stream nobody has read keeps its first limit bytes and discards the
// rest. Once it has discarded, it discards every later byte too, even
// after a Read has made room: the kept bytes are the stream's start, and
// nothing that came after the gap may follow them.
func (s *stream) keepLocked(b []byte) {
	switch {
	case s.discarded > 0:
		s.discarded += int64(len(b))
		return
	case !s.used.Load():
		keep := max(0, min(len(b), s.limit-(len(s.buf)-s.off)))
		s.discarded += int64(len(b) - keep)
		b = b[:keep]
	}
	if s.off > 0 && len(s.buf)+len(b) > cap(s.buf) {
		n := copy(s.buf, s.buf[s.off:])
		s.buf, s.off = s.buf[:n], 0
	}
	s.buf = append(s.buf, b...)
}

// fullLocked reports whether the drain must wait for a reader to take
// kept bytes before it reads more.
func (s *stream) fullLocked() bool {
	return s.used.Load() && s.discarded == 0 && len(s.buf)-s.off >= s.limit
}

func (s *stream) endedLocked() bool { return s.eof || s.err != nil || s.done }

func (s *stream) closeLocked() {
	if !s.done {
		s.done = true
		s.f.Close()
		s.room.Broadcast()
	}
}

// lend returns a descriptor of the pipe for another child to read as its
// stdin, and holds the drain off until giveBack: the bytes are that
// child's to read. It returns nil when the stream cannot be lent as is:
// it holds drained bytes, has ended, is not a pipe, or is being read
// right now (by a Read or the drain, which may wait for data as long as
// a grandchild likes); the caller then copies the stream to the child.
func (s *stream) lend() (*os.File, error) {
	p, ok := s.f.(*pipeEnd)
	if !ok || !s.mu.TryLock() {
		return nil, nil
	}
	defer s.mu.Unlock()
	if len(s.buf) > s.off || s.discarded > 0 || s.endedLocked() {
		return nil, nil
	}
	f, err := p.lend()
	if f != nil {
		s.lent++
	}
	return f, err
}

// giveBack ends a loan: the child that read the pipe has exited.
func (s *stream) giveBack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lent--
	s.room.Broadcast()
}
