package ipc

import (
	"sort"
	"sync"
)

// A Codec is one serialization of the channel: how a value becomes a
// frame on the wire and back. Node has "json" (JSON, a line each) and
// "advanced" (V8's serializer, length-prefixed).
type Codec interface {
	// Name is the serialization's name, as in NODE_CHANNEL_SERIALIZATION_MODE.
	Name() string
	// AppendFrame appends the whole frame of v to dst.
	AppendFrame(dst []byte, v any) ([]byte, error)
	// NewSplitter returns a splitter for one incoming stream.
	NewSplitter() Splitter
	// Unmarshal decodes one frame's payload into v.
	Unmarshal(payload []byte, v any) error
	// Valid reports whether payload is one well-formed value.
	Valid(payload []byte) bool
	// Internal reports whether payload is a protocol message (an object
	// whose "cmd" is a string longer than 5 that starts with "NODE_") and
	// if so returns its cmd, its "type" and the payload of its "msg" (a
	// part of payload).
	Internal(payload []byte) (cmd, typ string, msg []byte, ok bool)
	// AppendInternal appends the frame of a protocol message: cmd, then
	// typ and the user message msg when typ is not "" (a NODE_HANDLE).
	AppendInternal(dst []byte, cmd, typ string, msg any) ([]byte, error)
}

// A Splitter cuts a byte stream into frames.
type Splitter interface {
	// Split looks for a complete frame at the start of buf. It returns
	// its payload and the number of bytes it spans, or n == 0 when more
	// bytes are needed. It may remember how far it has looked, so it is
	// called with the same frame start until it returns n > 0.
	Split(buf []byte) (payload []byte, n int, err error)
}

var codecs = struct {
	sync.RWMutex
	m map[string]Codec
}{m: map[string]Codec{}}

// RegisterCodec makes a serialization available by name to Parent and to
// the parent side's Options.Serialization. It replaces a codec of the
// same name.
func RegisterCodec(c Codec) {
	codecs.Lock()
	defer codecs.Unlock()
	codecs.m[c.Name()] = c
}

// LookupCodec returns the codec registered under name ("" means "json").
func LookupCodec(name string) (Codec, bool) {
	if name == "" {
		name = "json"
	}
	codecs.RLock()
	defer codecs.RUnlock()
	c, ok := codecs.m[name]
	return c, ok
}

// Codecs lists the registered serializations.
func Codecs() []string {
	codecs.RLock()
	defer codecs.RUnlock()
	var names []string
	for n := range codecs.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func init() { RegisterCodec(JSON) }
