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
