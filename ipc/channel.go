package ipc

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxMessageSize is the largest message a Channel accepts unless
// Options.MaxMessageSize says otherwise. Node has no limit; 64 MiB keeps a
// runaway or hostile peer from taking the receiver's memory.
const DefaultMaxMessageSize = 64 << 20

// socketBuffer is the send buffer a Channel asks of its socket.
const socketBuffer = 1 << 20

// DefaultQueueLen is how many received messages wait for Recv before the
// channel stops reading the socket.
const DefaultQueueLen = 256

// DefaultQueueBytes is how many bytes of received messages wait for Recv
// before the channel stops reading the socket.
const DefaultQueueBytes = 16 << 20

// ackSlack: while a handle waits for its acknowledgement, reading goes on
// past QueueLen until the queue holds this many times QueueBytes, so that
// a caller who sends a handle before receiving what came is not
// deadlocked.
const ackSlack = 4

// DefaultSpinWait is how long Recv keeps trying the socket, without
// parking, for the answer to a message just sent (Options.SpinWait).
const DefaultSpinWait = 50 * time.Microsecond

// Options configures a Channel. The zero value is Node's defaults.
type Options struct {
	// Serialization names the codec: "json" (the default, ""),
	// "advanced" or one added with RegisterCodec.
	Serialization string
	// MaxMessageSize bounds one incoming message, in bytes of its frame;
	// 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// QueueLen is how many received messages may wait for Recv before
	// the channel stops reading the socket (one read of up to 64 KiB may
	// bring more); 0 means DefaultQueueLen.
	QueueLen int
	// QueueBytes bounds the bytes of the messages waiting for Recv the
	// same way (one message larger than that is still taken); 0 means
	// DefaultQueueBytes. A receiver nobody reads holds at most about
	// QueueBytes plus one MaxMessageSize message in the making.
	QueueBytes int
	// PeerDone, when set, is closed once the peer process has ended (a
	// parent sets it to its child's exit). From then on the channel
	// reads what the peer left in the socket past QueueLen and QueueBytes
	// (up to four times QueueBytes; what a dead peer left is bounded by
	// the socket's buffers), so the channel's end (Disconnected, Node's
	// 'disconnect') is seen even while messages wait for Recv; they stay
	// receivable. Only a process that inherited the peer's end and goes
	// on writing can fill those four times QueueBytes.
	PeerDone <-chan struct{}
	// SpinWait bounds how long a Recv that follows a lone Send (a request
	// awaiting its answer) tries the socket again and again before it
	// parks its goroutine in Go's network poller; 0 means
	// DefaultSpinWait, a negative value turns spinning off. Waking a
	// parked goroutine costs more than a quick answer takes (Go's poller
	// and scheduler wake-ups), so a round trip to a prompt peer is about
	// three times faster with it. The spinning adapts: once a wait
	// outlasted SpinWait, Recv parks at once until a wait shows an answer
	// came within it again. It never happens when GOMAXPROCS is 1.
	SpinWait time.Duration
}

