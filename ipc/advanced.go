package ipc

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Advanced is Node's "advanced" serialization: each message is V8's
// serialization of the value (the structured clone format, version 15,
// as Node's child_process serializer writes it), after its length as 4
// bytes, big-endian. It carries what JSON cannot: undefined, NaN, -0
// and the infinities, BigInts, Dates, RegExps, Maps, Sets, Errors,
// Buffers and typed arrays, sparse arrays, and objects that refer to
// each other or to themselves.
//
// A value decoded into an any is, by its JavaScript type:
//
//	undefined               Undefined{}
//	null                    nil
//	boolean                 bool
//	number                  float64
//	bigint                  *big.Int
//	string                  string (see below)
//	object                  map[string]any
//	array without holes     []any
//	array with holes        *SparseArray
//	Map                     *Map (entries in order, keys of any type)
//	Set                     *Set
//	Date                    time.Time (UTC; an invalid Date is the zero time, and back)
//	RegExp                  RegExp
//	Error (and subtypes)    *JSError
//	Buffer, Uint8Array      []byte
//	Int8Array … Float64Array  []int8, []int16, []uint16, []int32, []uint32, []float32, []float64
//	BigInt64Array           []int64
//	BigUint64Array          []uint64
//	Uint8ClampedArray       Uint8ClampedArray
//	DataView                DataView
//	ArrayBuffer             ArrayBuffer
//	new Number(1) etc.      the primitive it wraps
//
// The same objects met twice in a message are the same Go map, slice
// or pointer, so a cycle decodes as a cycle. An array's named
// properties (other than its indexes) are dropped. Node sends arrays
// that ever had holes in a sparse form; those without holes left decode
// as []any all the same.
//
// Encoding takes the same types back, and Go's own as encoding/json
// does: any integer and float type as a number (an integer in int32's
// range, and an integral float there, as V8's small integer), string,
// bool, nil and nil pointers, maps and slices as null; maps with
// string or integer keys and structs (exported fields, json tags and
// their omitempty and string options, embedded structs) as objects;
// other slices and arrays as arrays; json.Marshaler and
// encoding.TextMarshaler values as what they marshal to; a
// json.RawMessage as the JSON value it holds. A slice of int8, int16,
// uint16, int32, uint32, float32, float64, int64 or uint64 is sent as
// the typed array of that element type, []byte as a Buffer; a map with
// other keys as a Map. A pointer,
// map or slice met a second time is written as a back-reference to the
// object already written, so cycles through them are kept; a func, a
// channel or a complex number is an ErrNotSerializable error, and so is
// an Error whose cause refers back to it, which Node writes but cannot
// read. Top-level undefined and BigInts are sent, though Node's send
// refuses them.
//
// JavaScript strings are UTF-16 and may hold lone surrogates, which
// UTF-8 cannot. A string decodes to UTF-8, a lone surrogate to the three
// bytes UTF-8 would give it if it were a character (as in WTF-8); the
// encoder reads those three bytes back as that surrogate, so such
// strings make the round trip. Other bytes that are not UTF-8 are sent
// as U+FFFD. A string whose characters are all below U+0100 is sent as
// Latin-1, any other as UTF-16, as V8 does.
//
// Message.Decode with Advanced decodes into any Go type as
// encoding/json's Unmarshal does, with json's error types: objects into
// structs (by json tag or field name, exactly or else case-blind) and
// maps, arrays and Sets into slices, numbers into integer types when they
// fit, null and undefined leaving non-pointer values as they are; a
// json.Unmarshaler gets the value as JSON (a json.RawMessage the JSON
// text), an encoding.TextUnmarshaler a string's text; unlike
// encoding/json, it stops at the first value that does not fit. A
// *RawValue receives the message's bytes.
//
// Decoding is bounded: nesting deeper than 10000, lengths past the end
// of the message, unknown tags and counts that do not match are
// malformed messages (the channel ends with a *ProtocolError, as in
// JSON mode), and a message costs memory in proportion to its size.
var Advanced Codec = advancedCodec{}

func init() { RegisterCodec(Advanced) }

type advancedCodec struct{}

func (advancedCodec) Name() string { return "advanced" }

// frameHeader is the frame's start: the length, filled in at the end,
// and V8's version header.
var frameHeader = []byte{0, 0, 0, 0, tagVersion, latestVersion}

func (advancedCodec) AppendFrame(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	if raw, ok := v.(RawValue); ok {
		if err := checkAdvanced(raw); err != nil {
			return dst, notSerializable("RawValue: %v", err)
		}
		dst = append(dst, 0, 0, 0, 0)
		dst = append(dst, raw...)
		return finishFrame(dst, start)
	}
	out, err := appendAdvanced(append(dst, frameHeader...), start, 0, v)
	if err != nil {
		return dst, err
	}
	return finishFrame(out, start)
}

// finishFrame writes the length of the frame that starts at start.
func finishFrame(frame []byte, start int) ([]byte, error) {
	n := len(frame) - start - 4
	if n > math.MaxInt32 {
		return frame[:start], notSerializable("a message of %d bytes", n)
	}
	binary.BigEndian.PutUint32(frame[start:], uint32(n))
	return frame, nil
}

