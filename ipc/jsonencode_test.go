package ipc

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

type encAll struct {
	B      bool
	I      int     `json:"i"`
	I8     int8    `json:"i8,omitempty"`
	U      uint64  `json:"u"`
	F32    float32 `json:"f32"`
	F      float64 `json:"f,omitempty"`
	S      string  `json:"s"`
	Named  myString
	P      *encAll          `json:"p,omitempty"`
	A      any              `json:"a"`
	L      []int            `json:"l"`
	LE     []string         `json:"le,omitempty"`
	M      map[string]int   `json:"m"`
	MA     map[myString]any `json:"ma,omitempty"`
	Skip   int              `json:"-"`
	lower  int
	T      time.Time       `json:"t"`
	R      json.RawMessage `json:"r,omitempty"`
	Bytes  []byte          `json:"bytes,omitempty"`
	Arr    [2]int          `json:"arr"`
	Inner  fastInner       `json:"inner"`
	Zero   int             `json:"zero,omitzero"`
	Quoted int             `json:"quoted,string"`
}

type selfEncoding struct{ X int }

func (selfEncoding) MarshalJSON() ([]byte, error) { return []byte(`"self"`), nil }

// textKey is a string map key with its own text, which encoding/json
// ignores for keys of kind string, but not when Go is built with
// GOEXPERIMENT=jsonv2.
type textKey string

func (textKey) MarshalText() ([]byte, error) { return []byte("text"), nil }

// appendsText has only AppendText, which encoding/json ignores, but not
// when Go is built with GOEXPERIMENT=jsonv2.
type appendsText struct{ X int }

func (appendsText) AppendText(b []byte) ([]byte, error) { return append(b, "text"...), nil }

type appendsTextPtr struct{ X int }

func (*appendsTextPtr) AppendText(b []byte) ([]byte, error) { return append(b, "text"...), nil }

// emptyOptions has tags with an empty name.
type emptyOptions struct {
	C int `json:",omitempty"`
	D int `json:""`
	E int
}

type cyclic struct {
	Next *cyclic `json:"next"`
}

// encodingJSON is what AppendFrame wrote before appendFast: encoding/json
// without HTML escaping, U+2028 and U+2029 unescaped.
func encodingJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return b[:unescapeSeparators(b)], nil
}

// sameBytes fails unless appendFast, where it takes v, writes what
// encoding/json does.
func sameBytes(t *testing.T, v any) {
	t.Helper()
	got, ok := appendFast([]byte("prefix"), v)
	if !ok {
		if string(got) != "prefix" {
			t.Fatalf("%#v: refused, but changed dst to %q", v, got)
		}
		return
	}
	want, err := encodingJSON(v)
	if err != nil {
		t.Fatalf("%#v: appendFast wrote %q where encoding/json fails: %v", v, got, err)
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got[len("prefix"):], want)
	}
}

