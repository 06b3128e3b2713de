package ipc

import (
	"errors"
	"io"
	"os"
	"strconv"
	"time"
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

// readSize is the size of a channel's read buffer: one read takes up to
// this much (Node reads 64 KiB at a time). For a longer frame the buffer
// grows in Go's heap up to spillSize, and past that the frame goes to a
// spill; after it the buffer is readSize again.
const readSize = 64 << 10

// spillSize is the longest frame read in Go's heap. A longer one is read
// into a spill, mapped for MaxMessageSize+1 bytes and given back when the
// frame is done, so that a frame costs its bytes, not the copies and the
// garbage of a buffer growing to hold it.
const spillSize = 1 << 20

// minRead is the least room a read is given before the buffer is
// compacted or grown.
const minRead = 4 << 10

// maxPendingFds bounds the descriptors received and not yet claimed by a
// NODE_HANDLE line. A Node peer sends one at a time and waits for its
// ACK; more are closed on arrival.
const maxPendingFds = 16

// readState is the reading side of a channel: bytes read and not yet
// parsed, and descriptors received and not yet matched to a NODE_HANDLE.
type readState struct {
	data  []byte // the read buffer, or the spill's memory
	r, w  int    // data[r:w] is unparsed
	base  int64  // stream offset of data[0]
	split Splitter
	oob   []byte
	fds   []int
	spill spill // holds the frame being read when it is longer than spillSize
}

func (rs *readState) init(c Codec) {
	rs.data = make([]byte, readSize)
	rs.oob = make([]byte, oobSize)
	rs.split = c.NewSplitter()
}

// release closes descriptors that never found their message, and lets
// the buffered bytes go.
func (rs *readState) release() {
	for _, fd := range rs.fds {
		closeFd(fd)
	}
	rs.fds = nil
	rs.spill.free()
	rs.data, rs.r, rs.w = nil, 0, 0
}

// makeRoom leaves at least minRead bytes free after data[w] for the next
// read, or as many as a frame of limit bytes can still use: it moves the
// unfinished frame to the front, then grows the buffer, then moves the
// frame to a spill of limit+1 bytes (one more than a frame may have, so
// that a frame too long is known as such having read one byte past the
// limit).
func (rs *readState) makeRoom(limit int) {
	if len(rs.data)-rs.w >= minRead {
		return
	}
	if rs.r > 0 {
		copy(rs.data, rs.data[rs.r:rs.w])
		rs.base += int64(rs.r)
		rs.w -= rs.r
		rs.r = 0
	}
	if len(rs.data)-rs.w >= minRead || rs.spill.holds() {
		return
	}
	size := min(2*len(rs.data), limit+readSize)
	if size > spillSize {
		if mem := rs.spill.alloc(limit + 1); mem != nil {
			copy(mem, rs.data[:rs.w])
			rs.data = mem
			return
		}
	}
	grown := make([]byte, size) // spillSize or less, or where no spill can be mapped
	copy(grown, rs.data[:rs.w])
	rs.data = grown
}

// settle, once the frames read are handled, lets a spill, or a buffer
// grown past spillSize, go when what is left of the unparsed stream fits
// the read buffer again.
func (rs *readState) settle() {
	if rs.r == rs.w {
		rs.base += int64(rs.r)
		rs.r, rs.w = 0, 0
	}
	if len(rs.data) <= spillSize && !rs.spill.holds() || rs.w-rs.r > readSize-minRead {
		return
	}
	data := make([]byte, readSize)
	copy(data, rs.data[rs.r:rs.w])
	rs.base += int64(rs.r)
	rs.w -= rs.r
	rs.r = 0
	rs.spill.free()
	rs.data = data
}

// take returns a copy of payload, of the frame at data[r:], for a message
// to keep. Taken from a spill, the bytes are not in the spill any longer.
func (rs *readState) take(payload []byte) []byte {
	if rs.spill.holds() {
		return rs.spill.moveOut(cap(rs.data)-cap(payload), len(payload)) // payload's offset in data
	}
	return append([]byte(nil), payload...)
}

// readOnce reads what the socket has (waiting if it has nothing, after
// spinning for up to spin) and handles every complete frame. The caller
// holds rsem. It ends the channel on EOF, a protocol error or a broken
// socket, and returns the read's error (a deadline error means only that
// the read was cut short); spun reports whether spinning found the data.
func (ch *Channel) readOnce(spin time.Duration) (spun bool, err error) {
	rs := &ch.rs
	rs.makeRoom(ch.max)
	n, got, spun, err := readMsg(ch.conn, rs.data[rs.w:], rs.oob, spin)
	rs.w += n
	for _, fd := range got {
		if len(rs.fds) < maxPendingFds {
			rs.fds = append(rs.fds, fd)
		} else {
			closeFd(fd) // a peer sending descriptors without NODE_HANDLE lines
		}
	}
	for rs.r < rs.w {
		payload, n, serr := rs.split.Split(rs.data[rs.r:rs.w])
		if serr != nil {
			ch.end(&ProtocolError{Offset: rs.base + int64(rs.r), Reason: serr.Error(), Err: ErrMalformed})
			return spun, serr
		}
		if n == 0 {
			size, ok := declaredSize(rs.split, rs.data[rs.r:rs.w])
			if !ok || size <= ch.max {
				break
			}
			n = size // a frame announced too long is refused before its bytes come
		}
		if n > ch.max {
			ch.end(&ProtocolError{Offset: rs.base + int64(rs.r), Reason: "message of " + strconv.Itoa(n) + " bytes, more than " + strconv.Itoa(ch.max), Err: ErrTooLarge})
			return spun, ErrTooLarge
		}
		if perr := ch.frame(payload, rs.base+int64(rs.r)); perr != nil {
			ch.end(perr)
			return spun, perr
		}
		rs.r += n
	}
	if rs.w-rs.r > ch.max {
		ch.end(&ProtocolError{Offset: rs.base + int64(rs.r), Reason: "message longer than " + strconv.Itoa(ch.max) + " bytes", Err: ErrTooLarge})
		return spun, ErrTooLarge
	}
	rs.settle()
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		if ch.local.Load() {
			ch.end(nil)
		}
	case errors.Is(err, io.EOF) && rs.w > rs.r:
		ch.end(&ProtocolError{Offset: rs.base + int64(rs.r), Reason: strconv.Itoa(rs.w-rs.r) + " bytes of an unfinished message before EOF", Err: ErrTruncated})
	case err == errCtrunc:
		ch.end(&ProtocolError{Offset: rs.base + int64(rs.w), Reason: "more descriptors in one message than a read takes (" + strconv.Itoa(maxRecvFds) + ")", Err: ErrBadHandle})
	default:
		ch.end(nil) // EOF, a reset connection, or Close
	}
	return spun, err
}

