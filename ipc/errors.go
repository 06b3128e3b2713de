package ipc

import (
	"errors"
	"strconv"
)

// Sentinel causes of a *ProtocolError, for errors.Is. ErrBadHandle is
// also the cause when the peer sends handle messages without reading
// their answers (see the package doc).
var (
	ErrTooLarge  = errors.New("message larger than MaxMessageSize")
	ErrMalformed = errors.New("malformed message")
	ErrTruncated = errors.New("channel closed in the middle of a message")
	ErrBadHandle = errors.New("malformed handle message")
)

// ErrClosed is returned by Send after the channel was closed or the peer
// went away (Node's ERR_IPC_CHANNEL_CLOSED).
var ErrClosed = errors.New("ipc: channel closed")

// ErrNoChannel is returned by Parent when this process was not started
// with an IPC channel.
var ErrNoChannel = errors.New("ipc: no channel: NODE_CHANNEL_FD is not set")

// ErrUnsupported is returned for a serialization that has no Codec, and
// for handle passing where the platform cannot do it.
var ErrUnsupported = errors.New("ipc: not supported")

// ErrNotSerializable is returned by Send for a value the codec cannot
// encode (a func, a channel, a cycle), like Node's ERR_INVALID_ARG_TYPE.
var ErrNotSerializable = errors.New("ipc: value cannot be serialized")

// ProtocolError reports bytes from the peer that break the protocol. The
// channel is closed when Recv returns one.
type ProtocolError struct {
	Offset int64  // byte offset in the stream where the bad message starts
	Reason string // what was wrong, in words
	Err    error  // ErrTooLarge, ErrMalformed, ErrTruncated or ErrBadHandle
}

func (e *ProtocolError) Error() string {
	return "ipc: protocol error at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
}

// Unwrap returns the sentinel cause.
func (e *ProtocolError) Unwrap() error { return e.Err }

// errCtrunc marks a read whose descriptors did not all fit.
var errCtrunc = errors.New("descriptors truncated")
