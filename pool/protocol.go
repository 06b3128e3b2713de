package pool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/childproc/childproc/ipc"
)

// The pool protocol: JSON objects on Node's IPC channel whose "pool"
// field names their kind (see the package doc).
const (
	kindReady   = "ready"   // worker → pool: it can take tasks
	kindTask    = "task"    // pool → worker: run value as task id
	kindCancel  = "cancel"  // pool → worker: the caller of task id gave up
	kindResult  = "result"  // worker → pool: task id returned value
	kindError   = "error"   // worker → pool: task id failed with error
	kindRecycle = "recycle" // worker → pool: replace me once my tasks are done
)

// message is any pool message, as it is on the wire.
type message struct {
	Pool     string          `json:"pool"`
	ID       *uint64         `json:"id,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	Error    *wireError      `json:"error,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Protocol int             `json:"protocol,omitempty"`
}

// wireError is the "error" of an error message.
type wireError struct {
	Message string `json:"message"`
	Name    string `json:"name,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

// appendValueMessage appends a message of kind (task or result) for id
// that carries v, encoded as the channel encodes values
// (JSON.stringify's bytes), as its value.
func appendValueMessage(b []byte, kind string, id uint64, v any) ([]byte, error) {
	b = slices.Grow(b, smallMessage)
	b = append(appendHead(b, kind, id), `,"value":`...)
	b, err := ipc.JSON.AppendFrame(b, v)
	if err != nil {
		return nil, err
	}
	b[len(b)-1] = '}' // in place of the frame's '\n'
	return b, nil
}

// smallMessage is the room a message is given before its value is
// encoded: enough for an id and a small value, so that they take one
// allocation.
const smallMessage = 64

// appendIDMessage appends a message of kind that carries only an id
// (cancel).
func appendIDMessage(b []byte, kind string, id uint64) []byte {
	return append(appendHead(b, kind, id), '}')
}

// appendHead appends the start of a message of kind for id, up to the
// id's last digit.
func appendHead(b []byte, kind string, id uint64) []byte {
	b = append(b, `{"pool":"`...)
	b = append(b, kind...)
	b = append(b, `","id":`...)
	return strconv.AppendUint(b, id, 10)
}

// parseMessage reads one message received on the channel: one valid
// JSON text, as the channel hands out (a frame that is not ends the
// channel before it reaches the pool). It reports
// ok false for a message that is not the pool's (not an object, no
// "pool" string, or a kind it does not know): such messages are
// ignored. A pool message with fields of the wrong form is an error
// wrapping ErrProtocol.
func parseMessage(b []byte) (message, bool, error) {
	if m, ok := parseFast(b); ok {
		return m, true, nil
	}
	return parseSlow(b)
}

// parseSlow is parseMessage for the forms parseFast does not read.
func parseSlow(b []byte) (m message, ok bool, err error) {
	var probe struct {
		Pool json.RawMessage `json:"pool"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return m, false, nil // not an object
	}
	var kind string
	if json.Unmarshal(probe.Pool, &kind) != nil || !knownKind(kind) {
		return m, false, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false, fmt.Errorf("%w: %q message: %v", ErrProtocol, kind, err)
	}
	if err := m.check(); err != nil {
		return m, false, err
	}
	return m, true, nil
}

func knownKind(k string) bool {
	switch k {
	case kindReady, kindTask, kindCancel, kindResult, kindError, kindRecycle:
		return true
	}
	return false
}

// check refuses a pool message that lacks a field its kind needs.
func (m *message) check() error {
	switch m.Pool {
	case kindTask, kindCancel, kindResult, kindError:
		if m.ID == nil {
			return fmt.Errorf("%w: %q message without an id", ErrProtocol, m.Pool)
		}
	}
	if m.Pool == kindError && m.Error == nil {
		return fmt.Errorf("%w: error message without an error", ErrProtocol)
	}
	if len(m.Value) == 0 {
		m.Value = null
	}
	return nil
}

var null = json.RawMessage("null")

// parseFast reads the task and result messages in the exact form
// appendValueMessage writes them, without a JSON decoder, from
// b, a valid JSON text. It reports false for any other form, which
// parseMessage then reads.
func parseFast(b []byte) (message, bool) {
	var m message
	var rest []byte
	switch {
	case bytes.HasPrefix(b, []byte(`{"pool":"result","id":`)):
		m.Pool, rest = kindResult, b[len(`{"pool":"result","id":`):]
	case bytes.HasPrefix(b, []byte(`{"pool":"task","id":`)):
		m.Pool, rest = kindTask, b[len(`{"pool":"task","id":`):]
	default:
		return m, false
	}
	var id uint64
	n := 0
	for ; n < len(rest) && n < 16 && rest[n] >= '0' && rest[n] <= '9'; n++ {
		id = id*10 + uint64(rest[n]-'0') // 16 digits at most: no overflow
	}
	if n == 0 || (n > 1 && rest[0] == '0') {
		return m, false
	}
	rest = rest[n:]
	if !bytes.HasPrefix(rest, []byte(`,"value":`)) || rest[len(rest)-1] != '}' {
		return m, false
	}
	value := bytes.TrimSpace(rest[len(`,"value":`) : len(rest)-1])
	if len(value) == 0 || !lastMember(value) {
		return m, false // more fields follow the value
	}
	m.ID, m.Value = &id, value
	return m, true
}

// lastMember reports whether b, the text of a valid JSON object from a
// member's value to just before the object's closing brace, holds that
// value alone: no comma follows it outside strings and nested values.
func lastMember(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			if depth == 0 {
				return false
			}
		}
	}
	return true
}
