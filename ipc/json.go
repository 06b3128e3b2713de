package ipc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/childproc/childproc/internal/jsontext"
)

// JSON is Node's default serialization: each message is its JSON text on
// one line, ending in '\n'.
//
// Values are encoded with encoding/json, without HTML escaping and with
// U+2028 and U+2029 as raw UTF-8, so that the bytes are JSON.stringify's
// for the same value (one difference: a negative zero is "-0", which
// JSON.parse reads as -0). A json.RawMessage is validated and sent as is,
// compacted first if it has whitespace between tokens, so that it never
// holds a raw newline.
//
// Incoming lines are parsed as Node parses them: "\r\n" is accepted, and
// so are bytes that are not UTF-8 inside strings (Node makes them U+FFFD);
// an empty line or anything but exactly one JSON value is malformed.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) AppendFrame(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return appendRaw(dst, v)
	case *jsontext.Text: // built by childproc itself, valid and compact already
		dst = append(dst, *v...)
		return append(dst, '\n'), nil
	case string:
		if plainString(v) { // the common case, without encoding/json's byte-by-byte look
			dst = append(dst, '"')
			dst = append(dst, v...)
			return append(dst, '"', '\n'), nil
		}
	}
	if out, ok := appendFast(dst, v); ok {
		return append(out, '\n'), nil
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	start := len(dst)
	e.out = dst
	err := e.enc.Encode(v) // Encode ends the line with '\n'
	out := e.out
	e.out = nil
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrNotSerializable, err)
	}
	return out[:start+unescapeSeparators(out[start:])], nil
}

// An encoder is a json.Encoder that appends JSON.stringify's bytes to out,
// kept in encoders between frames: making one for each frame would cost
// two allocations.
type encoder struct {
	out []byte
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = json.NewEncoder(e)
	e.enc.SetEscapeHTML(false)
	return e
}}

// Write appends p to e.out: the json.Encoder's output.
func (e *encoder) Write(p []byte) (int, error) {
	e.out = append(e.out, p...)
	return len(p), nil
}

// appendRaw appends the frame of a json.RawMessage: the text as is if it
// is one valid JSON value without whitespace between tokens, compacted if
// it has some, an error if it is not JSON.
func appendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	v := validator{data: raw}
	if v.whole() && !v.spaced {
		dst = append(dst, raw...)
		return append(dst, '\n'), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrNotSerializable, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// plainString reports whether s goes into JSON as is between quotes:
// valid UTF-8 with no '"', '\\' or control character.
func plainString(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if special(uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56) {
			break
		}
	}
	for ; i < len(s); i++ {
		if !plain[s[i]] {
			return false
		}
	}
	return utf8.ValidString(s)
}

// unescapeSeparators rewrites the escapes \u2028 and \u2029 in the JSON
// text b (encoding/json always writes them so) as the raw UTF-8 that
// JSON.stringify writes, in place, and returns the new length.
func unescapeSeparators(b []byte) int {
	if !bytes.Contains(b, sepEscape) {
		return len(b)
	}
	// Walk the escapes from the first backslash: the one found above may
	// itself follow an escaped backslash ("\\u2028" is not an escape).
	i := bytes.IndexByte(b, '\\')
	w := i
	for i < len(b) {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			b[w] = c
			i++
			w++
			continue
		}
		if i+6 <= len(b) && string(b[i:i+5]) == `\u202` && (b[i+5] == '8' || b[i+5] == '9') {
			w += copy(b[w:], "\u2028")
			if b[i+5] == '9' {
				b[w-1] = 0xa9
			}
			i += 6
			continue
		}
		// Another escape: copy it whole, so that the backslash of "\\"
		// is not taken for the start of the next one.
		b[w], b[w+1] = b[i], b[i+1]
		i += 2
		w += 2
	}
	return w
}

var sepEscape = []byte(`\u202`)

func (jsonCodec) NewSplitter() Splitter { return &lineSplitter{} }

func (jsonCodec) Unmarshal(payload []byte, v any) error {
	if decodeFast(payload, v) {
		return nil
	}
	return json.Unmarshal(payload, v)
}

