package ipc

import (
	"errors"
	"io"
	"os"
	"strconv"
)

// Node's protocol messages that childproc handles.
const (
	cmdHandle     = "NODE_HANDLE"
	cmdHandleAck  = "NODE_HANDLE_ACK"
	cmdHandleNack = "NODE_HANDLE_NACK"
)

// handleTypes are the kinds of handle Node sends and accepts.
var handleTypes = map[string]bool{
	"net.Server": true, "net.Socket": true, "net.Native": true,
	"dgram.Socket": true, "dgram.Native": true,
}

// readLoop reads frames until EOF, an error or Close, and hands user
// messages to Recv through the bounded queue.
func (ch *Channel) readLoop() {
	var fds []int // received descriptors not yet matched to a NODE_HANDLE
	defer func() {
		for _, fd := range fds {
			closeFd(fd)
		}
		ch.w.shut() // the peer is gone: sends fail from now on
		ch.conn.Close()
		close(ch.msgs)
		close(ch.done)
	}()
	data := make([]byte, 64<<10)
	oob := make([]byte, oobSize)
	split := ch.codec.NewSplitter()
	var base int64 // stream offset of data[0]
	r, w := 0, 0
	for {
		for r < w {
			payload, n, err := split.Split(data[r:w])
			if err != nil {
				ch.err = &ProtocolError{Offset: base + int64(r), Reason: err.Error(), Err: ErrMalformed}
				return
			}
			if n == 0 {
				break
			}
			if n > ch.max {
				ch.err = &ProtocolError{Offset: base + int64(r), Reason: "message of " + strconv.Itoa(n) + " bytes, more than " + strconv.Itoa(ch.max), Err: ErrTooLarge}
				return
			}
			if !ch.frame(payload, base+int64(r), &fds) {
				return
			}
			r += n
		}
		if w-r > ch.max {
			ch.err = &ProtocolError{Offset: base + int64(r), Reason: "message longer than " + strconv.Itoa(ch.max) + " bytes", Err: ErrTooLarge}
			return
		}
		if r == w {
			base += int64(r)
			r, w = 0, 0
		}
		if w == len(data) {
			if r > 0 {
				copy(data, data[r:w])
				base += int64(r)
				w -= r
				r = 0
			} else {
				grown := make([]byte, min(2*len(data), ch.max+64<<10))
				copy(grown, data[:w])
				data = grown
			}
		}
		n, got, err := readMsg(ch.conn, data[w:], oob)
		w += n
		fds = append(fds, got...)
		if err != nil {
			if ch.local.Load() {
				return
			}
			if errors.Is(err, io.EOF) {
				if w > r {
					ch.err = &ProtocolError{Offset: base + int64(r), Reason: strconv.Itoa(w-r) + " bytes of an unfinished message before EOF", Err: ErrTruncated}
				}
				return
			}
			return // a reset connection ends the channel like EOF
		}
	}
}

// frame handles one frame: a user message goes to the queue, a protocol
// message is answered. It reports whether reading should go on.
func (ch *Channel) frame(payload []byte, offset int64, fds *[]int) bool {
	if !ch.codec.Valid(payload) {
		reason := "not a valid " + ch.codec.Name() + " message"
		if len(payload) == 0 {
			reason = "empty message"
		}
		ch.err = &ProtocolError{Offset: offset, Reason: reason, Err: ErrMalformed}
		return false
	}
	cmd, typ, msg, internal := ch.codec.Internal(payload)
	if !internal {
		return ch.deliver(Message{raw: append([]byte(nil), payload...), codec: ch.codec})
	}
	switch cmd {
	case cmdHandleAck, cmdHandleNack:
		select {
		case ch.acks <- cmd:
		default: // nobody waits for it: a stray answer
		}
	case cmdHandle:
		if len(*fds) == 0 {
			// The handle was lost on the way (Node: MSG_CTRUNC): ask again.
			ch.sendInternal(cmdHandleNack)
			return true
		}
		fd := (*fds)[0]
		*fds = (*fds)[1:]
		if !handleTypes[typ] || msg == nil {
			closeFd(fd)
			ch.err = &ProtocolError{Offset: offset, Reason: "NODE_HANDLE with type " + strconv.Quote(typ) + " and no usable msg", Err: ErrBadHandle}
			return false
		}
		ch.sendInternal(cmdHandleAck)
		f := os.NewFile(uintptr(fd), "handle:"+typ)
		return ch.deliver(Message{raw: append([]byte(nil), msg...), codec: ch.codec, file: f, handle: typ})
	}
	// Other NODE_ messages (cluster, socket lists) are Node's own business.
	return true
}

// deliver queues m for Recv, waiting while the queue is full; that wait
// is what stops reading and pushes back on the sender.
func (ch *Channel) deliver(m Message) bool {
	select {
	case ch.msgs <- m:
		return true
	case <-ch.closed:
		if m.file != nil {
			m.file.Close()
		}
		return false
	}
}

// sendInternal writes a protocol message that bypasses the send order
// (ACK and NACK must get through while a handle send waits).
func (ch *Channel) sendInternal(cmd string) {
	frame, err := ch.codec.AppendInternal(nil, cmd, "", nil)
	if err == nil {
		ch.w.enqueue(frame)
	}
}