// Channel is one end of an IPC channel. Send, Recv and Close may be
// called from any goroutine; messages from one sending goroutine arrive
// in the order sent.
type Channel struct {
	conn  *net.UnixConn
	codec Codec
	max   int

	acks chan string   // NODE_HANDLE_ACK / NACK for a waiting SendHandle
	done chan struct{} // reading has ended: Node's 'disconnect'

	// Reading. Whoever holds rsem reads the socket and parses what came:
	// a Recv call, so that a message costs no hand-off between goroutines,
	// or, when no Recv has been waiting for a while, the background reader,
	// so that protocol messages are answered and the peer's EOF is seen.
	rsem    chan struct{} // a semaphore of 1: unlike a mutex, waiting for it can be cancelled
	rs      readState     // guarded by rsem
	bgHolds atomic.Bool   // the background reader holds rsem
	bgTimer *time.Timer   // wakes the background reader when Recv has gone idle
	recvers atomic.Int32  // Recv calls in progress
	recvSeq atomic.Int64  // Recv calls returned so far
	// recvAhead is when the last Recv returned leaving messages waiting
	// (monoNow), or 0 if it took the last: see answering.
	recvAhead atomic.Int64
	answerFor time.Duration // answerWindow (tests make it longer)

	spinWait time.Duration // Options.SpinWait, or 0 when spinning is off
	spinOff  atomic.Bool   // the last spin found nothing: park until a wait shows spinning would pay

	// The queue of user messages read and not yet received.
	qmu   sync.Mutex
	qcond sync.Cond
	q     []Message
	qh    int // q[qh:] are waiting
	qlen  int // reading pauses while this many wait
	qsize int // bytes of the messages waiting
	qfds  int // messages waiting that carry a descriptor
	qmax  int // reading pauses while this many bytes wait
	ended bool
	err   error // why reading ended, when it was not EOF or Close

	local     atomic.Bool // Close was called
	closeOnce sync.Once

	order    sync.Mutex      // held from a handle's send to its ACK: later sends wait, as Node queues them
	acking   atomic.Bool     // a handle waits for its ACK: reading goes on past the queue's bounds (ackSlack)
	peerDone <-chan struct{} // Options.PeerDone
	w        writer
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// NewChannel makes a Channel of conn, which it then owns.
func NewChannel(conn *net.UnixConn, opts *Options) (*Channel, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	codec, ok := LookupCodec(o.Serialization)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("%w: serialization %q has no codec (registered: %s)", ErrUnsupported, o.Serialization, strings.Join(Codecs(), ", "))
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	o.QueueBytes = min(o.QueueBytes, math.MaxInt/ackSlack) // ackSlack times it must not overflow
	switch {
	case o.SpinWait < 0 || runtime.GOMAXPROCS(0) == 1:
		o.SpinWait = 0 // the peer needs the only CPU
	case o.SpinWait == 0:
		o.SpinWait = DefaultSpinWait
	}
	ch := &Channel{
		conn:      conn,
		codec:     codec,
		max:       o.MaxMessageSize,
		qlen:      o.QueueLen,
		qmax:      o.QueueBytes,
		peerDone:  o.PeerDone,
		spinWait:  o.SpinWait,
		answerFor: answerWindow,
		rsem:      make(chan struct{}, 1),
		acks:      make(chan string, 1),
		done:      make(chan struct{}),
	}
	// A deeper socket buffer than the default (about 200 KiB) lets a
	// streaming sender and its reader wake each other less often; the
	// kernel charges it only while bytes wait in it.
	conn.SetWriteBuffer(socketBuffer)
	ch.qcond.L = &ch.qmu
	ch.bgTimer = time.AfterFunc(time.Hour, ch.wakeBackground)
	ch.bgTimer.Stop()
	ch.rs.init(codec)
	ch.w.init(conn)
	go ch.background()
	if o.PeerDone != nil {
		go func() {
			select {
			case <-o.PeerDone:
				ch.wakeBackground() // it may be waiting for room in the queue
			case <-ch.done:
			}
		}()
	}
	return ch, nil
}

// NewFile makes a Channel of a socket file (the parent's end of a
// socketpair, or the fd named by NODE_CHANNEL_FD). It takes f over:
// f is closed, the Channel keeps its own descriptor.
func NewFile(f *os.File, opts *Options) (*Channel, error) {
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("%w: the channel must be an AF_UNIX stream socket", ErrUnsupported)
	}
	return NewChannel(uc, opts)
}

// Codec returns the channel's serialization.
func (ch *Channel) Codec() Codec { return ch.codec }

// Send sends msg: any value the codec can encode (for "json", anything
// encoding/json can marshal; a json.RawMessage goes out as it is, once
// checked to be one JSON value). A value that cannot be encoded is an
// ErrNotSerializable error, and nothing is sent. Send writes the frame,
// or queues it for the channel's writer, and returns; it blocks while
// more than HighWater bytes wait to be written, so the peer's reading
// sets the pace. A frame sent just after a Recv that left messages
// waiting is held for the next Recv that finds none, to go out with the
// answers to them, for 500 µs at most (see the package doc). Frames go out whole and in the order of the Send calls that
// queued them. Send returns an error wrapping ErrClosed once the channel
// is closed, or after a write failed (the peer is gone).
func (ch *Channel) Send(msg any) error { return ch.SendContext(context.Background(), msg) }

