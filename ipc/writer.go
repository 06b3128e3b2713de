package ipc

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// HighWater is how many bytes may wait in a Channel's write buffer before
// Send blocks: Node's threshold for send() returning false (2 × 64 KiB).
const HighWater = 128 << 10

// batchGap: a frame sent sooner than this after the previous direct
// write, with no message received in between, is queued for the writer
// goroutine rather than written at once: the sender is streaming, and the
// writer sends what piles up in few large writes. A request and its
// reply (a message received in between) always go out at once.
const batchGap = int64(20 * time.Microsecond)

// flushTimeout bounds how long Close waits for queued frames to go out.
const flushTimeout = 5 * time.Second

// writer owns the writing side of a channel's socket. Send appends
// frames to buf and returns; one goroutine writes out everything that has
// piled up at once, so a fast sender makes few, large writes. Frames go
// out in the order they were appended.
type writer struct {
	conn    *net.UnixConn
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte // frames waiting to be written
	spare   []byte // the other buffer, swapped with buf for each write
	busy    bool   // a write is in progress (by the goroutine or a handle send)
	stopped bool   // no more frames are accepted
	err     error  // the write error that stopped the writer
	wake    chan struct{}
	last    atomic.Int64 // when a frame was last written directly, UnixNano; 0 after a receive
	ended   bool         // wake is closed: the goroutine has been told to end
	answers int          // protocol answers in buf or in the write in progress: not yet taken by the socket
}

// maxUnreadAnswers bounds the protocol answers (NODE_HANDLE_ACK and NACK)
// that wait for the peer to read them. A Node peer sends one handle
// message at a time and waits for its answer, so a peer that leaves this
// many unread goes on sending handle messages without reading: the channel
// ends with a *ProtocolError rather than buffer answers without bound or
// stop reading. The socket takes about a MiB of answers before any
// waits here, and one read brings up to about 3000 handle messages.
const maxUnreadAnswers = 1 << 15

// errUnreadAnswers is writer.answer's refusal.
var errUnreadAnswers = errors.New("too many protocol answers unread by the peer")

func (w *writer) init(conn *net.UnixConn) {
	w.conn = conn
	w.cond.L = &w.mu
	w.wake = make(chan struct{}, 1)
	go w.loop(w.wake)
}

// enqueue appends one frame, waiting while the buffer is above HighWater.
func (w *writer) enqueue(frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.buf) >= HighWater && !w.stopped && w.err == nil {
		w.cond.Wait()
	}
	_, err := w.putLocked(frame)
	return err
}

// answer appends a protocol answer (NODE_HANDLE_ACK or NACK) without
// waiting for room: the channel's reader sends it, and reading must never
// wait for the peer to read. Once maxUnreadAnswers answers wait for the
// peer to take them, it refuses with errUnreadAnswers.
func (w *writer) answer(frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.stateErr(); err != nil {
		return err
	}
	if w.answers >= maxUnreadAnswers {
		return errUnreadAnswers
	}
	queued, err := w.putLocked(frame)
	if queued {
		w.answers++
	}
	return err
}

// putLocked writes frame at once when nothing is queued and the last
// frame went out a while ago, and queues what the socket did not take;
// queued reports whether some of frame was queued. w.mu is held.
func (w *writer) putLocked(frame []byte) (queued bool, err error) {
	if err := w.stateErr(); err != nil {
		return false, err
	}
	now := time.Now().UnixNano()
	if !w.busy && len(w.buf) == 0 && now-w.last.Load() > batchGap {
		// Nothing is queued and the last frame went out a while ago:
		// write at once from this goroutine, so that a lone message (a
		// request, a reply) costs no hand-off. Frames that follow each
		// other closely are left to the writer goroutine, which sends
		// them in few large writes.
		w.last.Store(now)
		n, err := w.tryWrite(frame)
		if err != nil {
			w.err = err
			return false, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		if n == len(frame) {
			return false, nil
		}
		frame = frame[n:] // the socket is full: queue the rest
	}
	w.buf = append(w.buf, frame...)
	if !w.busy {
		w.busy = true
		w.wake <- struct{}{}
	}
	return true, nil
}

// received notes that a message came in: the next frame is an answer
// and goes out at once.
func (w *writer) received() { w.last.Store(0) }

// tryWrite writes as much of frame as the socket takes without waiting.
func (w *writer) tryWrite(frame []byte) (int, error) {
	rc, err := w.conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for n < len(frame) {
			m, e := writeNonblock(fd, frame[n:])
			if e != nil {
				if !wouldBlock(e) {
					werr = e
				}
				break
			}
			n += m
		}
		return true
	})
	if werr != nil {
		return n, werr
	}
	return n, err
}

func (w *writer) stateErr() error {
	if w.err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, w.err)
	}
	if w.stopped {
		return ErrClosed
	}
	return nil
}

// loop writes out the buffer whenever it is woken.
func (w *writer) loop(wake <-chan struct{}) {
	for range wake {
		w.mu.Lock()
		for len(w.buf) > 0 && w.err == nil {
			out, answers := w.buf, w.answers
			w.buf = w.spare[:0]
			w.mu.Unlock()
			_, err := w.conn.Write(out)
			w.mu.Lock()
			w.answers -= answers
			if cap(out) <= 1<<20 {
				w.spare = out[:0]
			}
			if err != nil {
				w.err = err
				w.buf, w.answers = nil, 0
			}
			w.cond.Broadcast()
		}
		w.busy = false
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

// writeWithRights writes frame with descriptors (SCM_RIGHTS) directly,
// after everything queued before it.
func (w *writer) writeWithRights(frame, oob []byte) error {
	w.mu.Lock()
	for (w.busy || len(w.buf) > 0) && !w.stopped && w.err == nil {
		w.cond.Wait()
	}
	if err := w.stateErr(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.busy = true
	w.mu.Unlock()
	n, _, err := w.conn.WriteMsgUnix(frame, oob, nil)
	if err == nil && n < len(frame) {
		_, err = w.conn.Write(frame[n:])
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.busy = false
	if len(w.buf) > 0 && w.err == nil && !w.ended {
		w.busy = true
		w.wake <- struct{}{}
	}
	w.cond.Broadcast()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}

// close stops accepting frames, waits (at most timeout) for the queued
// ones to be written, and stops the writer goroutine.
func (w *writer) close(timeout time.Duration) {
	w.mu.Lock()
	w.stopped = true
	w.cond.Broadcast()
	if w.busy || len(w.buf) > 0 {
		t := time.AfterFunc(timeout, func() { w.conn.SetWriteDeadline(time.Now()) })
		for (w.busy || len(w.buf) > 0) && w.err == nil {
			w.cond.Wait()
		}
		t.Stop()
	}
	w.stopLocked()
	w.mu.Unlock()
}

// shut stops accepting frames at once: the peer is gone.
func (w *writer) shut() {
	w.mu.Lock()
	w.stopped = true
	w.cond.Broadcast()
	if !w.busy {
		w.stopLocked()
	} else {
		// The write in progress fails on the closed socket; then stop.
		go func() {
			w.mu.Lock()
			for w.busy {
				w.cond.Wait()
			}
			w.stopLocked()
			w.mu.Unlock()
		}()
	}
	w.mu.Unlock()
}

// stopLocked ends the writer goroutine once; w.mu is held and no write is
// in progress.
func (w *writer) stopLocked() {
	if !w.ended {
		close(w.wake)
		w.ended = true
	}
}
