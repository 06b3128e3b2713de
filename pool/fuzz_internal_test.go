package pool

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseMessage checks parseMessage on any message a worker may send
// (any valid JSON text: the channel ends before anything else): no
// panic, a known kind and the fields it needs when it reports a message,
// and the same message from the fast path as from a JSON decoder. On
// bytes that are not JSON, it must not panic.
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		`{"pool":"ready","protocol":1}`,
		`{"pool":"result","id":7,"value":{"a":1}}`,
		`{"pool":"result","id":7,"value":1,"x":2}`,
		`{"pool":"result","id":07,"value":1}`,
		`{"pool":"result","id":18446744073709551616,"value":1}`,
		`{"pool":"error","id":1,"error":{"message":"m","name":"TypeError","stack":"s"}}`,
		`{"pool":"error","id":1}`,
		`{"pool":"task","id":3,"value":[1,2,3]}`,
		`{"pool":"cancel","id":3}`,
		`{"pool":"recycle","reason":"leak"}`,
		`{"pool":"nonsense"}`, `{"pool":7}`, `"hello"`, `[1]`, `null`, `{}`,
		`{"pool":"result","value":1}`, `{"pool":"result","id":-1,"value":1}`,
		`{"pool":"result","id":7,"value":"a,b\",c"}`, `{"pool":"result","id":7,"value":[{"a":[1,2]},3],"b":4}`,
		`{"pool":"result","id":7,"value":{"a":1} ,"b":2}`, `{"pool":"result","id":7,"value":"\\","b":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			parseMessage(b)
			return
		}
		m, ok, err := parseMessage(b)
		if err != nil || !ok {
			return
		}
		if !knownKind(m.Pool) {
			t.Fatalf("unknown kind %q reported", m.Pool)
		}
		if m.check() != nil {
			t.Fatalf("message lacking a field reported: %+v", m)
		}
		if fast, ok := parseFast(b); ok {
			var slow message
			if err := json.Unmarshal(b, &slow); err != nil {
				t.Fatalf("fast path read %q, which encoding/json refuses: %v", b, err)
			}
			if slow.ID == nil || *slow.ID != *fast.ID || slow.Pool != fast.Pool || !jsonEqual(slow.Value, fast.Value) {
				t.Fatalf("fast path %+v, encoding/json %+v for %q", fast, slow, b)
			}
		}
	})
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// FuzzParseFastValue checks the fast path on result messages in the
// form it reads, their value and what follows it made up: whenever the
// message is valid JSON and the fast path reads it, encoding/json reads
// the same id and the same value, byte for byte.
func FuzzParseFastValue(f *testing.F) {
	for _, s := range [][2]string{
		{`1`, ``}, {`"a,b\",c"`, `,"b":1`}, {`[{"a":[1,2]},3]`, ` ,"b":4`}, {`"\\"`, `,"value":2`},
		{`{"a":"}"}`, ``}, {`"\\\""`, ` `}, {`[]`, `,"Value":5`}, {`null`, `,"id":8`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, value, tail string) {
		b := []byte(`{"pool":"result","id":7,"value":` + value + tail + `}`)
		if !json.Valid(b) {
			return
		}
		fast, ok := parseFast(b)
		if !ok {
			return
		}
		var slow message
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast path read %q, which encoding/json refuses: %v", b, err)
		}
		if slow.ID == nil || *slow.ID != *fast.ID || !bytes.Equal(slow.Value, fast.Value) {
			t.Fatalf("fast path %s, encoding/json %s for %q", fast.Value, slow.Value, b)
		}
	})
}