func (advancedCodec) NewSplitter() Splitter { return lengthSplitter{} }

// lengthSplitter cuts frames that start with their length, 4 bytes
// big-endian.
type lengthSplitter struct{}

func (lengthSplitter) Split(buf []byte) ([]byte, int, error) {
	n, ok := lengthSplitter{}.frameSize(buf)
	if !ok || len(buf) < n {
		return nil, 0, nil
	}
	return buf[4:n], n, nil
}

// frameSize returns the length of the frame at the start of buf, once
// its length prefix has arrived.
func (lengthSplitter) frameSize(buf []byte) (int, bool) {
	if len(buf) < 4 {
		return 0, false
	}
	return 4 + int(binary.BigEndian.Uint32(buf)), true
}

func (advancedCodec) Unmarshal(payload []byte, v any) error {
	return unmarshalAdvanced(payload, v)
}

func (advancedCodec) Valid(payload []byte) bool {
	return checkAdvanced(payload) == nil
}

// nodeOneByte and nodeTwoByte are "NODE_" as V8 writes it in a one-byte
// and in a two-byte string.
var (
	nodeOneByte = []byte("NODE_")
	nodeTwoByte = []byte("N\x00O\x00D\x00E\x00_\x00")
)

func (advancedCodec) Internal(payload []byte) (cmd, typ string, msg []byte, ok bool) {
	d := decoder{data: payload, record: true}
	if d.header() != nil {
		return "", "", nil, false
	}
	if t, err := d.peek(); err != nil || t != tagObject ||
		!bytes.Contains(payload, nodeOneByte) && !bytes.Contains(payload, nodeTwoByte) {
		return "", "", nil, false
	}
	d.pos++
	d.objs = append(d.objs, map[string]any{})
	var msgStart, msgEnd, msgIDs, msgRefs int
	for {
		t, err := d.peek()
		if err != nil {
			return "", "", nil, false
		}
		if t == tagObjectEnd {
			break
		}
		k, err := d.objectKey()
		if err != nil {
			return "", "", nil, false
		}
		start, ids, refs := d.pos, len(d.objs), len(d.refs)
		v, err := d.value()
		if err != nil {
			return "", "", nil, false
		}
		switch k { // the last of duplicate keys wins, as in JavaScript
		case "cmd":
			cmd, _ = v.(string)
		case "type":
			typ, _ = v.(string)
		case "msg":
			msgStart, msgEnd, msgIDs, msgRefs = start, d.pos, ids, refs
		}
	}
	if len(cmd) <= 5 || cmd[:5] != "NODE_" {
		return "", "", nil, false
	}
	if msgEnd > 0 {
		msg = d.standalone(msgStart, msgEnd, msgIDs, d.refs[msgRefs:])
	}
	return cmd, typ, msg, true
}

// standalone makes the value at data[start:end], whose objects were
// numbered from firstID on and whose back-references are at refs, a
// payload of its own: the header, then the value with its references
// renumbered from 0. It returns nil if the value refers to an object
// outside itself.
func (d *decoder) standalone(start, end, firstID int, refs []int) []byte {
	out := append([]byte(nil), tagVersion, latestVersion)
	at := start
	for _, r := range refs {
		if r >= end {
			break
		}
		out = append(out, d.data[at:r]...)
		rd := decoder{data: d.data, pos: r + 1}
		id, _ := rd.varint32()
		if int(id) < firstID {
			return nil
		}
		out = append(out, tagRef)
		out = binary.AppendUvarint(out, uint64(int(id)-firstID))
		at = rd.pos
	}
	return append(out, d.data[at:end]...)
}

func (advancedCodec) AppendInternal(dst []byte, cmd, typ string, msg any) ([]byte, error) {
	start := len(dst)
	e := v8encoders.Get().(*v8encoder)
	defer v8encoders.Put(e)
	e.buf, e.base, e.next, e.seen, e.more, e.depth, e.errs, e.bad = append(dst, frameHeader...), start, 1, e.seen[:0], nil, 0, e.errs[:0], nil
	e.byte(tagObject)
	e.str("cmd")
	e.str(cmd)
	props := 1
	if typ != "" { // a handle message: Node writes {cmd, type, msg}
		e.str("type")
		e.str(typ)
		e.str("msg")
		if err := e.value(msg); err != nil {
			e.buf = nil
			return dst, err
		}
		props = 3
	}
	e.byte(tagObjectEnd)
	e.varint(uint64(props))
	out := e.buf
	e.buf = nil
	clear(e.seen)
	return finishFrame(out, start)
}

// A frameSizer is a Splitter that knows a frame's length from its first
// bytes, so that a frame longer than MaxMessageSize is refused before
// the rest of it is read.
type frameSizer interface {
	frameSize(buf []byte) (n int, ok bool)
}

// declaredSize returns the length the frame at the start of buf says it
// has, if its splitter can tell.
func declaredSize(s Splitter, buf []byte) (int, bool) {
	if fs, ok := s.(frameSizer); ok {
		return fs.frameSize(buf)
	}
	return 0, false
}
