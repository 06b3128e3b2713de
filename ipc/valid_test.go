package ipc

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	`{"a":1}`, `"s"`, "\"s\"\r", ` [1, 2.5e-3, -0, true, false, null, "x"] `, `{}`, `[]`, `""`,
	`"\ud800"`, `"\u12G4"`, `"\x"`, "\"\x01\"", "\"\xff\xfe\"", `01`, `-`, `1.`, `1e`, `1e+`, `.5`,
	`{"a":}`, `{"a" 1}`, `{,}`, `[1,]`, `[,1]`, `{"a":1,}`, `tru`, `nul`, `1 2`, ``, ` `, "\t\n",
	`{"cmd":"NODE_HANDLE","msg":{"x":[1,{"y":null}]}}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `"` + strings.Repeat("é😀\u2028", 100) + `"`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range validSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

// FuzzValid checks validJSON against encoding/json.Valid.
func FuzzValid(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	msg := []byte(`{"k":1,"p":"` + strings.Repeat("x", 1024) + `"}`)
	b.Run("validJSON", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			validJSON(msg)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			json.Valid(msg)
		}
	})
}

// special must see every '"', '\\' and control byte, in any position.
func TestSpecialBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			w := []byte("aaaaaaaa")
			w[pos] = byte(c)
			want := c == '"' || c == '\\' || c < 0x20
			if got := special(binary.LittleEndian.Uint64(w)); got && !want || !got && want {
				t.Errorf("special(%q) = %v", w, got)
			}
		}
	}
}

// internalByMap is JSON.Internal as a map of raw values gives it, the
// reference FuzzInternal checks the walk of protocolMembers against.
func internalByMap(payload []byte) (cmd, typ string, msg []byte, ok bool) {
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

// FuzzInternal checks JSON.Internal against internalByMap.
func FuzzInternal(f *testing.F) {
	for _, s := range append(validSeeds,
		`{"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"a":[1]}}`, `{"cmd":"NODE_X","cmd":1}`,
		`{"\u0063md":"NODE\u005fX","t\u0079pe":"t","msg":null}`, `{"cmd":"NODE_X"} x`, `{"cmd":"NODE_X",}`,
		`{"CMD":"NODE_HANDLE"}`, `{"cmd":"NODE_"}`, `{"msg":1,"cmd":"NODE_Y","msg":2}`, ` {"cmd" : "NODE_Z" } `) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmd, typ, msg, ok := JSON.Internal(data)
		wcmd, wtyp, wmsg, wok := internalByMap(data)
		if cmd != wcmd || typ != wtyp || string(msg) != string(wmsg) || ok != wok {
			t.Fatalf("Internal(%q) = %q %q %q %v, want %q %q %q %v", data, cmd, typ, msg, ok, wcmd, wtyp, wmsg, wok)
		}
	})
}
