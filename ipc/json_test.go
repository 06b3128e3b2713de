package ipc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/childproc/childproc/internal/jsontext"
)

// The frames of Go values are the bytes JSON.stringify writes for the
// same values (node -e 'process.stdout.write(JSON.stringify(v)+"\n")').
func TestJSONFrameBytes(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{"plain", `"plain"`},
		{"a\u2028b\u2029c", "\"a\u2028b\u2029c\""},
		{[]string{"\u2028", `\u2028`, "\\\u2028"}, "[\"\u2028\",\"\\\\u2028\",\"\\\\\u2028\"]"},
		{"<&>", `"<&>"`},
		{"tab\tquote\"back\\", `"tab\tquote\"back\\"`},
		{"é😀", `"é😀"`},
		{map[string]any{"b": 1.5, "a": nil}, `{"a":null,"b":1.5}`},
		{1e21, `1e+21`},
		{json.RawMessage(` { "a" : [1, 2] } `), `{"a":[1,2]}`},
		{json.RawMessage(`"\u2028 kept as sent"`), `"\u2028 kept as sent"`},
		{strings.Repeat("x", 100), `"` + strings.Repeat("x", 100) + `"`},
	}
	for _, tc := range cases {
		got, err := JSON.AppendFrame(nil, tc.v)
		if err != nil {
			t.Errorf("%#v: %v", tc.v, err)
			continue
		}
		if string(got) != tc.want+"\n" {
			t.Errorf("%#v: frame %q, want %q", tc.v, got, tc.want+"\n")
		}
	}
	for _, bad := range []json.RawMessage{nil, json.RawMessage(``), json.RawMessage(`{`), json.RawMessage("1\n2")} {
		if _, err := JSON.AppendFrame(nil, bad); err == nil {
			t.Errorf("RawMessage %q: no error", bad)
		}
	}
}

// FuzzAppendFrame: whatever the string, its frame is one line of valid
// JSON that decodes to the same value as encoding/json's encoding.
func FuzzAppendFrame(f *testing.F) {
	for _, s := range []string{"", "x", "\u2028", `\u2028`, "\\\u2029", "\xff", "a\"b", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		frame, err := JSON.AppendFrame([]byte("prefix"), []any{s, map[string]string{s: s}})
		if err != nil {
			t.Fatal(err)
		}
		if string(frame[:6]) != "prefix" || frame[len(frame)-1] != '\n' || strings.Count(string(frame), "\n") != 1 {
			t.Fatalf("frame %q", frame)
		}
		var got, want any
		ref, _ := json.Marshal([]any{s, map[string]string{s: s}})
		if err := json.Unmarshal(frame[6:], &got); err != nil {
			t.Fatalf("frame %q: %v", frame, err)
		}
		json.Unmarshal(ref, &want)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("frame %q decodes to %s, want %s", frame, g, w)
		}
	})
}

// Telling a user message from a protocol one allocates nothing: it runs
// for every message received.
func TestJSONInternalAllocs(t *testing.T) {
	for _, payload := range []string{`{"i":1}`, `{"pool":"result","id":7,"value":3}`, `"text"`, `[1,2]`} {
		b := []byte(payload)
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, _, internal := JSON.Internal(b); internal {
				t.Fatalf("%s taken for a protocol message", payload)
			}
		})
		if allocs != 0 {
			t.Errorf("Internal(%s): %v allocations, want 0", payload, allocs)
		}
	}
	if cmd, typ, _, ok := JSON.Internal([]byte(`{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{}}`)); !ok || cmd != "NODE_HANDLE" || typ != "net.Socket" {
		t.Errorf("NODE_HANDLE read as %q %q %v", cmd, typ, ok)
	}
}

// A *jsontext.Text, a JSON text childproc built itself, goes out as it
// is, without an allocation; the advanced codec sends the value it holds.
func TestJSONTextAsIs(t *testing.T) {
	text := jsontext.Text(`{"pool":"task","id":7,"value":{"a":1}}`)
	want := string(text) + "\n"
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		got, err := JSON.AppendFrame(buf[:0], &text)
		if err != nil || string(got) != want {
			t.Fatalf("frame %q, %v", got, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
	fromText, err := Advanced.AppendFrame(nil, &text)
	if err != nil {
		t.Fatal(err)
	}
	fromRaw, err := Advanced.AppendFrame(nil, json.RawMessage(text))
	if err != nil || string(fromText) != string(fromRaw) {
		t.Errorf("advanced: %x from the Text, %x (%v) from the RawMessage", fromText, fromRaw, err)
	}
}
