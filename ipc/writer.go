package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
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

// holdDelay bounds how long a frame may be held back for a Recv to send
// it (see writer.hold): a program that receives several messages in one
// read and answers each gets one write for the answers, and an answer held
// while its sender went on to other work goes out within holdDelay. One
// timer serves all holds of a holdDelay: setting a timer for each would
// cost a wake-up of an idle thread for each batch.
const holdDelay = 500 * time.Microsecond

// clockBase is the origin of monoNow: a second before the package was
// initialised, so that monoNow is never 0, which the stamps of a
// channel use for "never".
var clockBase = time.Now().Add(-time.Second)

// monoNow returns the time since clockBase in nanoseconds. It reads the
// monotonic clock only, where time.Now reads the wall clock too: the
// stamps a channel takes for each message need only compare.
func monoNow() int64 { return int64(time.Since(clockBase)) }

// holdMax is how many bytes of held frames are written out at once rather
// than held for more.
const holdMax = 64 << 10

// maxInlineRounds bounds the writes a Send makes from its own goroutine:
// its frame, then the frames that other Sends appended while it wrote.
// What comes after is left to the writer goroutine.
const maxInlineRounds = 4

// writer owns the writing side of a channel's socket. Send appends frames
// to buf; frames go out in the order they were appended, whole. A Send
// that finds no write in progress writes from its own goroutine (with what
// was held, and then what other Sends appended meanwhile), so that a lone
// message costs no hand-off between goroutines; frames that follow each
// other closely from a streaming sender are left to one goroutine that
// writes out everything that has piled up at once, and frames sent while
// the receiving side has messages still to hand out are held until the
// next Recv has nothing left (see hold).
type writer struct {
	conn      *net.UnixConn
	mu        sync.Mutex
	cond      sync.Cond
	buf       []byte // frames waiting: for the write in progress to take them, or held (no write in progress)
	spare     []byte // the other buffer, swapped with buf for each write
	busy      bool   // a write is in progress (by a Send, the goroutine or a handle send)
	stopped   bool   // no more frames are accepted
	err       error  // the write error that stopped the writer
	wake      chan struct{}
	last      atomic.Int64  // when a frame was last written directly (monoNow); 0 after a receive
	lone      atomic.Int64  // when the last direct write carried one frame alone (a request, or an answer the peer may answer), monoNow; 0 after another write or a receive
	ended     bool          // wake is closed: the goroutine has been told to end
	answers   int           // protocol answers in buf or in the write in progress: not yet taken by the socket
	holdTimer *time.Timer   // sends the frames held when it fires
	holdFor   time.Duration // holdDelay (tests make it longer)
	armed     bool          // holdTimer is set
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
	w.holdFor = holdDelay
	w.holdTimer = time.AfterFunc(time.Hour, w.holdExpired)
	w.holdTimer.Stop()
	go w.loop(w.wake)
}

// enqueue appends one frame, waiting while the buffer is above HighWater
// until ctx is done.
func (w *writer) enqueue(ctx context.Context, frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.waitRoomLocked(ctx); err != nil {
		return err
	}
	_, err := w.putLocked(frame)
	return err
}

// batch appends one frame for the writer goroutine, waiting while the
// buffer is above HighWater until ctx is done: it never writes from the
// calling goroutine, so that frames sent one after another from several
// goroutines go out in one write. It ends a lone write's claim to the
// next Recv's spin.
func (w *writer) batch(ctx context.Context, frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.admitLocked(ctx); err != nil {
		return err
	}
	w.buf = append(w.buf, frame...)
	w.lone.Store(0)
	w.startLocked()
	return nil
}

// hold appends one frame without writing it, for the next Recv that finds
// no message waiting to write out with the answers that follow it (flush):
// the channel's receiver has more messages to hand out, each likely to be
// answered. Held frames go out within holdDelay whatever happens, and at
// once when holdMax bytes are held or another frame is written. A frame
// sent while a write is in progress goes out with the next one.
func (w *writer) hold(ctx context.Context, frame []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.admitLocked(ctx); err != nil {
		return err
	}
	if w.busy || len(w.buf)+len(frame) > holdMax {
		_, err := w.putLocked(frame)
		return err
	}
	if !w.armed {
		w.holdTimer.Reset(w.holdFor)
		w.armed = true
	}
	w.buf = append(w.buf, frame...)
	return nil
}

// holdExpired sends what is held when holdTimer fires.
func (w *writer) holdExpired() {
	w.mu.Lock()
	w.armed = false
	w.mu.Unlock()
	w.flush()
}

// flush writes out the held frames, if any.
func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.busy && len(w.buf) > 0 && w.stateErr() == nil {
		w.writeLocked(nil)
	}
}

// admitLocked waits for room as waitRoomLocked does, then returns the
// error of a writer that takes no more frames; w.mu is held.
func (w *writer) admitLocked(ctx context.Context) error {
	if err := w.waitRoomLocked(ctx); err != nil {
		return err
	}
	return w.stateErr()
}

