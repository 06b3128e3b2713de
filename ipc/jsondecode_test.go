package ipc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type myString string

type fastInner struct {
	X int    `json:"x"`
	Y string `json:"y"`
}

// fastAll has a field of every kind decodeFast takes and of several it
// leaves to json.Unmarshal.
type fastAll struct {
	B     bool
	I     int `json:"i"`
	I8    int8
	U16   uint16 `json:"u16,omitempty"`
	U     uint
	F32   float32
	F     float64         `json:"f"`
	S     string          `json:"s"`
	Named myString        `json:"named"`
	R     json.RawMessage `json:"r"`
	A     any             `json:"a"`
	P     *fastAll        `json:"p"`
	L     []int           `json:"l"`
	LS    []fastInner     `json:"ls"`
	M     map[string]int  `json:"m"`
	MA    map[string]any  `json:"ma"`
	Skip  int             `json:"-"`
	//lint:ignore SA5008 a field named "-", as encoding/json reads the tag
	Dash  int `json:"-,"`
	lower int
	T     time.Time    `json:"t"`     // decodes itself
	Bytes []byte       `json:"bytes"` // base64
	Arr   [2]int       `json:"arr"`
	Num   json.Number  `json:"num"`
	Iface fmt.Stringer `json:"iface"`
	Case1 int          `json:"case"`
	Case2 int          `json:"CASE"`
}

type embeds struct {
	fastInner
	Z int
}

type quoted struct {
	N int `json:"n,string"`
}

type odd struct {
	N int `json:"n.m"`
}

// tagged has names that fold alike, of which a key that names none
// exactly picks the first, and names of every sort of byte decodeFast
// takes.
type tagged struct {
	AB int `json:"ab"`
	Ab int `json:"AB"`
	Ba int `json:"aB"`
	K  int `json:"k"`
	S  int `json:"s"`
	//lint:ignore SA5008 a field named "-", as encoding/json reads the tag
	Dash  int `json:"-,"`
	Under int `json:"_"`
	Digit int `json:"0"`
	Mixed int `json:"f-g_h"`
}

// node refers to itself.
type node struct {
	Name string          `json:"name"`
	Next *node           `json:"next"`
	Kids []node          `json:"kids"`
	M    map[string]node `json:"m"`
}

type (
	intSlice  []int
	stringMap map[string]string
	innerPtr  *fastInner
)

// named has fields of named slice, map and pointer types.
type named struct {
	S intSlice  `json:"is"`
	M stringMap `json:"sm"`
	P innerPtr  `json:"ap"`
}

// shared holds references that share what they point to, as a value
// decoded into before may: what is written through one shows through the
// other until decoding points it elsewhere.
type shared struct {
	L1 []fastInner     `json:"l1"`
	L2 []fastInner     `json:"l2"`
	P1 *fastInner      `json:"p1"`
	P2 *fastInner      `json:"p2"`
	M1 map[string]int  `json:"m1"`
	M2 map[string]int  `json:"m2"`
	R1 json.RawMessage `json:"r1"`
	R2 json.RawMessage `json:"r2"`
}

func newShared() *shared {
	elems, p, m, raw := make([]fastInner, 1), &fastInner{}, map[string]int{}, []byte(`"zz"----`)
	return &shared{L1: elems, L2: elems, P1: p, P2: p, M1: m, M2: m, R1: raw[:0], R2: raw[:4]}
}

// destinations returns fresh destinations for one text, some of them
// holding values already, as json.Unmarshal decodes into what is there.
func destinations() []any {
	x := 7
	held := any(&x)
	prefilled := fastAll{
		I: 5, S: "old", L: []int{9, 9, 9}, LS: []fastInner{{X: 1, Y: "a"}, {X: 2, Y: "b"}},
		M: map[string]int{"keep": 1}, P: &fastAll{I: 3, S: "inner"}, R: json.RawMessage("1234567890"),
		A: &x, lower: 4, Skip: 6,
	}
	var inner *fastInner
	cycle := &node{Name: "root", Kids: make([]node, 1, 2)}
	cycle.Next = cycle
	return []any{
		new(any), &held, new(int), new(int8), new(uint8), new(uint64), new(float32), new(float64),
		new(string), new(bool), new(json.RawMessage), new([]any), new(map[string]any),
		new(map[string]fastInner), new(map[myString]int), new([]fastAll), &inner, new(*int),
		new(fastAll), &prefilled, new(fastInner), new(embeds), new(quoted), new(odd), new([]byte),
		new([2]int), new(json.Number), new(time.Time), &[]int{1, 2, 3}, &map[string]int{"a": 1},
		newShared(), new(tagged), new(node), cycle, new(named), &named{S: intSlice{7}, P: &fastInner{X: 4}},
		new(optioned),
	}
}

