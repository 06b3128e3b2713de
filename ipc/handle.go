package ipc

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// maxRetransmits is how often a handle is sent again after a NACK, as in Node.
const maxRetransmits = 3

// ErrHandleNotReceived is returned by SendHandle when the peer answered
// every try with NODE_HANDLE_NACK.
var ErrHandleNotReceived = errors.New("ipc: handle not received by the peer")

// SendHandle sends msg together with a handle, Node's send(msg, handle):
// a *net.TCPListener or *net.UnixListener (Node's net.Server), a
// *net.TCPConn or *net.UnixConn (net.Socket), or an *os.File (net.Native;
// a Node peer accepts only sockets). The peer receives its own descriptor
// for the same socket or file; h stays open on this side (Node's
// keepOpen). It returns once the peer has acknowledged the handle
// (NODE_HANDLE_ACK); sends from other goroutines wait meanwhile, so they
// arrive after it, as in Node.
func (ch *Channel) SendHandle(msg any, h any) error {
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
	select { // drop a stale answer
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
	var typ string
	switch h.(type) {
	case *net.TCPListener, *net.UnixListener:
		typ = "net.Server"
	case *net.TCPConn, *net.UnixConn:
		typ = "net.Socket"
	case *os.File:
		typ = "net.Native"
	default:
		return "", nil, errors.Join(ErrUnsupported, errors.New("ipc: cannot send a handle of this type"))
	}
	sc, ok := h.(syscall.Conn)
	if !ok {
		return "", nil, ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return "", nil, err
	}
	return typ, rc, nil
}