// SendContext is Send with a bound on its wait for room: when ctx is done
// while more than HighWater bytes wait to be written, it returns ctx's
// error and msg is not sent.
func (ch *Channel) SendContext(ctx context.Context, msg any) error {
	return ch.send(ctx, msg, func(frame []byte) error {
		if ch.answering() {
			return ch.w.hold(ctx, frame)
		}
		return ch.w.enqueue(ctx, frame)
	})
}

// SendBatched is SendContext for a sender that has other messages in
// flight and needs no prompt write: a worker's next task while it still
// runs others, say. The frame is never written from the calling
// goroutine; it is left to the channel's writer goroutine, which writes
// it together with what other Sends append meanwhile, in one write. A
// Recv that follows it does not spin (see the package doc's Latency
// section): its answer is not the next thing to come.
func (ch *Channel) SendBatched(ctx context.Context, msg any) error {
	return ch.send(ctx, msg, func(frame []byte) error { return ch.w.batch(ctx, frame) })
}

// send encodes msg into a pooled buffer and hands the frame to put, in
// the order of the calls.
func (ch *Channel) send(ctx context.Context, msg any, put func(frame []byte) error) error {
	bp := framePool.Get().(*[]byte)
	frame, err := ch.codec.AppendFrame((*bp)[:0], msg)
	if err == nil {
		ch.order.Lock()
		err = put(frame)
		ch.order.Unlock()
	}
	if cap(frame) <= 64<<10 {
		*bp = frame[:0]
		framePool.Put(bp)
	}
	return err
}

// answerWindow is how soon after a Recv that left messages waiting a
// Send counts as the answer to it (see answering).
const answerWindow = 50 * time.Microsecond

// answering reports whether the last Recv, a moment ago, left messages
// waiting: a frame sent now likely answers it, and more answers follow, to
// go out together when the next Recv finds nothing waiting.
func (ch *Channel) answering() bool {
	t := ch.recvAhead.Load()
	return t != 0 && monoNow()-t < int64(ch.answerFor)
}

// Recv returns the next message. After the peer has closed the channel
// (or died) it returns the messages that had arrived, then io.EOF; after
// Close, io.EOF at once. Bytes that broke the protocol give a
// *ProtocolError once the messages before them have been returned.
// Cancelling ctx makes a waiting Recv return ctx.Err().
func (ch *Channel) Recv(ctx context.Context) (Message, error) {
	if ch.local.Load() {
		return Message{}, io.EOF
	}
	ch.recvers.Add(1)
	defer ch.recvDone()
	for {
		if m, ok, ended := ch.pop(); ok {
			return m, nil
		} else if ended {
			return Message{}, ch.endErr()
		}
		if err := ctx.Err(); err != nil {
			return Message{}, err
		}
		ch.w.flush() // the answers to the messages handed out
		select {
		case ch.rsem <- struct{}{}:
		default:
			if ch.bgHolds.Load() {
				ch.conn.SetReadDeadline(longAgo) // take the baton from the background reader
			}
			select {
			case ch.rsem <- struct{}{}:
			case <-ctx.Done(): // another Recv is reading
				return Message{}, ctx.Err()
			}
		}
		if ch.queued() {
			<-ch.rsem
			continue
		}
		err := ch.readWith(ctx)
		<-ch.rsem
		if err != nil && ctx.Err() != nil {
			return Message{}, ctx.Err()
		}
	}
}

// recvDone records that a Recv returned. It wakes nobody: the
// background reader looks for itself (see background).
func (ch *Channel) recvDone() {
	ch.recvSeq.Add(1)
	ch.recvers.Add(-1)
}

// wakeBackground wakes the background reader to look again.
func (ch *Channel) wakeBackground() {
	ch.qmu.Lock()
	ch.qcond.Broadcast()
	ch.qmu.Unlock()
}