// optioned has tag options encoding/json ignores, but not with
// GOEXPERIMENT=jsonv2.
type optioned struct {
	A int            `json:"a,unknown"`
	M map[string]int `json:"m,inline"`
	Z int            `json:"z,omitzero"`
}

// agree decodes data into each destination with Unmarshal and with
// json.Unmarshal and fails unless the values and errors are the same.
func agree(t *testing.T, data []byte) {
	t.Helper()
	ours, theirs := destinations(), destinations()
	for i := range ours {
		errOurs := JSON.Unmarshal(data, ours[i])
		errTheirs := json.Unmarshal(data, theirs[i])
		if fmt.Sprint(errOurs) != fmt.Sprint(errTheirs) {
			t.Fatalf("%q into %T: error %v, json.Unmarshal's %v", data, ours[i], errOurs, errTheirs)
		}
		if !reflect.DeepEqual(ours[i], theirs[i]) {
			t.Fatalf("%q into %T:\n got %#v\nwant %#v", data, ours[i], reflect.ValueOf(ours[i]).Elem(), reflect.ValueOf(theirs[i]).Elem())
		}
	}
}

var decodeSeeds = []string{
	`{"a":1}`, `{"m":{"x":1},"y":2}`, `{"z":3}`,
	`{"i":1}`, `{"i":-0}`, `{"i":1.5}`, `{"i":1e3}`, `{"i":9223372036854775807}`, `{"i":9223372036854775808}`,
	`{"i":-9223372036854775808}`, `{"I8":127}`, `{"I8":128}`, `{"U16":65535,"u16":65536}`, `{"U":-1}`, `{"U":-0}`,
	`{"U":18446744073709551615}`, `{"U":18446744073709551616}`, `{"F32":3.5e38}`, `{"F32":1e39}`, `{"f":1e400}`,
	`{"f":-0.0}`, `{"s":"a\"b"}`, `{"s":"\u00e9\ud800"}`, "{\"s\":\"\xff\"}", `{"s":1}`, `{"named":"n"}`,
	`{"r":[1, {"a" : 2}] }`, `{"r":null}`, `{"a":{"x":[1,"2",true,null,{}]}}`, `{"a":1e400}`, `{"a":null}`,
	`{"p":{"i":2,"p":{"s":"deep"}}}`, `{"p":null}`, `{"p":1}`, `{"l":[1,2]}`, `{"l":[]}`, `{"l":null}`,
	`{"l":[1,"x",3]}`, `{"ls":[{"x":5}]}`, `{"ls":[{"y":"z"},{"x":1},{"x":2}]}`, `{"m":{"a":1,"b":null}}`,
	`{"m":{"a":"x"}}`, `{"ma":{"k":[1]}}`, `{"-":1,"Skip":2,"Dash":3}`, `{"lower":1}`, `{"t":"2024-01-02T03:04:05Z"}`,
	`{"t":5}`, `{"bytes":"aGk="}`, `{"bytes":[1,2]}`, `{"arr":[1,2,3]}`, `{"num":12}`, `{"num":"12"}`,
	`{"iface":null}`, `{"iface":1}`, `{"case":1,"CASE":2}`, `{"Case":3}`, `{"I":4}`, `{"\u0069":5}`,
	"{\"\u212a\":1}", `{"x":1,"X":2}`, `{"s":"a","s":"b"}`, `{"B":true,"B":1}`, `{"unknown":{"deep":[1,2,{"x":3}]}}`,
	`{"n":"12"}`, `{"n.m":3}`, `{"Z":1,"x":2}`, `1`, `-1`, `255`, `256`, `1.5`, `"s"`, `true`, `null`,
	`[1,2,3,4]`, `[]`, `[{"i":1},{"s":"t"}]`, `{"a":1}`, `{}`, ` { "i" : 1 , "s" : "x" } `, `[null]`,
	`"aGk="`, `"2024-01-02T03:04:05Z"`, `{"x":1,"y":"z"}`, `{"k":{"x":1}}`, `{"k":null}`, `{"B":null,"i":null}`,
	`{"p":{"a":{"b":1}},"p":{"i":1}}`, `{"ls":null}`, `{"r":"\u2028"}`, `nul`, `{"i":1`, ``,
	`{"ab":1,"Ab":2,"aB":3}`, `{"AB":1,"ab":2,"Ba":3}`, "{\"\u212a\":1,\"\u017f\":2,\"K\":3,\"S\":4}",
	`{"-":1,"_":2,"0":3,"F-G_H":4,"Dash":5}`, `{"name":"x","next":{"name":"y","next":null},"kids":[{"name":"k"},{"kids":[{}]}]}`,
	`{"next":{"next":{"name":"z"}},"kids":[{"name":"a"},{"name":"b"}]}`, `{"m":{"a":{"name":"b","m":{}}}}`,
	`{"is":[1,2],"sm":{"a":"b"},"ap":{"x":1}}`, `{"is":null,"ap":null}`, `{"is":[],"sm":{},"ap":{"y":"q"}}`,
	// null points a pointer, map or slice that shared elsewhere away from
	// what it shared, and the value after it is refused.
	`{"p2":{"x":2},"p1":{"x":1},"p1":null,"l1":1}`, `{"m2":{"a":2},"m1":{"a":1},"m1":null,"l1":1}`,
	`{"l2":[{"x":5}],"l1":[{"x":7}],"l1":null,"p1":1}`,
	// The same when a slice that shared grows past its capacity or is
	// emptied by [].
	`{"l2":[{"x":5}],"l1":[{"x":7},{"x":8}],"p1":1}`, `{"l2":[{"x":5}],"l1":[{"x":7}],"l1":[],"p1":1}`,
	// Or a json.RawMessage that shared outgrows its capacity.
	`{"r2":"ab","r1":"x","r1":"longer than eight","l1":1}`,
}

func TestDecodeFastAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		agree(t, []byte(s))
	}
}

// FuzzDecodeFast checks Unmarshal, with its fast path, against
// json.Unmarshal for every destination of destinations.
//
//	go test -run='^$' -fuzz=FuzzDecodeFast -fuzztime=5m ./ipc/
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, data) })
}

// TestDecodeFastRawMessageInText decodes into a json.RawMessage whose
// array holds the text being decoded, at every offset: copying a value
// into it rewrites the text ahead of the decoder, and Unmarshal must do
// what json.Unmarshal does then, panic included.
func TestDecodeFastRawMessageInText(t *testing.T) {
	const text = `{"r":[1,2,3,4,5,6,7,8],"s":"abc","i":1}`
	for off := range len(text) {
		if got, want := decodeIntoText(JSON.Unmarshal, text, off), decodeIntoText(json.Unmarshal, text, off); got != want {
			t.Errorf("array at offset %d of the text: got %s, json.Unmarshal %s", off, got, want)
		}
	}
}

// decodeIntoText decodes text with unmarshal into a struct whose
// json.RawMessage starts at offset off of the text decoded, and describes
// the outcome.
func decodeIntoText(unmarshal func([]byte, any) error, text string, off int) (outcome string) {
	data := []byte(text)
	var v struct {
		R json.RawMessage `json:"r"`
		S string          `json:"s"`
		I int             `json:"i"`
	}
	v.R = data[off:off]
	defer func() {
		if r := recover(); r != nil {
			outcome = fmt.Sprint("panic: ", r)
		}
	}()
	err := unmarshal(data, &v)
	return fmt.Sprintf("%q %q %d %v", v.R, v.S, v.I, err)
}

// selfPointer is a pointer to itself: json.Unmarshal follows it forever.
type selfPointer *selfPointer

// TestDecodeFastRefusesEndlessPointers checks that the fast path leaves
// to json.Unmarshal (which loops forever on them, so they are not among
// the destinations) pointer types whose chain of pointers never ends,
// instead of overflowing the stack following them.
func TestDecodeFastRefusesEndlessPointers(t *testing.T) {
	type other *selfPointer
	var p selfPointer
	p = &p
	for _, v := range []any{&p, new(selfPointer), new(other), new(*other)} {
		if decodeFast([]byte(`1`), v) {
			t.Errorf("1 into %T: decoded", v)
		}
	}
}

// TestDecodeFastTakesCommonMessages checks that the fast path, not
// json.Unmarshal, decodes the messages a channel mostly carries.
func TestDecodeFastTakesCommonMessages(t *testing.T) {
	type task struct {
		Pool  string          `json:"pool"`
		ID    *uint64         `json:"id,omitempty"`
		Value json.RawMessage `json:"value,omitempty"`
	}
	for _, c := range []struct {
		text string
		dst  any
	}{
		{`{"i":12345}`, new(struct{ I int })},
		{`{"pool":"result","id":7,"value":{"a":[1,2]}}`, new(task)},
		{`{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}`, new(any)},
		{`{"x":{"x":1},"y":{"y":"é"}}`, new(map[string]fastInner)},
		{`[{"x":1,"y":"z"}]`, new([]fastInner)},
		{`{"I":1,"s":"x","pool":"y"}`, new(fastAll)}, // "I" names I without regard to case, "pool" no field
		{`"text"`, new(string)},
		{`42`, new(int)},
	} {
		if !decodeFast([]byte(c.text), c.dst) {
			t.Errorf("%s into %T: left to json.Unmarshal", c.text, c.dst)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	msg := []byte(`{"pool":"result","id":12345,"value":{"x":1,"y":"` + strings.Repeat("y", 32) + `"}}`)
	type task struct {
		Pool  string          `json:"pool"`
		ID    *uint64         `json:"id,omitempty"`
		Value json.RawMessage `json:"value,omitempty"`
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var m task
			if !decodeFast(msg, &m) {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var m task
			if err := json.Unmarshal(msg, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