// waitRoomLocked waits while HighWater bytes wait to be written, and
// returns ctx's error if ctx is done first; w.mu is held.
func (w *writer) waitRoomLocked(ctx context.Context) error {
	if len(w.buf) < HighWater {
		return nil
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			w.mu.Lock()
			w.cond.Broadcast()
			w.mu.Unlock()
		})
		defer stop()
	}
	for len(w.buf) >= HighWater && !w.stopped && w.err == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.startLocked() // frames held past HighWater: answers, which never wait
		w.cond.Wait()
	}
	return nil
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

// putLocked writes frame, after the held frames, from the calling
// goroutine when no write is in progress and the last frame went out a
// while ago, and queues it otherwise; queued reports whether some of frame
// was left for the writer goroutine. w.mu is held.
func (w *writer) putLocked(frame []byte) (queued bool, err error) {
	if err := w.stateErr(); err != nil {
		return false, err
	}
	if w.busy {
		w.buf = append(w.buf, frame...) // the write in progress takes it
		return true, nil
	}
	now := monoNow()
	if len(w.buf) == 0 && now-w.last.Load() <= batchGap {
		// Frames that follow each other closely are left to the writer
		// goroutine, which sends them in few large writes.
		w.buf = append(w.buf, frame...)
		w.startLocked()
		return true, nil
	}
	w.last.Store(now)
	return w.writeLocked(frame)
}

// writeLocked writes the held frames and frame from the calling
// goroutine, then, for up to maxInlineRounds writes, what other Sends
// appended meanwhile; it leaves to the writer goroutine what the socket
// did not take or what comes after. queued reports whether some of frame
// was left. w.mu is held and no write is in progress; it is unlocked
// during the writes.
func (w *writer) writeLocked(frame []byte) (queued bool, err error) {
	out, answers, ours := frame, 0, false // ours: out is not the caller's memory
	if len(w.buf) > 0 {
		out, answers, ours = append(w.buf, frame...), w.answers, true
		w.buf, w.spare = w.spare[:0], nil
	}
	w.busy = true
	for round := 1; ; round++ {
		w.mu.Unlock()
		n, werr := w.tryWrite(out)
		w.mu.Lock()
		if werr != nil {
			w.fail(werr)
			return false, fmt.Errorf("%w: %w", ErrClosed, werr)
		}
		if n < len(out) { // the socket is full: the goroutine waits for room
			w.buf = append(append([]byte(nil), out[n:]...), w.buf...)
			w.handOffLocked()
			return round == 1, nil
		}
		w.answers -= answers
		if ours {
			w.keepSpare(out)
		}
		w.cond.Broadcast()
		if len(w.buf) == 0 {
			w.busy = false
			w.noteLone(!ours)
			return false, nil
		}
		w.lone.Store(0)
		if round == maxInlineRounds {
			w.busy = false
			w.startLocked()
			return false, nil
		}
		out, answers, ours = w.buf, w.answers, true
		w.buf, w.spare = w.spare[:0], nil
	}
}

// noteLone records whether the write just made carried the caller's
// frame alone (see lone).
func (w *writer) noteLone(alone bool) {
	if alone {
		w.lone.Store(monoNow())
	} else {
		w.lone.Store(0)
	}
}

// keepSpare keeps the memory of a buffer written out for the next swap.
func (w *writer) keepSpare(out []byte) {
	if cap(out) <= 1<<20 && cap(out) > cap(w.spare) {
		w.spare = out[:0]
	}
}

// fail records the write error that stops the writer and drops what
// waits; w.mu is held.
func (w *writer) fail(err error) {
	w.err = err
	w.buf, w.answers, w.busy = nil, 0, false
	w.cond.Broadcast()
}

// startLocked hands the frames in buf to the writer goroutine unless a
// write is in progress; w.mu is held.
func (w *writer) startLocked() {
	if !w.busy && len(w.buf) > 0 && !w.ended {
		w.handOffLocked()
	}
}

// handOffLocked makes the writer goroutine the one write in progress; w.mu
// is held.
func (w *writer) handOffLocked() {
	w.busy = true
	w.wake <- struct{}{}
}

// received notes that a message came in: the next frame is an answer
// and goes out at once.
func (w *writer) received() {
	w.last.Store(0)
	w.lone.Store(0)
}

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
		runtime.Gosched() // let the senders that are ready append theirs first
		w.mu.Lock()
		for len(w.buf) > 0 && w.err == nil {
			out, answers := w.buf, w.answers
			w.buf, w.spare = w.spare[:0], nil
			w.mu.Unlock()
			_, err := w.conn.Write(out)
			w.mu.Lock()
			w.answers -= answers
			w.keepSpare(out)
			if err != nil {
				w.fail(err)
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
		w.startLocked() // held frames go first
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
	if w.err == nil {
		w.startLocked()
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
	w.startLocked() // held frames go out too
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
	w.holdTimer.Stop()
	if !w.ended {
		close(w.wake)
		w.ended = true
	}
}
