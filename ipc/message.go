package ipc

import (
	"net"
	"os"
)

// Message is one message received on a Channel.
type Message struct {
	raw    []byte
	codec  Codec
	file   *os.File
	handle string
}

// Bytes returns the message as it was on the wire, without its framing:
// for "json", its JSON text.
func (m Message) Bytes() []byte { return m.raw }

// String returns the message's bytes as a string.
func (m Message) String() string { return string(m.raw) }

// Decode decodes the message into v with the channel's codec.
func (m Message) Decode(v any) error { return m.codec.Unmarshal(m.raw, v) }

// File returns the handle sent with the message (Node's sendHandle), or
// nil. The caller owns it and must close it, or turn it into a listener
// or connection with Listener or Conn.
func (m Message) File() *os.File { return m.file }

// HandleType returns Node's name for the handle's kind: "net.Server" for
// a listener, "net.Socket" for a connection, "net.Native" for another
// file; "" without a handle.
func (m Message) HandleType() string { return m.handle }

// Listener turns the handle into a net.Listener and closes the file.
func (m Message) Listener() (net.Listener, error) {
	if m.file == nil {
		return nil, os.ErrInvalid
	}
	defer m.file.Close()
	return net.FileListener(m.file)
}

// Conn turns the handle into a net.Conn and closes the file.
func (m Message) Conn() (net.Conn, error) {
	if m.file == nil {
		return nil, os.ErrInvalid
	}
	defer m.file.Close()
	return net.FileConn(m.file)
}
