package ipc

import (
	"errors"
	"fmt"
	"syscall"
)

// maxRetransmits is how often a handle is sent again after a NACK, as in Node.
const maxRetransmits = 3

// ErrHandleNotReceived is returned by SendHandle when the peer answered
// every try with NODE_HANDLE_NACK.
var ErrHandleNotReceived = errors.New("ipc: handle not received by the peer")

// SendHandle sends msg together with a handle, Node's send(msg, handle):
// h is a *net.TCPListener or *net.UnixListener, a *net.TCPConn,
// *net.UnixConn or *net.UDPConn, or an *os.File holding a socket or a
// pipe; anything with a SyscallConn method will do. Its kind is read
// from the descriptor and named as Node names it:
//
//	listening stream socket  "net.Server"   (Node: net.Server)
//	other stream socket      "net.Socket"   (Node: net.Socket)
//	datagram socket          "dgram.Native" (Node: a raw UDP handle)
//	pipe                     "net.Native"   (Node: a raw Pipe handle)
//
// Regular files and devices are refused with ErrUnsupported: libuv cannot
// wrap them, and a Node process sent one aborts.
//
// The peer receives its own descriptor for the same socket or pipe; h
// stays open on this side (Node's keepOpen), for the caller to close.
// SendHandle returns once the peer has acknowledged the handle
// (NODE_HANDLE_ACK); sends from other goroutines wait meanwhile, so they
// arrive after it, as in Node. A NODE_HANDLE_NACK makes it send again, up
// to 3 times, then it returns ErrHandleNotReceived. The acknowledgement
// is read by Recv or, when no Recv is waiting, by the channel's
// background reader, which meanwhile reads on past the queue's bounds
// (up to four times QueueBytes, whatever QueueLen), so a caller may send a
// handle before receiving what has come; a peer that sends more than
// that without acknowledging keeps SendHandle waiting until Recv makes
// room.
func (ch *Channel) SendHandle(msg any, h any) error {
	if !canPassHandles {
		return fmt.Errorf("%w: handles cannot be passed on this platform", ErrUnsupported)
	}
	typ, rc, err := handleConn(h)
	if err != nil {
		return err
	}
	frame, err := ch.codec.AppendInternal(nil, cmdHandle, typ, msg)
	if err != nil {
		return err
	}
	ch.order.Lock()
	defer ch.order.Unlock()
	ch.acking.Store(true)
	defer ch.acking.Store(false)
	ch.wakeBackground() // it may be waiting for room in the queue
	select {            // drop a stale answer
	case <-ch.acks:
	default:
	}
	for try := 0; try <= maxRetransmits; try++ {
		var werr error
		cerr := rc.Control(func(fd uintptr) { werr = ch.w.writeWithRights(frame, rights(int(fd))) })
		if err := errors.Join(cerr, werr); err != nil {
			return err
		}
		select {
		case ans := <-ch.acks:
			if ans == cmdHandleAck {
				return nil
			}
		case <-ch.done:
			return ErrClosed
		}
	}
	return ErrHandleNotReceived
}

// handleConn returns Node's type name for h and access to its descriptor
// (without changing its blocking mode, which os.File.Fd would do).
func handleConn(h any) (string, syscall.RawConn, error) {
	sc, ok := h.(syscall.Conn)
	if !ok {
		return "", nil, fmt.Errorf("%w: cannot send a %T as a handle", ErrUnsupported, h)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return "", nil, err
	}
	var typ string
	var terr error
	if err := rc.Control(func(fd uintptr) { typ, terr = fileHandleType(int(fd)) }); err != nil {
		return "", nil, err
	}
	return typ, rc, terr
}