// readWith reads once, holding rsem, within ctx. It returns a deadline
// error when ctx ended or the baton was taken; other ends of reading are
// recorded by the reader itself.
func (ch *Channel) readWith(ctx context.Context) error {
	d, _ := ctx.Deadline()
	ch.conn.SetReadDeadline(d)
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { ch.conn.SetReadDeadline(longAgo) })
		defer stop()
	}
	if ch.spinWait == 0 {
		_, err := ch.readOnce(0)
		return err
	}
	// Spin when this channel's last act was to write a lone message (a
	// request, or a reply that the peer will likely answer) just now.
	now := monoNow()
	last := ch.w.lone.Load()
	if last == 0 || now-last > int64(ch.spinWait) {
		_, err := ch.readOnce(0)
		return err
	}
	if !ch.spinOff.Load() {
		spun, err := ch.readOnce(ch.spinWait)
		ch.spinOff.Store(!spun)
		return err
	}
	_, err := ch.readOnce(0)
	if monoNow()-now < int64(ch.spinWait) {
		ch.spinOff.Store(false) // the answer came quickly: spin next time
	}
	return err
}

// background reads when Recv has left the socket alone for a while and
// the queue has room, so that a channel nobody reads still answers handle
// messages and sees the peer go. It looks every idleDelay at first, then
// ever less often up to maxIdleCheck while Recv calls keep the socket
// busy, so that a busy channel costs it no wake-up per message: Recv has
// been idle when none is in progress and none has returned since the last
// look.
func (ch *Channel) background() {
	interval := idleDelay
	seen := ch.recvSeq.Load()
	for {
		ch.qmu.Lock()
		if ch.ended {
			ch.qmu.Unlock()
			return
		}
		seq := ch.recvSeq.Load()
		if ch.recvers.Load() > 0 || seq != seen || ch.fullLocked() {
			seen = seq
			ch.bgTimer.Reset(interval)
			ch.qcond.Wait()
			ch.qmu.Unlock()
			interval = min(2*interval, maxIdleCheck)
			continue
		}
		ch.qmu.Unlock()
		interval = idleDelay
		ch.rsem <- struct{}{}
		ch.bgHolds.Store(true)
		ch.conn.SetReadDeadline(time.Time{})
		if ch.recvers.Load() == 0 && !ch.full() {
			ch.readOnce(0)
		}
		ch.bgHolds.Store(false)
		<-ch.rsem
	}
}

// maxIdleCheck bounds how long the background reader waits before it
// looks again whether Recv has gone idle.
const maxIdleCheck = 100 * time.Millisecond

// idleDelay is how long the background reader first leaves the socket to
// Recv after a Recv returned.
const idleDelay = 2 * time.Millisecond

var longAgo = time.Unix(1, 0)

func (ch *Channel) pop() (m Message, ok, ended bool) {
	ch.qmu.Lock()
	defer ch.qmu.Unlock()
	if ch.qh < len(ch.q) {
		m = ch.q[ch.qh]
		ch.q[ch.qh] = Message{}
		ch.qh++
		ch.qsize -= queuedSize(m)
		if m.file != nil {
			ch.qfds--
		}
		if ch.qh == len(ch.q) {
			ch.q, ch.qh = ch.q[:0], 0
			ch.recvAhead.Store(0)
		} else {
			ch.recvAhead.Store(monoNow())
		}
		return m, true, false
	}
	return Message{}, false, ch.ended
}

func (ch *Channel) queued() bool {
	ch.qmu.Lock()
	defer ch.qmu.Unlock()
	return ch.qh < len(ch.q) || ch.ended
}

// full reports whether reading should pause (fullLocked) or has ended.
func (ch *Channel) full() bool {
	ch.qmu.Lock()
	defer ch.qmu.Unlock()
	return ch.ended || ch.fullLocked()
}

// queuedSize is what a waiting message counts against QueueBytes: its
// bytes and what holding it costs besides.
func queuedSize(m Message) int { return len(m.raw) + 64 }

