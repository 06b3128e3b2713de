//go:build unix

package ipc_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

type advInner struct {
	Deep string `json:"deep"`
}

type advEmbedded struct {
	Promoted int `json:"promoted"`
}

type advStruct struct {
	advEmbedded
	Name   string             `json:"name"`
	Count  int                `json:"count,omitempty"`
	Skip   string             `json:"-"`
	Ratio  float64            // no tag: the field's name
	When   time.Time          `json:"when"`
	Big    *big.Int           `json:"big"`
	Data   []byte             `json:"data"`
	Scores map[string]int     `json:"scores"`
	Inner  *advInner          `json:"inner"`
	List   []string           `json:"list"`
	Any    any                `json:"any"`
	Labels map[float64]string `json:"labels"` // from a Map
}

// A struct encodes as the object Node writes for the same literal.
func TestAdvancedEncodeStruct(t *testing.T) {
	type small struct {
		A int    `json:"a"`
		B string `json:"b"`
		C string `json:"c,omitempty"`
	}
	// v8.serialize({a: 1, b: 'x'}) through the child_process serializer.
	want, _ := hex.DecodeString("ff0f6f22016149022201622201787b02")
	if got := payload(t, small{A: 1, B: "x"}); !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	if got := payload(t, &small{A: 1, B: "x"}); !bytes.Equal(got, want) {
		t.Fatalf("through a pointer: got %x, want %x", got, want)
	}
}

// Decoding into structs, maps and slices follows encoding/json: tags,
// case-blind names, embedded fields, pointers allocated; and the types
// of the advanced mode land in their Go types.
func TestAdvancedDecodeStruct(t *testing.T) {
	when := time.UnixMilli(1700000000123).UTC()
	in := map[string]any{
		"name": "n", "count": 3.0, "Skip": "no", "ratio": 0.5, "when": when,
		"big":  []any{}, // replaced below
		"data": []byte{1, 2}, "scores": map[string]any{"x": 1.0}, "inner": map[string]any{"deep": "d"},
		"list": &ipc.Set{Values: []any{"a", "b"}}, "any": &ipc.Map{Entries: []ipc.MapEntry{{1.0, "one"}}},
		"labels": &ipc.Map{Entries: []ipc.MapEntry{{1.5, "x"}}}, "promoted": 7.0,
	}
	in["big"] = big.NewInt(1 << 60)
	var out advStruct
	if err := ipc.Advanced.Unmarshal(payload(t, in), &out); err != nil {
		t.Fatal(err)
	}
	if out.Name != "n" || out.Count != 3 || out.Skip != "" || out.Ratio != 0.5 || !out.When.Equal(when) ||
		out.Big.Cmp(big.NewInt(1<<60)) != 0 || !bytes.Equal(out.Data, []byte{1, 2}) || out.Scores["x"] != 1 ||
		out.Inner == nil || out.Inner.Deep != "d" || len(out.List) != 2 || out.List[1] != "b" ||
		out.Labels[1.5] != "x" || out.Promoted != 7 {
		t.Fatalf("decoded %+v", out)
	}
	if m, ok := out.Any.(*ipc.Map); !ok || m.Entries[0].Value != "one" {
		t.Fatalf("any holds %#v", out.Any)
	}
	// And back: the struct encodes to an object that decodes to the same.
	var again advStruct
	if err := ipc.Advanced.Unmarshal(payload(t, out), &again); err != nil || again.Name != "n" || again.Inner.Deep != "d" || again.Promoted != 7 {
		t.Fatalf("round trip: %+v (%v)", again, err)
	}
}

// Wrong types are encoding/json's errors.
func TestAdvancedDecodeErrors(t *testing.T) {
	var s struct {
		N int `json:"n"`
	}
	err := ipc.Advanced.Unmarshal(payload(t, map[string]any{"n": "text"}), &s)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "n" || te.Value != "string" {
		t.Fatalf("got %v", err)
	}
	if err := ipc.Advanced.Unmarshal(payload(t, map[string]any{"n": 1.5}), &s); !errors.As(err, &te) {
		t.Fatalf("1.5 into an int: %v", err)
	}
	var ie *json.InvalidUnmarshalError
	if err := ipc.Advanced.Unmarshal(payload(t, 1), s); !errors.As(err, &ie) {
		t.Fatalf("into a non-pointer: %v", err)
	}
	if err := ipc.Advanced.Unmarshal([]byte("\xff\x0f\x01"), new(any)); err == nil {
		t.Fatal("a malformed payload decoded")
	}
	var raw ipc.RawValue
	if err := ipc.Advanced.Unmarshal(payload(t, "x"), &raw); err != nil || string(raw) != "\xff\x0f\"\x01x" {
		t.Fatalf("RawValue %q (%v)", raw, err)
	}
}

type advNode struct {
	Name string   `json:"name"`
	Next *advNode `json:"next"`
}

// Pointers that form a cycle go out as back-references, through real
// Node (which echoes what it decoded), and come back as the same cycle.
func TestAdvancedPointerCycleThroughNode(t *testing.T) {
	a := &advNode{Name: "a"}
	a.Next = &advNode{Name: "b", Next: a}
	// Node writes o "name" "a" "next" o "name" "b" "next" ^0 {2 {2 for it.
	want := "\xff\x0fo\"\x04name\"\x01a\"\x04nexto\"\x04name\"\x01b\"\x04next^\x00{\x02{\x02"
	if got := payload(t, a); string(got) != want {
		t.Fatalf("wrote %q", got)
	}
	ch, _ := startChild(t, advanced, "node", "testdata/echo_child.js", "echo")
	if err := ch.Send(a); err != nil {
		t.Fatal(err)
	}
	m := recv(t, ch)
	if string(m.Bytes()) != want {
		t.Fatalf("node echoed %q", m.Bytes())
	}
	var back *advNode
	if err := m.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.Name != "a" || back.Next.Name != "b" || back.Next.Next != back {
		t.Fatalf("came back as %+v", back)
	}
}

// upper decodes itself, as encoding/json lets it.
type upper string

func (u *upper) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*u = upper(strings.ToUpper(s))
	return nil
}

type level int

func (l *level) UnmarshalText(b []byte) error {
	*l = level(len(b))
	return nil
}

// Types that decode themselves do in advanced mode too: UnmarshalJSON
// gets the value as JSON, UnmarshalText a string.
func TestAdvancedDecodeUnmarshalers(t *testing.T) {
	var v struct {
		Name  upper `json:"name"`
		Level level `json:"level"`
	}
	if err := ipc.Advanced.Unmarshal(payload(t, map[string]any{"name": "shout", "level": "abc"}), &v); err != nil || v.Name != "SHOUT" || v.Level != 3 {
		t.Fatalf("decoded %+v (%v)", v, err)
	}
}

// A field left out of the struct may hold an object that a later field
// refers to: the message is then decoded whole, and the field gets it.
func TestAdvancedDecodeReferenceIntoSkipped(t *testing.T) {
	o := map[string]any{"x": 1.0}
	var v struct {
		B map[string]any `json:"b"`
		C *advInner      `json:"c"`
	}
	p := payload(t, map[string]any{"a": o, "b": o, "c": map[string]any{"deep": "d"}})
	if err := ipc.Advanced.Unmarshal(p, &v); err != nil || v.B["x"] != 1.0 || v.C.Deep != "d" {
		t.Fatalf("decoded %+v (%v)", v, err)
	}
}