func (jsonCodec) Valid(payload []byte) bool { return validJSON(payload) }

var nodePrefix = []byte(`NODE_`)

func (jsonCodec) Internal(payload []byte) (cmd, typ string, msg []byte, ok bool) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", "", nil, false
	}
	// Only an object that holds "NODE_", or escapes that could spell it
	// ("NODE\u005fX" is internal to JSON.parse too), is looked into.
	if !bytes.Contains(payload, nodePrefix) && bytes.IndexByte(payload, '\\') < 0 {
		return "", "", nil, false
	}
	cmdRaw, typRaw, msg, object := protocolMembers(payload)
	if !object {
		return "", "", nil, false
	}
	cmd, ok = jsonString(cmdRaw)
	if !ok || len(cmd) <= 5 || cmd[:5] != "NODE_" {
		return "", "", nil, false
	}
	typ, _ = jsonString(typRaw)
	return cmd, typ, msg, true
}

// jsonString decodes raw as a JSON string. It keeps its result in a
// variable of its own, so that Internal's results, whose addresses would
// otherwise go to encoding/json, are not moved to the heap for every
// message, internal or not.
func jsonString(raw []byte) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// protocolMembers returns the raw values of the members "cmd", "type"
// and "msg" of the object payload holds, walking it without a copy of
// any value; object is false when payload is not exactly one JSON object.
// Keys are matched exactly once unescaped, as in JavaScript (encoding/json's
// struct matching would ignore case); the last duplicate wins, as in
// JSON.parse.
func protocolMembers(payload []byte) (cmd, typ, msg []byte, object bool) {
	v := validator{data: payload}
	v.space()
	if v.i >= len(v.data) || v.data[v.i] != '{' {
		return nil, nil, nil, false
	}
	object = v.members(1, func(key, value []byte) {
		switch memberName(key) {
		case "cmd":
			cmd = value
		case "type":
			typ = value
		case "msg":
			msg = value
		}
	})
	v.space()
	return cmd, typ, msg, object && v.i == len(v.data)
}

// memberName returns the name a raw JSON key spells if it is short
// enough to spell one of a protocol message's ("cmd", "type", "msg"),
// or "".
func memberName(key []byte) string {
	const longest = len(`"\u0074\u0079\u0070\u0065"`) // "type", every character escaped
	if len(key) > longest {
		return ""
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key[1 : len(key)-1])
	}
	var name string
	if json.Unmarshal(key, &name) != nil {
		return ""
	}
	return name
}

func (jsonCodec) AppendInternal(dst []byte, cmd, typ string, msg any) ([]byte, error) {
	c, _ := json.Marshal(cmd)
	dst = append(dst, `{"cmd":`...)
	dst = append(dst, c...)
	if typ != "" {
		t, _ := json.Marshal(typ)
		dst = append(dst, `,"type":`...)
		dst = append(dst, t...)
	}
	if msg != nil || typ != "" { // a handle message always carries msg, if only null
		dst = append(dst, `,"msg":`...)
		frame, err := jsonCodec{}.AppendFrame(dst, msg)
		if err != nil {
			return dst, err
		}
		dst = frame[:len(frame)-1] // without the frame's '\n'
	}
	return append(dst, "}\n"...), nil
}

// lineSplitter finds '\n'-terminated lines (a '\r' before the '\n' is
// left out of the payload), remembering how far it has looked so that a
// long line arriving in many reads is scanned once.
type lineSplitter struct{ scanned int }

func (s *lineSplitter) Split(buf []byte) ([]byte, int, error) {
	if s.scanned > len(buf) {
		s.scanned = 0
	}
	i := bytes.IndexByte(buf[s.scanned:], '\n')
	if i < 0 {
		s.scanned = len(buf)
		return nil, 0, nil
	}
	end := s.scanned + i
	s.scanned = 0
	payload := buf[:end]
	if end > 0 && payload[end-1] == '\r' { // "\r\n": the '\r' is whitespace, not message
		payload = payload[:end-1]
	}
	return payload, end + 1, nil
}