// fullLocked reports whether reading should pause for Recv to catch up:
// once QueueLen messages or QueueBytes wait, or QueueLen descriptors
// whatever else. While a handle waits for its ACK, and once the peer is
// known to be gone (PeerDone), reading goes on up to ackSlack times
// QueueBytes, so that the ACK, or the end of the stream, is seen.
func (ch *Channel) fullLocked() bool {
	if ch.qfds >= ch.qlen {
		return true
	}
	if ch.acking.Load() || ch.peerGone() {
		return ch.qsize >= ackSlack*ch.qmax
	}
	return len(ch.q)-ch.qh >= ch.qlen || ch.qsize >= ch.qmax
}

// peerGone reports whether Options.PeerDone has been closed.
func (ch *Channel) peerGone() bool {
	select {
	case <-ch.peerDone:
		return true
	default:
		return false
	}
}

// push queues a received user message.
func (ch *Channel) push(m Message) {
	ch.w.received()
	ch.qmu.Lock()
	if len(ch.q) == cap(ch.q) && ch.qh > 0 {
		// Reuse the room of the messages taken, so that a queue that
		// never empties grows to what waits in it, not to what came.
		n := copy(ch.q, ch.q[ch.qh:])
		clear(ch.q[n:])
		ch.q, ch.qh = ch.q[:n], 0
	}
	ch.q = append(ch.q, m)
	ch.qsize += queuedSize(m)
	if m.file != nil {
		ch.qfds++
	}
	ch.qmu.Unlock()
}

// end records that reading has ended, with a protocol error or nil, and
// releases what reading held. It runs once, from a reader holding rsem.
func (ch *Channel) end(err error) {
	ch.qmu.Lock()
	if ch.ended {
		ch.qmu.Unlock()
		return
	}
	ch.ended = true
	ch.err = err
	ch.bgTimer.Stop()
	ch.qcond.Broadcast()
	ch.qmu.Unlock()
	ch.rs.release()
	ch.w.shut() // the peer is gone: sends fail from now on
	ch.conn.Close()
	close(ch.done)
}

func (ch *Channel) endErr() error {
	ch.qmu.Lock()
	defer ch.qmu.Unlock()
	if ch.err != nil && !ch.local.Load() {
		return ch.err
	}
	return io.EOF
}

// Close closes the channel: Node's disconnect(). Frames already sent are
// written first (for a few seconds at most, if the peer does not read);
// then the socket is closed and the peer reads EOF. Messages not yet
// received are dropped, their handles closed. Close returns ErrClosed if
// the channel had already been closed, by either side (Node's
// ERR_IPC_DISCONNECTED); it releases everything all the same.
func (ch *Channel) Close() error {
	err := ErrClosed
	ch.closeOnce.Do(func() {
		select {
		case <-ch.done: // the peer went first
		default:
			err = nil
		}
		ch.local.Store(true)
		ch.w.close(flushTimeout)
		ch.conn.SetReadDeadline(longAgo)
		if cerr := ch.conn.Close(); err == nil && cerr != nil {
			err = cerr
		}
		ch.rsem <- struct{}{}
		ch.end(nil)
		<-ch.rsem
	})
	<-ch.done
	ch.qmu.Lock()
	for _, m := range ch.q[ch.qh:] {
		if m.file != nil {
			m.file.Close()
		}
	}
	ch.q, ch.qh, ch.qsize, ch.qfds = nil, 0, 0, 0
	ch.qmu.Unlock()
	return err
}

// Disconnected is closed when the channel has closed, by either side or
// because the peer died (Node's 'disconnect').
func (ch *Channel) Disconnected() <-chan struct{} { return ch.done }

// Connected reports whether messages can still be sent and received.
func (ch *Channel) Connected() bool {
	select {
	case <-ch.done:
		return false
	default:
		return !ch.local.Load()
	}
}

// Err returns the protocol error that ended the channel, or nil.
func (ch *Channel) Err() error {
	select {
	case <-ch.done:
		return ch.err
	default:
		return nil
	}
}