// frame handles one frame: a user message goes to the queue, a protocol
// message is answered. A frame that breaks the protocol is an error.
func (ch *Channel) frame(payload []byte, offset int64) *ProtocolError {
	if !ch.codec.Valid(payload) {
		reason := "not a valid " + ch.codec.Name() + " message"
		if len(payload) == 0 {
			reason = "empty message"
		}
		return &ProtocolError{Offset: offset, Reason: reason, Err: ErrMalformed}
	}
	cmd, typ, msg, internal := ch.codec.Internal(payload)
	if !internal {
		ch.push(Message{raw: ch.rs.take(payload), codec: ch.codec})
		return nil
	}
	fds := &ch.rs.fds
	switch cmd {
	case cmdHandleAck, cmdHandleNack:
		select {
		case ch.acks <- cmd:
		default: // nobody waits for it: a stray answer
		}
	case cmdHandle:
		if len(*fds) == 0 {
			// The handle was lost on the way (Node: MSG_CTRUNC): ask again.
			return ch.answer(cmdHandleNack, offset)
		}
		fd := (*fds)[0]
		*fds = (*fds)[1:]
		if !handleTypes[typ] || msg == nil {
			closeFd(fd)
			return &ProtocolError{Offset: offset, Reason: "NODE_HANDLE with type " + strconv.Quote(typ) + " and no usable msg", Err: ErrBadHandle}
		}
		if perr := ch.answer(cmdHandleAck, offset); perr != nil {
			closeFd(fd)
			return perr
		}
		f := os.NewFile(uintptr(fd), "handle:"+typ)
		ch.push(Message{raw: append([]byte(nil), msg...), codec: ch.codec, file: f, handle: typ})
	}
	// Other NODE_ messages (cluster, socket lists) are Node's own business.
	return nil
}

// answer sends a protocol answer (NODE_HANDLE_ACK or NACK) to the handle
// message at offset. Answers bypass the send order (they must get through
// while a handle send waits for its own) and never wait for room, so that
// reading never waits for the peer to read; a peer that leaves
// maxUnreadAnswers of them unread and sends more breaks the protocol.
func (ch *Channel) answer(cmd string, offset int64) *ProtocolError {
	frame, err := ch.codec.AppendInternal(nil, cmd, "", nil)
	if err == nil && ch.w.answer(frame) == errUnreadAnswers {
		return &ProtocolError{Offset: offset, Reason: "handle message after " + strconv.Itoa(maxUnreadAnswers) + " answers the peer has not read", Err: ErrBadHandle}
	}
	return nil
}
