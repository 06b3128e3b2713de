package ipc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// DefaultMaxMessageSize is the largest message a Channel accepts unless
// Options.MaxMessageSize says otherwise. Node has no limit; 64 MiB keeps a
// runaway or hostile peer from taking the receiver's memory.
const DefaultMaxMessageSize = 64 << 20

// DefaultQueueLen is how many received messages wait for Recv before the
// channel stops reading the socket.
const DefaultQueueLen = 256

// Options configures a Channel. The zero value is Node's defaults.
type Options struct {
	// Serialization names the codec: "json" (the default, "") or one
	// added with RegisterCodec.
	Serialization string
	// MaxMessageSize bounds one incoming message, in bytes of its frame;
	// 0 means DefaultMaxMessageSize.
	MaxMessageSize int
	// QueueLen is how many received messages may wait for Recv; 0 means
	// DefaultQueueLen.
	QueueLen int
}

// Channel is one end of an IPC channel. Send, Recv and Close may be
// called from any goroutine; messages from one sending goroutine arrive
// in the order sent.
type Channel struct {
	conn  *net.UnixConn
	codec Codec
	max   int

	msgs   chan Message  // received user messages, closed when reading stops
	acks   chan string   // NODE_HANDLE_ACK / NACK for a waiting SendHandle
	closed chan struct{} // Close was called
	done   chan struct{} // reading has stopped: Node's 'disconnect'
	err    error         // why reading stopped, when it was not EOF or Close

	local     atomic.Bool // Close was called
	closeOnce sync.Once

	order sync.Mutex // held from a handle's send to its ACK: later sends wait, as Node queues them
	w     writer
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
		return nil, errors.Join(ErrUnsupported, errors.New("ipc: unknown serialization "+o.Serialization))
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	ch := &Channel{
		conn:   conn,
		codec:  codec,
		max:    o.MaxMessageSize,
		msgs:   make(chan Message, o.QueueLen),
		acks:   make(chan string, 1),
		closed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	ch.w.init(conn)
	go ch.readLoop()
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
		return nil, errors.Join(ErrUnsupported, errors.New("ipc: the channel must be an AF_UNIX stream socket"))
	}
	return NewChannel(uc, opts)
}

// Codec returns the channel's serialization.
func (ch *Channel) Codec() Codec { return ch.codec }

// Send sends msg: any value the codec can encode (for "json", anything
// encoding/json can marshal), or a json.RawMessage sent as is. Send
// queues the frame for the channel's writer and returns; it blocks while
// more than HighWater bytes wait to be written, so the peer's reading sets
// the pace. It returns ErrClosed once the channel is closed, or after a
// write failed (the peer is gone).
func (ch *Channel) Send(msg any) error {
	bp := framePool.Get().(*[]byte)
	frame, err := ch.codec.AppendFrame((*bp)[:0], msg)
	if err == nil {
		ch.order.Lock()
		err = ch.w.enqueue(frame)
		ch.order.Unlock()
	}
	if cap(frame) <= 64<<10 {
		*bp = frame[:0]
		framePool.Put(bp)
	}
	return err
}

// Recv returns the next message. After the peer has closed the channel
// (or died) it returns the messages that had arrived, then io.EOF; after
// Close, io.EOF at once. Bytes that broke the protocol give a
// *ProtocolError once the messages before them have been returned.
func (ch *Channel) Recv(ctx context.Context) (Message, error) {
	if ch.local.Load() {
		return Message{}, io.EOF
	}
	select {
	case m, ok := <-ch.msgs:
		if ok {
			return m, nil
		}
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
	if ch.err != nil && !ch.local.Load() {
		return Message{}, ch.err
	}
	return Message{}, io.EOF
}

// Close closes the channel: Node's disconnect(). The peer reads EOF.
// Messages not yet received are dropped (their handles closed).
func (ch *Channel) Close() error {
	err := ErrClosed
	ch.closeOnce.Do(func() {
		ch.local.Store(true)
		ch.w.close(flushTimeout) // what was sent goes out first
		close(ch.closed)
		err = ch.conn.Close()
	})
	<-ch.done
	for {
		select {
		case m, ok := <-ch.msgs:
			if !ok {
				return err
			}
			if m.file != nil {
				m.file.Close()
			}
		default:
			return err
		}
	}
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
