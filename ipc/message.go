package ipc

import (
	"net"
	"os"
)

// Message is one message received on a Channel. Its bytes are its own
// (not shared with the channel's buffers), and it may carry a handle: see
// File.
type Message struct {
	raw    []byte
	codec  Codec
	file   *os.File
	handle string
}

// Bytes returns the message as it was on the wire, without its framing:
// for "json", its JSON text; for "advanced", V8's serialization (the
// version header, then the value), which RawValue sends again as it is.
func (m Message) Bytes() []byte { return m.raw }

// String returns the message's bytes as a string.
func (m Message) String() string { return string(m.raw) }

// Decode decodes the message into v with the channel's codec.
func (m Message) Decode(v any) error {
	if m.codec == nil { // the zero Message
		return JSON.Unmarshal(m.raw, v)
	}
	return m.codec.Unmarshal(m.raw, v)
}

// File returns the handle sent with the message (Node's sendHandle), or
// nil. The caller owns it and must close it, or turn it into a listener
// or connection with Listener or Conn.
func (m Message) File() *os.File { return m.file }

// HandleType returns the handle's kind as the sender named it, or ""
// without a handle: "net.Server" (a listener), "net.Socket" (a
// connection), "dgram.Socket" or "dgram.Native" (a UDP socket),
// "net.Native" (a raw TCP socket or a pipe).
func (m Message) HandleType() string { return m.handle }

// Listener turns the handle into a net.Listener and closes the file.
func (m Message) Listener() (net.Listener, error) {
	if m.file == nil {
		return nil, os.ErrInvalid
	}
	defer m.file.Close()
	return net.FileListener(m.file)
}

// PacketConn turns the handle into a net.PacketConn (a "dgram" handle)
// and closes the file.
func (m Message) PacketConn() (net.PacketConn, error) {
	if m.file == nil {
		return nil, os.ErrInvalid
	}
	defer m.file.Close()
	return net.FilePacketConn(m.file)
}

// Conn turns the handle into a net.Conn and closes the file.
func (m Message) Conn() (net.Conn, error) {
	if m.file == nil {
		return nil, os.ErrInvalid
	}
	defer m.file.Close()
	return net.FileConn(m.file)
}
