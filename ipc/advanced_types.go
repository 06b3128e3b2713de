package ipc

import (
	"strings"
)

// The Go types of JavaScript values that Go has no type for, as the
// Advanced codec encodes and decodes them. See Advanced for the whole
// mapping.

// Undefined is JavaScript's undefined. It decodes as Undefined{} where a
// value is held in an any, and as the zero value (like null) elsewhere.
type Undefined struct{}

// Map is a JavaScript Map: its entries in insertion order, with keys of
// any type (an object key is the decoded object, compared by identity in
// JavaScript).
type Map struct {
	Entries []MapEntry
}

// A MapEntry is one key and its value in a Map.
type MapEntry struct {
	Key, Value any
}

// Get returns the value of the first entry whose key is k (compared with
// ==, so only for comparable keys), and whether there is one.
func (m *Map) Get(k any) (any, bool) {
	for _, e := range m.Entries {
		if canCompare(e.Key) && e.Key == k {
			return e.Value, true
		}
	}
	return nil, false
}

// Set appends an entry, or replaces the value of the first entry whose
// key is k (compared as in Get).
func (m *Map) Set(k, v any) {
	for i, e := range m.Entries {
		if canCompare(e.Key) && e.Key == k {
			m.Entries[i].Value = v
			return
		}
	}
	m.Entries = append(m.Entries, MapEntry{k, v})
}

// Set is a JavaScript Set: its values in insertion order.
type Set struct {
	Values []any
}

// SparseArray is a JavaScript array with holes: Length is the array's
// length and Elems holds the elements that exist, by index. An array
// without holes decodes as a []any, however it was sent.
type SparseArray struct {
	Length uint32
	Elems  map[uint32]any
}

// RegExp is a JavaScript regular expression: its source and its flags
// as RegExp.prototype.flags spells them ("dgimsuvy" order). Sending one
// whose flags are not JavaScript's (or both u and v) is an
// ErrNotSerializable error; its Source must be a pattern JavaScript
// compiles, or Node cannot read the message.
type RegExp struct {
	Source string
	Flags  string
}

// String returns the expression as JavaScript writes it: /source/flags.
func (r RegExp) String() string { return "/" + r.Source + "/" + r.Flags }

// JSError is a JavaScript Error. Name is "Error", "EvalError",
// "RangeError", "ReferenceError", "SyntaxError", "TypeError" or
// "URIError" (V8 sends no other name: any other is "Error" on the other
// side); Message and Stack are "" when the error has none; Cause is nil
// when it has none (a null cause decodes as none).
type JSError struct {
	Name    string
	Message string
	Stack   string
	Cause   any
}

// Error returns the error as JavaScript's toString does: "Name: Message".
func (e *JSError) Error() string {
	name := e.Name
	if name == "" {
		name = "Error"
	}
	if e.Message == "" {
		return name
	}
	return name + ": " + e.Message
}

// Unwrap returns the cause when it is an error.
func (e *JSError) Unwrap() error {
	err, _ := e.Cause.(error)
	return err
}

// The views of binary data that have no Go slice type of their own.
// Buffer and Uint8Array decode as []byte, and []byte encodes as a Buffer;
// the other typed arrays decode as and encode from the Go slice of their
// element type ([]int8, []int16, []uint16, []int32, []uint32, []float32,
// []float64, and []int64 and []uint64 for BigInt64Array and
// BigUint64Array).
type (
	// ArrayBuffer is a JavaScript ArrayBuffer: bytes without a view.
	ArrayBuffer []byte
	// DataView is a JavaScript DataView over its bytes.
	DataView []byte
	// Uint8ClampedArray is a JavaScript Uint8ClampedArray.
	Uint8ClampedArray []byte
)

// RawValue is a message already serialized by the Advanced codec: the
// payload of a frame (the header FF 0F and one value), as Message.Bytes
// returns it on an "advanced" channel. Send checks it and sends it as it
// is; decoding into a *RawValue gives the message's bytes.
type RawValue []byte

// canCompare reports whether k can be compared with == without a panic.
func canCompare(k any) bool {
	switch k.(type) {
	case map[string]any, []any, []byte, []int8, []int16, []uint16, []int32, []uint32,
		[]float32, []float64, []int64, []uint64, ArrayBuffer, DataView, Uint8ClampedArray:
		return false
	}
	return true
}

// The flags u and v, which exclude each other.
const (
	regexpUnicode     = 16
	regexpUnicodeSets = 256
)

// regexpFlags are V8's flag bits, in the order of RegExp.prototype.flags.
var regexpFlags = []struct {
	c   byte
	bit uint32
}{
	{'d', 128}, {'g', 1}, {'i', 2}, {'m', 4}, {'s', 32}, {'u', 16}, {'v', 256}, {'y', 8},
}

// regexpFlagString spells V8's flag bits; ok is false for bits that are
// no flag (or the linear engine's, which a peer never sends).
func regexpFlagString(bits uint32) (string, bool) {
	var b strings.Builder
	for _, f := range regexpFlags {
		if bits&f.bit != 0 {
			b.WriteByte(f.c)
			bits &^= f.bit
		}
	}
	return b.String(), bits == 0
}

// regexpFlagBits reads flags as V8's bits; ok is false for an unknown or
// repeated flag.
func regexpFlagBits(flags string) (uint32, bool) {
	var bits uint32
	for i := 0; i < len(flags); i++ {
		found := false
		for _, f := range regexpFlags {
			if flags[i] == f.c && bits&f.bit == 0 {
				bits |= f.bit
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return bits, true
}