func encodeValues() []any {
	loop := &cyclic{}
	loop.Next = loop
	x := 5
	full := encAll{
		B: true, I: -3, I8: 4, U: math.MaxUint64, F32: 1.5, F: 1e21, S: "plain é", Named: "n",
		P: &encAll{S: "inner"}, A: map[string]any{"k": []any{1.0, "two", nil, true}}, L: []int{}, LE: []string{"a"},
		M: map[string]int{"b": 2, "a": 1, "": 0}, MA: map[myString]any{"z": &x}, lower: 1, Skip: 2,
	}
	return []any{
		0, -1, int8(-128), uint16(65535), uint64(math.MaxUint64), uintptr(7), true, false,
		0.0, math.Copysign(0, -1), 1e-6, 1e-7, 9.999e20, 1e21, 123456789.125, 5e-324, math.MaxFloat64,
		float32(1e-7), float32(1e21), float32(3.4e38), float32(0.1), math.Inf(1), math.NaN(),
		"", "plain", "é😀", "a\"b", "back\\slash", "line\nbreak", "\x01", "\xff", "\u2028", "<&>",
		myString("named"), []int(nil), []int{1, 2}, []any{nil, 1.5, "x"}, map[string]int(nil),
		map[string]int{"b": 1, "a": 2, "aa": 3}, map[string]any{"\n": 1}, map[int]int{1: 2},
		(*int)(nil), &x, any(nil), []byte("hi"), [2]int{1, 2}, json.RawMessage(`{"a":1}`), json.Number("12"),
		time.Unix(0, 0).UTC(), selfEncoding{1}, []selfEncoding{{1}}, loop, encAll{}, full, &full,
		fastInner{X: 1, Y: "y"}, []fastInner{{X: 1}}, map[string]fastInner{"k": {Y: "v"}},
		struct{ A, B int }{1, 2}, struct {
			A int `json:"a,omitempty"`
			B int `json:"b,omitempty"`
		}{}, embeds{}, quoted{N: 1}, odd{N: 1},
		map[textKey]int{"a": 1}, map[textKey]any{"b": nil, "a": 2}, []map[textKey]int{{"k": 1}},
		appendsText{1}, &appendsText{1}, []appendsText{{1}}, map[string]appendsText{"a": {}},
		appendsTextPtr{1}, &appendsTextPtr{1}, []appendsTextPtr{{1}}, map[string]any{"a": &appendsTextPtr{}},
		// Options encoding/json ignores, but not with GOEXPERIMENT=jsonv2.
		struct {
			A int `json:"a,unknown"`
		}{}, struct {
			A int `json:"a,format:RFC3339"`
		}{1}, struct {
			A map[string]int `json:"a,inline"`
		}{map[string]int{"x": 1}}, struct {
			A []int `json:"a,format:emitempty"`
		}{}, emptyOptions{E: 1},
	}
}

func TestAppendFastAgreesWithEncodingJSON(t *testing.T) {
	for _, v := range encodeValues() {
		sameBytes(t, v)
	}
	for _, s := range decodeSeeds { // values decoded from JSON, encoded again
		for _, dst := range destinations() {
			if JSON.Unmarshal([]byte(s), dst) == nil {
				sameBytes(t, dst)
			}
		}
	}
}

// FuzzAppendFast checks appendFast against encoding/json for values made
// of the fuzzer's numbers and strings, and for values decoded from its
// bytes into every destination of the decoding tests.
//
//	go test -run='^$' -fuzz=FuzzAppendFast -fuzztime=5m ./ipc/
//	GOEXPERIMENT=jsonv2 go test -run='^$' -fuzz=FuzzAppendFast -fuzztime=5m ./ipc/
func FuzzAppendFast(f *testing.F) {
	f.Add([]byte(`{"i":1,"s":"x","a":[1,{"b":null}]}`), 1.5, float32(0.1), "s", int64(-1))
	f.Add([]byte(`[1e400]`), 1e-7, float32(1e21), "\u2028<", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, data []byte, f64 float64, f32 float32, s string, n int64) {
		for _, v := range []any{f64, f32, s, n, myString(s), map[string]any{s: f64},
			encAll{F: f64, F32: f32, S: s, I: int(n), A: s, M: map[string]int{s: int(n)}}, []any{f64, s, n}} {
			sameBytes(t, v)
		}
		for _, dst := range destinations() {
			if JSON.Unmarshal(data, dst) == nil {
				sameBytes(t, dst)
			}
		}
	})
}

// TestAppendFastTakesCommonValues checks that the fast path, not
// encoding/json, writes the values a channel mostly carries.
func TestAppendFastTakesCommonValues(t *testing.T) {
	for _, v := range []any{
		struct {
			I int `json:"i"`
		}{12345},
		fastInner{X: 1, Y: "y"}, map[string]any{"a": 1, "b": []any{true, nil, "x"}}, []int{1, 2, 3},
		&fastInner{}, 1.5, 42, true,
	} {
		if _, ok := appendFast(nil, v); !ok {
			t.Errorf("%#v: left to encoding/json", v)
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	msg := struct {
		ID    int    `json:"id"`
		Name  string `json:"name"`
		Value []int  `json:"value"`
	}{12345, strings.Repeat("n", 32), []int{1, 2, 3}}
	buf := make([]byte, 0, 256)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := appendFast(buf[:0], msg); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		e := encoders.Get().(*encoder)
		for b.Loop() {
			e.out = buf[:0]
			if err := e.enc.Encode(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
