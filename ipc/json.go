package ipc

import (
	"bytes"
	"encoding/json"
	"errors"
)

// JSON is Node's default serialization: each message is its JSON text on
// one line, ending in '\n'. Values are encoded with encoding/json
// (without HTML escaping); a json.RawMessage is validated and compacted
// and sent as is. Incoming lines are parsed as Node parses them: "\r\n"
// is accepted, an empty line is malformed.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) AppendFrame(dst []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if raw, ok := v.(json.RawMessage); ok {
		if err := json.Compact(buf, raw); err != nil {
			return dst, errors.Join(ErrNotSerializable, err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line with '\n'
		return dst, errors.Join(ErrNotSerializable, err)
	}
	return buf.Bytes(), nil
}

func (jsonCodec) NewSplitter() Splitter { return &lineSplitter{} }

func (jsonCodec) Unmarshal(payload []byte, v any) error { return json.Unmarshal(payload, v) }

func (jsonCodec) Valid(payload []byte) bool { return validJSON(payload) }

var nodePrefix = []byte(`"NODE_`)

func (jsonCodec) Internal(payload []byte) (cmd, typ string, msg []byte, ok bool) {
	if !bytes.Contains(payload, nodePrefix) {
		return "", "", nil, false
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", "", nil, false
	}
	// Keys are matched exactly, as in JavaScript (encoding/json's struct
	// matching would ignore case); the last duplicate wins, as in JSON.parse.
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil {
		return "", "", nil, false
	}
	if json.Unmarshal(obj["cmd"], &cmd) != nil || len(cmd) <= 5 || cmd[:5] != "NODE_" {
		return "", "", nil, false
	}
	json.Unmarshal(obj["type"], &typ)
	return cmd, typ, obj["msg"], true
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

// lineSplitter finds '\n'-terminated lines, remembering how far it has
// looked so that a long line arriving in many reads is scanned once.
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
	return buf[:end], end + 1, nil
}
